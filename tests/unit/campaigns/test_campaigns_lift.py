"""campaigns.results.lift against values computed independently by statsmodels and scipy."""
from __future__ import annotations

import numpy as np
import pytest
from campaigns.results.lift import GroupOutcome
from campaigns.results import lift
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.proportion import confint_proportions_2indep, proportion_confint


@pytest.mark.parametrize("successes,trials", [(0, 10), (1, 10), (5, 10), (10, 10), (37, 1000),
                                              (0, 20000), (19999, 20000)])
def test_wilson_matches_statsmodels(successes, trials):
    expected = proportion_confint(successes, trials, alpha=0.05, method="wilson")
    assert lift.wilson_interval(successes, trials) == pytest.approx(expected, abs=1e-12)


@settings(max_examples=300, deadline=None)
@given(n1=st.integers(1, 50_000), n0=st.integers(1, 50_000), data=st.data())
def test_newcombe_matches_statsmodels(n1, n0, data):
    x1 = data.draw(st.integers(0, n1))
    x0 = data.draw(st.integers(0, n0))
    expected = confint_proportions_2indep(x1, n1, x0, n0, method="newcomb", compare="diff",
                                          alpha=0.05)
    assert lift.newcombe_interval(x1, n1, x0, n0) == pytest.approx(expected, abs=1e-9)


def test_newcombe_published_example():
    # Newcombe 1998, Table II, example (a): 56/70 vs 48/80 -> method 10: 0.0524 to 0.3339.
    low, high = lift.newcombe_interval(56, 70, 48, 80)
    assert (round(low, 4), round(high, 4)) == (0.0524, 0.3339)


@pytest.mark.parametrize("p", [0.9, 0.975, 0.995])
def test_t_quantile_matches_scipy_where_welch_uses_it(p):
    for df in np.geomspace(9, 1e16, 500):
        assert lift.t_quantile(p, df) == pytest.approx(stats.t.ppf(p, df), rel=1e-7)
    assert lift.t_quantile(1 - p, 30.5) == pytest.approx(stats.t.ppf(1 - p, 30.5), rel=1e-7)
    assert lift.t_quantile(0.5, 12) == 0.0


def _outcome(revenues: np.ndarray) -> GroupOutcome:
    return GroupOutcome(customers=len(revenues), converted=int((revenues > 0).sum()),
                        revenue=float(revenues.sum()),
                        revenue_squares=float((revenues ** 2).sum()))


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2 ** 32 - 1), n1=st.integers(10, 3000), n0=st.integers(10, 3000))
def test_welch_matches_scipy(seed, n1, n0):
    rng = np.random.default_rng(seed)
    # Revenue per customer as a shop sees it: most customers 0, some orders of a few thousand.
    variant = np.where(rng.random(n1) < 0.2, rng.gamma(2.0, 1500.0, n1).round(2), 0.0)
    holdout = np.where(rng.random(n0) < 0.1, rng.gamma(2.0, 1500.0, n0).round(2), 0.0)
    variant[0], holdout[0] = 999.0, 0.0  # at least one group varies
    expected = stats.ttest_ind(variant, holdout, equal_var=False).confidence_interval(0.95)
    mine, base = _outcome(variant), _outcome(holdout)
    got = lift.welch_interval(mine.revenue_per_customer, mine.revenue_variance, mine.customers,
                              base.revenue_per_customer, base.revenue_variance, base.customers)
    # Hill's t is within 1e-7 of scipy's at df >= 9: the bounds agree to a millionth of
    # the interval's width (the sums of squares add a little float rounding).
    width = expected.high - expected.low
    assert abs(got[0] - expected.low) <= 1e-6 * width
    assert abs(got[1] - expected.high) <= 1e-6 * width


def test_lift_vs_holdout_reports_both_metrics():
    variant = GroupOutcome(customers=800, converted=120, revenue=240_000.0,
                           revenue_squares=120 * 2000.0 ** 2 + 1e6)
    holdout = GroupOutcome(customers=200, converted=20, revenue=30_000.0,
                           revenue_squares=20 * 1500.0 ** 2)
    result = lift.lift_vs_holdout(variant, holdout)
    rate = result["conversion_rate"]
    assert rate["absolute"] == pytest.approx(0.15 - 0.10)
    assert rate["relative"] == pytest.approx(0.5)
    assert rate["ci95"] == pytest.approx(list(lift.newcombe_interval(120, 800, 20, 200)))
    assert rate["enough_data"] is True and rate["method"] == "newcombe-wilson"
    revenue = result["revenue_per_customer"]
    assert revenue["absolute"] == pytest.approx(300.0 - 150.0)
    assert revenue["relative"] == pytest.approx(1.0)
    assert revenue["ci95"][0] < 150.0 < revenue["ci95"][1]


@pytest.mark.parametrize("variant_customers,holdout_customers", [(0, 0), (100, 0), (0, 100),
                                                                 (9, 100), (100, 9)])
def test_empty_or_tiny_groups_are_not_enough_data(variant_customers, holdout_customers):
    variant = GroupOutcome(variant_customers, min(variant_customers, 3), 300.0 * bool(
        variant_customers), 9e4 * bool(variant_customers))
    holdout = GroupOutcome(holdout_customers, 0, 0.0, 0.0)
    result = lift.lift_vs_holdout(variant, holdout)
    for metric in result.values():
        assert metric["enough_data"] is False
        assert metric["ci95"] is None
        assert metric["reason"]


def test_a_holdout_with_nothing_has_no_relative_lift():
    variant = GroupOutcome(customers=50, converted=5, revenue=5000.0, revenue_squares=5e6)
    holdout = GroupOutcome(customers=50, converted=0, revenue=0.0, revenue_squares=0.0)
    result = lift.lift_vs_holdout(variant, holdout)
    assert result["conversion_rate"]["relative"] is None
    assert result["conversion_rate"]["absolute"] == pytest.approx(0.1)
    assert result["conversion_rate"]["ci95"] is not None
    assert result["revenue_per_customer"]["relative"] is None


def test_no_revenue_anywhere_has_no_interval_but_no_error():
    nothing = GroupOutcome(customers=100, converted=0, revenue=0.0, revenue_squares=0.0)
    result = lift.lift_vs_holdout(nothing, nothing)
    assert result["revenue_per_customer"]["absolute"] == 0.0
    assert result["revenue_per_customer"]["ci95"] is None
    assert result["revenue_per_customer"]["enough_data"] is False
    assert result["conversion_rate"]["ci95"] is not None
