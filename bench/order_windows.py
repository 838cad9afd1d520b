"""Scenario `segment_order_window_1m`: order-window counts in process.

An AudienceIndex of n synthetic profiles (1,000,000 by default) with about 5
orders each, placed over the last two years (segments/synthetic.py), is built
in batches; then each of four rule shapes with an order window (`in_last`) is
counted REPEATS times, p50 and p95 in ms. BESIDE each, measured in the same run
on the same arrays, the floor: the bare mask `placed >= cutoff` and
`np.bincount` of the window (what order_windows.py does, without the rule
tree, the lock or the other conditions). Also the index build time and the
process's resident memory. Target: p95 <= 100 ms at 1M profiles / 5M orders.

    python -m bench --scenario segment_order_window_1m [--profiles 100000]
"""
from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

import numpy as np
import psutil

from segments.audience.index import AudienceIndex
from segments.rules.language import parse_rules
from segments.rules.values import epoch_us
from segments.synthetic import synthetic_profiles

NOW = datetime.now(UTC).replace(microsecond=0)
DAY_US = 86_400_000_000
REPEATS = 30
BATCH = 10_000
WINDOW = {"spend_90d_over_5000": {"field": "total_spend", "op": "gt", "value": 5000,
                                  "in_last": "90d"},
          "orders_30d_at_least_2": {"field": "order_count", "op": "gte", "value": 2,
                                    "in_last": "30d"}}
RULES = {
    **WINDOW,
    "spend_1y_between_in_cities": {"all": [
        {"field": "total_spend", "op": "between", "value": [1000, 20000], "in_last": "1y"},
        {"field": "city", "op": "in", "value": ["Mumbai", "Pune", "Delhi"]}]},
    "nested_window_and_plain": {"any": [
        {"all": [{"field": "total_spend", "op": "gt", "value": 2000, "in_last": "90d"},
                 {"field": "tags", "op": "eq", "value": "vip"}]},
        {"all": [{"not": {"field": "order_count", "op": "gte", "value": 1, "in_last": "180d"}},
                 {"field": "visits", "op": "gte", "value": 5}]}]},
}


def _build(n: int) -> tuple[AudienceIndex, float]:
    """The index, and the seconds spent in upsert_many (not in generating profiles)."""
    index, spent, batch = AudienceIndex(), 0.0, []
    for profile in synthetic_profiles(n, seed=5, now=NOW, orders_per_customer=5.0):
        batch.append(profile)
        if len(batch) == BATCH:
            started = time.perf_counter()
            index.upsert_many(batch)
            spent += time.perf_counter() - started
            batch = []
    started = time.perf_counter()
    index.upsert_many(batch)
    return index, spent + time.perf_counter() - started


def _timed(action) -> dict[str, float]:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return {"p50_ms": round(statistics.median(times), 2),
            "p95_ms": round(times[int(0.95 * (len(times) - 1))], 2)}


def _floor(index: AudienceIndex, days: int, spend: bool):
    """The bare window on the index's own arrays: one mask, one bincount."""
    windows, n = index._windows, len(index._ids)
    rows, placed, amounts = (windows.rows[: windows.size], windows.placed[: windows.size],
                             windows.amounts[: windows.size])
    cutoff = epoch_us(NOW) - days * DAY_US

    def count() -> int:
        inside = placed >= cutoff
        values = np.bincount(rows, weights=amounts * inside if spend else inside, minlength=n)
        return int(np.count_nonzero(values > 1))
    return count


FLOORS = {"spend_90d_over_5000": (90, True), "orders_30d_at_least_2": (30, False),
          "spend_1y_between_in_cities": (365, True), "nested_window_and_plain": (90, True)}


def run(n: int = 1_000_000) -> dict:
    index, build_seconds = _build(n)
    shapes = {}
    for name, raw in RULES.items():
        rule = parse_rules(raw)
        measured = _timed(lambda rule=rule: index.count(rule, NOW))
        floor = _timed(_floor(index, *FLOORS[name]))
        shapes[name] = {**measured, "count": index.count(rule, NOW),
                        "floor_p50_ms": floor["p50_ms"], "floor_p95_ms": floor["p95_ms"]}
    return {"scenario": f"segment_order_window_{n // 1000}k" if n % 1_000_000
            else f"segment_order_window_{n // 1_000_000}m",
            "profiles": len(index), "orders": index._windows.live,
            "index_build_seconds": round(build_seconds, 1),
            "rss_mb": round(psutil.Process().memory_info().rss / 2**20, 1),
            "repeats": REPEATS, "target_p95_ms": 100, "shapes": shapes}
