"""Scenario `ingest`: customers and orders posted in bulk through the gateway until every
profile is projected, against the raw ceiling of the same database and broker."""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import requests

from bench import ceiling
from bench.suite import running_suite
from shared import envelope
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
    client = connect(settings)
    try:
        rows = list(client[settings.database_name("segments")]["profiles"].aggregate([
            {"$group": {"_id": None, "profiles": {"$sum": 1}, "orders": {"$sum": "$order_count"}}}]))
    finally:
        client.close()
    return (rows[0]["profiles"], rows[0]["orders"]) if rows else (0, 0)


def _wait_projected(settings, customers: int, orders: int, timeout: float) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        profiles, counted = _projected(settings)
        if profiles >= customers and counted >= orders:
            return time.perf_counter()
        time.sleep(2)
    raise SystemExit(f"projection incomplete after {timeout}s: {_projected(settings)}")


def _events(customers: list[dict], orders: list[dict]) -> list[dict]:
    return ([envelope.new_event("customer.upserted", c, producer="bench") for c in customers]
            + [envelope.new_event("order.placed", o, producer="bench") for o in orders])


def run(customers_n: int = 50_000, orders_n: int = 200_000, seed: int = 7) -> dict:
    from crm.seed import generate_customers, generate_orders
    from gateway.api_keys import open_store

    customers = generate_customers(customers_n, seed)
    orders = generate_orders(customers, orders_n / customers_n, seed)[:orders_n]
    with running_suite() as (settings, gateway):
        store = open_store(settings)
        key = store.create("bench")
        store.close()
        started = time.perf_counter()
        accepted = _post_all(gateway, key, "customers", customers)
        accepted += _post_all(gateway, key, "orders", orders)
        accepted_at = time.perf_counter()
        projected_at = _wait_projected(settings, len(customers), len(orders), timeout=3600)
        records = len(customers) + len(orders)
        seconds = projected_at - started
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
