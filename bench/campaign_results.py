"""Scenario `campaign_results_100k`: a 100,000-recipient campaign with a 20% holdout
and two variants, then 200,000 orders placed after launch; how far behind the
orders attribution runs while they stream in, and how fast the results read,
each beside a raw figure taken in the same run (`--recipients` and `--orders`
make it smaller, to check that it runs).

Profiles are written straight into the segments projection (as in
campaign_100k), the campaign is launched through the gateway and awaited until
`completed`. The orders are then appended to ingest's own event log in batches
of 1,000 as fast as it takes them and published (the path `POST /api/v1/orders`
ends in, without its validation, since these customers were never ingested),
for random audience members, placed within 6 days after launch. A second
thread reads the results through the gateway every 0.25 s meanwhile. Reported:
- attribution_lag_seconds: p50 / p95 / max over those reads while the orders
  were being appended, of how long ago the first order the read did not count
  yet was appended (0 when it counted every order appended so far);
  drain_seconds: from the last append to the first read counting every order;
  orders_per_second: orders / (first append to that read); beside them, raw:
  append_seconds (the log's own pace) and find_by_id_ms, one find by `_id` in
  the campaign's log (what attributing a customer's order reads first);
- results_read_ms: p50 / p95 / max of 50 reads of `GET .../results` through the
  gateway once attribution is done (target: 200 ms); beside it, raw: the same
  number of gateway `GET /healthz` (the HTTP floor, no hop to a service), of
  `GET /api/v1/campaigns/<id>` (the hop to the campaigns service and one find by
  `_id`) and of the find by `_id` of the campaign's attribution sums in the
  database (the one read-model document a results read takes), all in ms;
- load_average: the machine's 1/5/15-minute load when the reads started.

A results read takes a fixed number of documents, whatever the audience or the
orders: the campaign, its attribution sums (`attribution`, per group and day,
campaigns/results/attribution.py) and, until the audience is complete, the
chunk summaries (one per 1,000 recipients, ids left out).
"""
from __future__ import annotations

import bisect
import os
import random
import statistics
import threading
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


def _spread(times: list[float]) -> dict:
    times = sorted(times)
    return {"p50": round(statistics.median(times), 1),
            "p95": round(times[int(0.95 * (len(times) - 1))], 1), "max": round(times[-1], 1)}


def _timed(call, reads: int = 50) -> dict:
    """p50 / p95 / max in ms of `reads` calls."""
    times = []
    for _ in range(reads):
        started = time.perf_counter()
        call()
        times.append(1000 * (time.perf_counter() - started))
    return _spread(times)


def _get(session, url: str):
    def call():
        session.get(url, timeout=30).raise_for_status()
    return call


class _Watch:
    """Reads the counted orders every `every` s on its own thread until `total`."""

    def __init__(self, count, total: int, every: float = 0.25):
        self.samples: list[tuple[float, int]] = []  # (monotonic time, orders counted)
        self._count, self._total, self._every = count, total, every
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._loop, name="results-watch", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        try:
            self._watch()
        except BaseException as error:  # noqa: B036 - raised again on the main thread
            self._error = error

    def _watch(self) -> None:
        deadline = time.monotonic() + 3600
        while time.monotonic() < deadline:
            counted = self._count()
            self.samples.append((time.monotonic(), counted))
            if counted >= self._total:
                return
            time.sleep(self._every)

    def join(self) -> None:
        self._thread.join()
        if self._error is not None:
            raise SystemExit(f"reading the results failed: {self._error!r}")


def _lags(samples, appends: list[tuple[float, int]], until: float) -> list[float]:
    """Per read before `until`: seconds since the first order it had not counted was
    appended (0 when it counted every order appended by then)."""
    times, totals = [t for t, _ in appends], [total for _, total in appends]
    lags = []
    for at, counted in samples:
        if at > until:
            break
        first_missing = bisect.bisect_right(totals, counted)  # first append past `counted`
        if first_missing < len(times) and times[first_missing] <= at:
            lags.append(at - times[first_missing])
        else:
            lags.append(0.0)
    return lags


def _append_orders(log, events) -> list[tuple[float, int]]:
    """Appends in batches; (monotonic time, orders appended so far) after each."""
    appends, batch, total = [], [], 0
    for event in events:
        batch.append(event)
        if len(batch) == BATCH:
            log.append(batch)
            total += len(batch)
            appends.append((time.monotonic(), total))
            batch = []
    if batch:
        log.append(batch)
        appends.append((time.monotonic(), total + len(batch)))
    return appends


def _raw_reads(session, gateway: str, db, cid: str) -> dict:
    return {"gateway_healthz_ms": _timed(_get(session, f"{gateway}/healthz")),
            "campaign_get_ms": _timed(_get(session, f"{gateway}/api/v1/campaigns/{cid}")),
            "summary_find_by_id_ms": _timed(
                lambda: db["attribution"].find_one({"_id": cid}))}


def _audience(db, cid: str) -> list[str]:
    return [entry["_id"] for name in ("messages", "holdout")
            for entry in db[f"{name}_{cid}"].find({}, {"_id": 1})]


def run(n: int = 100_000, orders: int = 200_000) -> dict:
    with running_suite(ready_timeout=600,
                       before_start=lambda s: _write_profiles(s, n)) as (settings, gateway):
        session = api_session(settings)
        _wait_audience(session, gateway, n, timeout=600)
        progress(f"launching a campaign to {n} customers in {CITY} (20% holdout, 2 variants)")
        campaign = _launch(session, gateway)
        cid, launched_at = campaign["id"], _parse(campaign["created_at"])
        client = connect(settings)
        db = client[settings.database_name("campaigns")]
        customers = _audience(db, cid)
        find_by_id = _timed(lambda: db[f"messages_{cid}"].find_one(
            {"_id": random.choice(customers)}), reads=200)
        log = service_event_log(settings, client[settings.database_name("ingest")], retry_for=30)
        progress(f"appending {orders} orders for {len(customers)} audience members")
        watch = _Watch(lambda: _results_orders(session, gateway, cid), orders)
        started = time.monotonic()
        appends = _append_orders(log, _orders(customers, launched_at, orders, random.Random(11)))
        appended = appends[-1][0]
        watch.join()
        done, counted = watch.samples[-1]
        load = [round(x, 2) for x in os.getloadavg()]
        reads = _timed(_get(session, f"{gateway}/api/v1/campaigns/{cid}/results?window_days=7"))
        raw = _raw_reads(session, gateway, db, cid)
        client.close()
    lags = _lags(watch.samples, appends, appended)
    return {"scenario": "campaign_results_100k", "recipients": n, "orders": orders,
            "audience": len(customers), "orders_counted": counted,
            "append_seconds": round(appended - started, 1),
            "attribution_lag_seconds": _spread(lags) if lags else None,
            "lag_reads": len(lags), "drain_seconds": round(done - appended, 1),
            "orders_per_second": round(orders / (done - started)) if done > started else None,
            "find_by_id_ms": find_by_id, "results_read_ms": reads, **raw,
            "target_read_ms": 200, "load_average": load}
