"""A variant's lift over the holdout, with 95% intervals, and no I/O.

- Conversion rate: the difference of two proportions with Newcombe's hybrid
  score interval (Newcombe 1998, "Interval estimation for the difference between
  independent proportions", method 10): each group's Wilson score interval,
  combined by the square-and-add rule. It keeps its coverage near 95% for small
  groups and for rates near 0, where the plain Wald interval does not, and it
  never leaves [-1, 1].
- Revenue per customer: the difference of two means with Welch's interval
  (unequal variances, Welch-Satterthwaite degrees of freedom). A customer who
  did not convert counts with revenue 0, so the means are revenue / customers.
  The t quantile comes from Hill's approximation (Hill 1970, CACM Algorithm 396,
  the start of R's qt for non-integer degrees of freedom): no scipy at run time.
  It is poor below 3 degrees of freedom (17% off at df 1.01), but Welch's df is
  at least min(n1, n0) - 1 >= 9 here (groups below MIN_GROUP_CUSTOMERS get no
  interval), where its relative error against scipy.stats.t.ppf is below 1e-7
  (tests/unit/campaigns/test_campaigns_lift.py checks a grid from df 9 to 1e16).
- Relative lift: the absolute difference divided by the holdout's value, or None
  when the holdout's value is 0 (no division by zero, ever).

A group with fewer than MIN_GROUP_CUSTOMERS customers is "not enough data": the
lift carries `enough_data: False` and a `reason`, its interval is None.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

CONFIDENCE = 0.95
MIN_GROUP_CUSTOMERS = 10
_Z = NormalDist().inv_cdf(0.5 + CONFIDENCE / 2)  # 1.959963984540054


@dataclass(frozen=True)
class GroupOutcome:
    """What a group did within the window: `revenue_squares` is the sum over its
    customers of (that customer's revenue)^2, which the revenue variance needs."""

    customers: int
    converted: int
    revenue: float
    revenue_squares: float

    @property
    def conversion_rate(self) -> float | None:
        return self.converted / self.customers if self.customers else None

    @property
    def revenue_per_customer(self) -> float | None:
        return self.revenue / self.customers if self.customers else None

    @property
    def revenue_variance(self) -> float | None:
        """Sample variance (n - 1) of revenue per customer, zeros included."""
        if self.customers < 2:
            return None
        n = self.customers
        return max(self.revenue_squares - self.revenue * self.revenue / n, 0.0) / (n - 1)


def wilson_interval(successes: int, trials: int, z: float = _Z) -> tuple[float, float]:
    """The Wilson score interval of a proportion (trials > 0)."""
    p = successes / trials
    denominator = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denominator
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denominator
    return max(centre - half, 0.0), min(centre + half, 1.0)


def newcombe_interval(x1: int, n1: int, x0: int, n0: int, z: float = _Z) -> tuple[float, float]:
    """Newcombe's hybrid score interval for p1 - p0 (both n > 0)."""
    p1, p0 = x1 / n1, x0 / n0
    low1, high1 = wilson_interval(x1, n1, z)
    low0, high0 = wilson_interval(x0, n0, z)
    difference = p1 - p0
    return (difference - math.sqrt((p1 - low1) ** 2 + (high0 - p0) ** 2),
            difference + math.sqrt((high1 - p1) ** 2 + (p0 - low0) ** 2))


def t_quantile(p: float, df: float) -> float:
    """The p-quantile (0 < p < 1) of Student's t (Hill 1970; accurate for df >= 5)."""
    if p == 0.5:
        return 0.0
    upper = p > 0.5
    two_sided = 2 * (1 - p) if upper else 2 * p
    value = _hill_upper(two_sided, df)
    return value if upper else -value


def _hill_upper(p: float, n: float) -> float:
    """t with P(|T| > t) = p (Hill's Algorithm 396, as in R's qt for real df)."""
    if n > 1e15:
        return -NormalDist().inv_cdf(p / 2)
    a = 1 / (n - 0.5)
    b = 48 / (a * a)
    c = ((20700 * a / b - 98) * a - 16) * a + 96.36
    d = ((94.5 / (b + c) - 3) / b + 1) * math.sqrt(a * math.pi / 2) * n
    y = (d * p) ** (2 / n)
    if y > 0.05 + a:
        x = NormalDist().inv_cdf(p / 2)
        y = x * x
        if n < 5:
            c += 0.3 * (n - 4.5) * (x + 0.6)
        c = (((0.05 * d * x - 5) * x - 7) * x - 2) * x + b + c
        y = (((((0.4 * y + 6.3) * y + 36) * y + 94.5) / c - y - 3) / b + 1) * x
        y = math.expm1(a * y * y)
    else:
        y = ((1 / (((n + 6) / (n * y) - 0.089 * d - 0.822) * (n + 2) * 3)
              + 0.5 / (n + 4)) * y - 1) * (n + 1) / (n + 2) + 1 / y
    return math.sqrt(n * y)


def welch_interval(mean1: float, var1: float, n1: int, mean0: float, var0: float,
                   n0: int) -> tuple[float, float] | None:
    """Welch's interval for mean1 - mean0 (both n >= MIN_GROUP_CUSTOMERS, so df >= 9);
    None when neither group varies."""
    share1, share0 = var1 / n1, var0 / n0
    standard_error = math.sqrt(share1 + share0)
    if standard_error == 0:
        return None
    df = (share1 + share0) ** 2 / (share1 ** 2 / (n1 - 1) + share0 ** 2 / (n0 - 1))
    margin = t_quantile(0.5 + CONFIDENCE / 2, df) * standard_error
    difference = mean1 - mean0
    return difference - margin, difference + margin


def lift_vs_holdout(variant: GroupOutcome, holdout: GroupOutcome) -> dict:
    """{"conversion_rate": lift, "revenue_per_customer": lift}, each lift
    {absolute, relative, ci95, enough_data, reason, method}."""
    reason = _not_enough(variant, holdout)
    return {"conversion_rate": _conversion_lift(variant, holdout, reason),
            "revenue_per_customer": _revenue_lift(variant, holdout, reason)}


def _not_enough(variant: GroupOutcome, holdout: GroupOutcome) -> str | None:
    if holdout.customers == 0:
        return "The campaign has no holdout group to compare with."
    smallest = min(variant.customers, holdout.customers)
    if smallest < MIN_GROUP_CUSTOMERS:
        return (f"Not enough data: a group has {smallest} customers "
                f"(at least {MIN_GROUP_CUSTOMERS} are needed).")
    return None


def _lift(value: float | None, base: float | None, ci, reason, method: str) -> dict:
    if value is None or base is None:
        return {"absolute": None, "relative": None, "ci95": None, "enough_data": False,
                "reason": reason, "method": method}
    absolute = value - base
    return {"absolute": absolute, "relative": absolute / base if base else None,
            "ci95": None if reason or ci is None else [ci[0], ci[1]],
            "enough_data": reason is None and ci is not None,
            "reason": reason or (None if ci is not None else
                                 "No customer of either group has revenue: nothing varies."),
            "method": method}


def _conversion_lift(variant: GroupOutcome, holdout: GroupOutcome, reason) -> dict:
    ci = None if reason else newcombe_interval(variant.converted, variant.customers,
                                               holdout.converted, holdout.customers)
    return _lift(variant.conversion_rate, holdout.conversion_rate, ci, reason,
                 "newcombe-wilson")


def _revenue_lift(variant: GroupOutcome, holdout: GroupOutcome, reason) -> dict:
    ci = None if reason else welch_interval(
        variant.revenue_per_customer, variant.revenue_variance, variant.customers,
        holdout.revenue_per_customer, holdout.revenue_variance, holdout.customers)
    return _lift(variant.revenue_per_customer, holdout.revenue_per_customer, ci, reason,
                 "welch")
