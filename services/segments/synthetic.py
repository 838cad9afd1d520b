"""Plausible generated profiles for benchmarks, demos and tests."""
from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import numpy as np

_CITIES = ("Mumbai", "Delhi", "Bengaluru", "Hyderabad", "Chennai", "Kolkata", "Pune",
           "Ahmedabad", "Jaipur", "Lucknow", "Kochi", "Indore", "Surat", "Nagpur", "Bhopal")
_TAGS = ("vip", "new", "churn-risk", "wholesale", "newsletter", "app-user", "gold", "silver")
_FIRST = ("Aarav", "Vivaan", "Aditya", "Ananya", "Diya", "Isha", "Kabir", "Meera", "Rohan",
          "Saanvi", "Arjun", "Priya", "Rahul", "Neha", "Vikram", "Kavya", "Ishaan", "Zara")
_LAST = ("Sharma", "Verma", "Iyer", "Reddy", "Nair", "Gupta", "Mehta", "Khan", "Das", "Patel")


_TWO_YEARS_MS = 730 * 86_400_000


def synthetic_profiles(n: int, seed: int = 0, now: datetime | None = None,
                       orders_per_customer: float | None = None) -> Iterator[dict]:
    """Plausible profiles for benchmarks and demos: unique emails, ~15 cities
    (some missing), 0-3 tags, spends and times spread over two years.

    With `orders_per_customer` each profile also lists its `orders` ({"placed_at":
    [epoch ms], "amount": [...]}, oldest first, as profile.updated carries them: Poisson
    many per customer, placed uniformly over the last two years), and its
    order_count, total_spend and last_order_at are theirs. Without it the
    profiles are exactly those of before (the same random draws)."""
    rng = np.random.default_rng(seed)
    now = now or datetime(2025, 1, 1, tzinfo=UTC)
    orders = rng.poisson(2.0, n)
    spend = np.round(orders * rng.gamma(2.0, 900.0, n), 2)
    visits = rng.poisson(8.0, n)
    ages = rng.integers(0, 730 * 86_400, (n, 3))
    city = rng.integers(-2, len(_CITIES), n)
    first, last = rng.integers(0, 18, n), rng.integers(0, 10, n)
    tag_counts, tag_picks = rng.integers(0, 4, n), rng.integers(0, len(_TAGS), (n, 3))
    placed, amounts, starts = None, None, None
    if orders_per_customer is not None:
        orders, placed, amounts, spend = _orders(n, seed, now, orders_per_customer)
        starts = np.cumsum(orders) - orders
    for i in range(n):
        signed_up = now - timedelta(seconds=int(ages[i, 0]))
        visit = None if visits[i] == 0 else now - timedelta(seconds=int(ages[i, 1] // 2))
        order = None if orders[i] == 0 else now - timedelta(seconds=int(ages[i, 2] // 2))
        listed = None
        if placed is not None:
            begin, end = int(starts[i]), int(starts[i] + orders[i])
            listed = {"placed_at": placed[begin:end].tolist(),
                      "amount": amounts[begin:end].tolist()}
            order = (datetime.fromtimestamp(listed["placed_at"][-1] / 1000, UTC)
                     if end > begin else None)
        profile = {
            "external_id": f"cust-{seed}-{i}", "name": f"{_FIRST[first[i]]} {_LAST[last[i]]}",
            "email": f"{_FIRST[first[i]].lower()}.{i}@example.com", "phone": None,
            "city": _CITIES[city[i]] if city[i] >= 0 else None,
            "tags": [_TAGS[t] for t in tag_picks[i, : tag_counts[i]]],
            "signed_up_at": signed_up, "last_visit_at": visit, "last_order_at": order,
            "last_active_at": max((t for t in (visit, order) if t), default=None),
            "visits": None if i % 10 == 0 else int(visits[i]),
            "total_spend": float(spend[i]), "order_count": int(orders[i]),
        }
        if listed is not None:
            profile["orders"] = listed
        yield profile


def _orders(n: int, seed: int, now: datetime, per_customer: float):
    """Per customer its order count; all orders' placed_at (epoch ms) and amounts,
    each customer's contiguous and oldest first; per customer the spend."""
    rng = np.random.default_rng((seed, 1))
    counts = rng.poisson(per_customer, n)
    owner = np.repeat(np.arange(n), counts)
    now_ms = int(now.timestamp() * 1000)
    placed = now_ms - rng.integers(0, _TWO_YEARS_MS, len(owner))
    amounts = np.round(rng.gamma(2.0, 450.0, len(owner)) + 1.0, 2)
    by_owner = np.lexsort((placed, owner))
    placed, amounts = placed[by_owner], amounts[by_owner]
    spend = np.round(np.bincount(owner, weights=amounts, minlength=n), 2)
    return counts, placed, amounts, spend
