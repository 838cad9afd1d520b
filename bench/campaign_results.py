"""Scenario `campaign_results_100k`: a 100,000-recipient campaign with a 20% holdout
and two variants, then 200,000 orders placed after launch; how fast the orders are
attributed and how fast the results read.

Profiles are written straight into the segments projection (as in
campaign_100k), the campaign is launched through the gateway and awaited until
`completed`. The orders are then appended to ingest's own event log in batches
of 1,000 and published (the path `POST /api/v1/orders` ends in, without its
validation, since these customers were never ingested), for random audience
members, placed within 6 days after launch. Reported:
- attribution_lag_seconds: from the last append to the first results read that
  counts every order (reads once a second, so within a second);
- orders_per_second: orders / (first append to that read);
- results_read_ms: p50 / p95 / max of 50 reads of `GET .../results` through the
  gateway once attribution is done (target: 200 ms).
"""
from __future__ import annotations

import random
import statistics
import time
import uuid
from datetime import timedelta

from bench.campaigns import CITY, RULES, _parse, _wait_audience, _write_profiles
from bench.suite import api_session, progress, running_suite
from shared.backbone.envelope import new_event
from shared.backbone.events import ORDER_PLACED
from shared.backbone.outbox import service_event_log
from shared.mongo import connect

VARIANTS = [{"name": "A", "message": "Hi {first_name|there}, 10% off in {city}!", "weight": 50},
            {"name": "B", "message": "{first_name|Friend}, free delivery this week!",
             "weight": 50}]
BATCH = 1000


def _launch(session, gateway: str) -> dict:
    answer = session.post(f"{gateway}/api/v1/campaigns", timeout=60, json={
        "name": "Bench results", "rules": RULES, "variants": VARIANTS, "holdout_percent": 20})
    answer.raise_for_status()
    cid = answer.json()["id"]
    deadline = time.monotonic() + 900
    while time.monotonic() < deadline:
        campaign = session.get(f"{gateway}/api/v1/campaigns/{cid}", timeout=30).json()
        if campaign["status"] == "completed":
            return campaign
        if campaign["status"] == "failed":
            raise SystemExit(f"the campaign failed: {campaign}")
        time.sleep(2)
    raise SystemExit("the campaign did not complete in 900 s")


def _orders(customers: list[str], launched_at, count: int, rng: random.Random):
    for n in range(count):
        placed = launched_at + timedelta(seconds=rng.uniform(60, 6 * 86400))
        yield new_event(ORDER_PLACED, {
            "external_id": f"bench-o{n}", "customer_external_id": rng.choice(customers),
            "amount": round(rng.uniform(100, 5000), 2), "placed_at": placed.isoformat()},
            producer="ingest", event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, f"bench-o{n}")))


def _results_orders(session, gateway: str, cid: str) -> int:
    body = session.get(f"{gateway}/api/v1/campaigns/{cid}/results?window_days=7",
                       timeout=30).json()
    return sum(group["orders"] for group in [body["holdout"], *body["variants"]])


def _read_times(session, gateway: str, cid: str, reads: int = 50) -> dict:
    times = []
    for _ in range(reads):
        started = time.perf_counter()
        answer = session.get(f"{gateway}/api/v1/campaigns/{cid}/results?window_days=7",
                             timeout=30)
        answer.raise_for_status()
        times.append(1000 * (time.perf_counter() - started))
    times.sort()
    return {"p50": round(statistics.median(times), 1),
            "p95": round(times[int(0.95 * (len(times) - 1))], 1), "max": round(times[-1], 1)}


def run(n: int = 100_000, orders: int = 200_000) -> dict:
    with running_suite(ready_timeout=600,
                       before_start=lambda s: _write_profiles(s, n)) as (settings, gateway):
        session = api_session(settings)
        _wait_audience(session, gateway, n, timeout=600)
        progress(f"launching a campaign to {n} customers in {CITY} (20% holdout, 2 variants)")
        campaign = _launch(session, gateway)
        launched_at = _parse(campaign["created_at"])
        client = connect(settings)
        db = client[settings.database_name("campaigns")]
        customers = [entry["_id"] for name in ("messages", "holdout")
                     for entry in db[f"{name}_{campaign['id']}"].find({}, {"_id": 1})]
        log = service_event_log(settings, client[settings.database_name("ingest")], retry_for=30)
        progress(f"appending {orders} orders for {len(customers)} audience members")
        started, batch = time.monotonic(), []
        for event in _orders(customers, launched_at, orders, random.Random(11)):
            batch.append(event)
            if len(batch) == BATCH:
                log.append(batch)
                batch = []
        if batch:
            log.append(batch)
        appended = time.monotonic()
        counted = 0
        while time.monotonic() - appended < 3600:
            counted = _results_orders(session, gateway, campaign["id"])
            if counted >= orders:
                break
            time.sleep(1)
        done = time.monotonic()
        reads = _read_times(session, gateway, campaign["id"])
        client.close()
    return {"scenario": "campaign_results_100k", "recipients": n, "orders": orders,
            "orders_counted": counted, "append_seconds": round(appended - started, 1),
            "attribution_lag_seconds": round(done - appended, 1),
            "orders_per_second": round(orders / (done - started)) if done > started else None,
            "results_read_ms": reads, "target_read_ms": 200}
