"""Scenario `ingest`: customers and orders posted in bulk through the gateway until every
profile is projected, against the raw ceiling of the same database and broker."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import requests

from bench import ceiling
from bench.suite import api_key, progress, running_suite
from shared.backbone import broker, envelope
from shared.mongo import connect

BATCH = 1000
POSTING_THREADS = 4


def _post_all(gateway: str, key: str, path: str, records: list[dict]) -> int:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"

    def post(start: int) -> int:
        response = session.post(f"{gateway}/api/v1/{path}",
                                json={"records": records[start:start + BATCH]}, timeout=300)
        response.raise_for_status()
        return response.json()["accepted"]

    with ThreadPoolExecutor(POSTING_THREADS) as pool:
        return sum(pool.map(post, range(0, len(records), BATCH)))


def _projected(settings) -> tuple[int, int]:
    # Summed here: FerretDB 1.24 answers 0 for `$sum` of a field in `$group`.
    client = connect(settings)
    try:
        profiles = client[settings.database_name("segments")]["profiles"]
        counts = [p.get("order_count", 0) for p in profiles.find({}, {"order_count": 1})]
    finally:
        client.close()
    return len(counts), sum(counts)


def _queued(settings) -> int:
    """Events still waiting in the projector's queue (a cheap look, unlike reading profiles)."""
    connection = broker.connect(settings)
    try:
        queue = settings.queue_name("segments", "profiles")
        return connection.channel().queue_declare(queue, passive=True).method.message_count
    finally:
        connection.close()


def _wait_projected(settings, customers: int, orders: int, stall_timeout: float = 120) -> float:
    """Wait until every profile and order is projected; give up after a stall without progress.

    Reading every profile loads the database the projector writes to, so it is
    done only once the projector's queue looks empty."""
    last, last_change = None, time.monotonic()
    while True:
        waiting = _queued(settings)
        state = (waiting,) if waiting else _projected(settings)
        if not waiting and state[0] >= customers and state[1] >= orders:
            return time.perf_counter()
        if state != last:
            last, last_change = state, time.monotonic()
            progress(f"{waiting} events queued" if waiting else
                     f"projected {state[0]}/{customers} profiles, {state[1]}/{orders} orders")
        elif time.monotonic() - last_change > stall_timeout:
            raise SystemExit(f"projection stalled at {state} for {stall_timeout}s")
        time.sleep(2 if waiting else 5)


def _events(customers: list[dict], orders: list[dict]) -> list[dict]:
    return ([envelope.new_event("customer.upserted", c, producer="bench") for c in customers]
            + [envelope.new_event("order.placed", o, producer="bench") for o in orders])


def run(customers_n: int = 50_000, orders_n: int = 200_000, seed: int = 7) -> dict:
    from crm.seed import generate_customers, generate_orders

    customers = generate_customers(customers_n, seed)
    # Exports list orders as they were placed, so customers interleave (no free batching).
    orders = generate_orders(customers, orders_n / customers_n * 1.02, seed)[:orders_n]
    orders.sort(key=lambda order: order["placed_at"])
    with running_suite() as (settings, gateway):
        key = api_key(settings)
        started = time.perf_counter()
        accepted = _post_all(gateway, key, "customers", customers)
        accepted += _post_all(gateway, key, "orders", orders)
        accepted_at = time.perf_counter()
        progress(f"{accepted} accepted in {accepted_at - started:.1f}s; waiting for profiles")
        projected_at = _wait_projected(settings, len(customers), len(orders))
        records = len(customers) + len(orders)
        seconds = projected_at - started
        progress("measuring the raw ceiling")
        raw = ceiling.measure(settings, _events(customers, orders))
    ceiling_rate = records / raw["seconds"]
    rate = records / seconds
    return {
        "scenario": "ingest", "customers": len(customers), "orders": len(orders),
        "accepted": accepted, "seconds": round(seconds, 1),
        "accept_seconds": round(accepted_at - started, 1),
        "records_per_second": round(rate, 1),
        "ceiling": raw, "ceiling_records_per_second": round(ceiling_rate, 1),
        "ratio_to_ceiling": round(rate / ceiling_rate, 3),
    }
