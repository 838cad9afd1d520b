"""Scenario `segment_preview_<n>`: audience previews through the gateway over n profiles.

n generated profiles are written straight into the projection's collection
(projecting a million profiles from events would measure the projector, which
the ingest scenario does); the suite starts and the segments service loads
its index; then each of five rule shapes is previewed repeatedly through the
gateway. In the same run, the floor: the same counts done with numpy over
plain arrays in this process.
"""
from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

import numpy as np
import psutil
import requests

from bench.suite import api_session, progress, running_suite
from segments.projection.profiles import BOOKKEEPING
from segments.synthetic import synthetic_profiles
from shared.mongo import connect

NOW = datetime.now(UTC).replace(microsecond=0)
RULES = {
    "one_condition": {"field": "total_spend", "op": "gt", "value": 10000},
    "spent_10k_at_most_3_visits": {"all": [{"field": "total_spend", "op": "gt", "value": 10000},
                                           {"field": "visits", "op": "lte", "value": 3}]},
    "inactive_3_months": {"field": "last_active_at", "op": "older_than", "value": "3mo"},
    "nested_3_levels": {"all": [
        {"any": [{"field": "city", "op": "in", "value": ["Mumbai", "Pune", "Delhi"]},
                 {"all": [{"field": "tags", "op": "eq", "value": "vip"},
                          {"not": {"field": "visits", "op": "lt", "value": 2}}]}]},
        {"field": "order_count", "op": "gte", "value": 1}]},
    "ordered_within_30d": {"field": "last_order_at", "op": "within", "value": "30d"},
}
REPEATS = 40


def _document(profile: dict) -> dict:
    return {"_id": profile["external_id"], **profile,
            BOOKKEEPING: {"customer_event": {"occurred_at": NOW, "event_id": "bench"},
                          "order_ids": [], "spend_exact": str(profile["total_spend"]),
                          "version": 1}}


def _write_profiles(settings, profiles: list[dict]) -> None:
    client = connect(settings)
    collection = client[settings.database_name("segments")]["profiles"]
    for start in range(0, len(profiles), 2000):
        collection.insert_many([_document(p) for p in profiles[start:start + 2000]], ordered=False)
        if start % 100_000 == 0:
            progress(f"wrote {start + 2000} profiles")
    client.close()


def _floor_ms(profiles: list[dict]) -> dict[str, float]:
    """The same counts with numpy over plain arrays: the least a count can cost."""
    spend = np.array([p["total_spend"] for p in profiles])
    visits = np.array([np.nan if p["visits"] is None else p["visits"] for p in profiles])
    orders = np.array([p["order_count"] for p in profiles])
    never = np.iinfo(np.int64).min
    active = np.array([p["last_active_at"].timestamp() if p["last_active_at"] else never
                       for p in profiles], dtype=np.int64)
    ordered = np.array([p["last_order_at"].timestamp() if p["last_order_at"] else never
                        for p in profiles], dtype=np.int64)
    cities = np.array([p["city"] or "" for p in profiles])
    vip = np.array(["vip" in p["tags"] for p in profiles])
    now = int(time.time())
    shapes = {
        "one_condition": lambda: spend > 10000,
        "spent_10k_at_most_3_visits": lambda: (spend > 10000) & (visits <= 3),
        "inactive_3_months": lambda: active < now - 90 * 86400,
        "nested_3_levels": lambda: (np.isin(cities, ["Mumbai", "Pune", "Delhi"])
                                    | (vip & ~(visits < 2))) & (orders >= 1),
        "ordered_within_30d": lambda: (ordered != never) & (ordered >= now - 30 * 86400),
    }
    floors = {}
    for name, count in shapes.items():
        times = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            int(np.count_nonzero(count()))
            times.append((time.perf_counter() - started) * 1000)
        floors[name] = statistics.median(times)
    return floors


def _segments_rss_mb(port: int) -> float | None:
    for connection in psutil.net_connections("tcp"):
        if connection.laddr and connection.laddr.port == port and connection.status == "LISTEN":
            master = psutil.Process(connection.pid)
            return round(sum(p.memory_info().rss for p in [master, *master.children()]) / 2**20, 1)
    return None


def _wait_index_loaded(session: requests.Session, gateway: str, size: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = session.post(f"{gateway}/api/v1/segments/preview",
                              json={"rules": RULES["one_condition"]})
        if answer.status_code == 200 and answer.json().get("index_size", 0) >= size:
            return
        time.sleep(5)
    raise SystemExit(f"the segments index did not load {size} profiles in {timeout}s")


def run(n: int) -> dict:
    profiles = list(synthetic_profiles(n, seed=3, now=NOW))
    with running_suite(ready_timeout=1800, before_start=lambda s: _write_profiles(s, profiles)) \
            as (settings, gateway):
        session = api_session(settings)
        _wait_index_loaded(session, gateway, n, timeout=1800)
        shapes = {}
        for name, rule in RULES.items():
            times = []
            for _ in range(REPEATS):
                started = time.perf_counter()
                answer = session.post(f"{gateway}/api/v1/segments/preview", json={"rules": rule})
                times.append((time.perf_counter() - started) * 1000)
                answer.raise_for_status()
            shapes[name] = {"count": answer.json()["count"],
                            "p50_ms": round(statistics.median(times), 1),
                            "p95_ms": round(float(np.percentile(times, 95)), 1)}
        rss = _segments_rss_mb(int(settings.service_urls["segments"].rsplit(":", 1)[1]))
    floors = _floor_ms(profiles)
    p95 = max(shape["p95_ms"] for shape in shapes.values())
    floor = max(floors.values())
    for name, shape in shapes.items():
        shape["floor_ms"] = round(floors[name], 2)
    label = f"{n // 1_000_000}m" if n >= 1_000_000 else f"{n // 1000}k"
    return {"scenario": f"segment_preview_{label}", "profiles": n, "shapes": shapes,
            "p95_ms": p95, "floor_p50_ms": round(floor, 2),
            "ratio_to_floor": round(p95 / floor, 1) if floor else None,
            "segments_rss_mb": rss}
