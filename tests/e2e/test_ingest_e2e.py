"""Ingestion through the gateway, end to end: 1,000 customers and ~5,000 orders,
with invalid records and duplicates mixed in, until every profile is projected
and equals what this test computes on its own."""
from __future__ import annotations

import random
import time
from datetime import datetime, timedelta, timezone

from crm.seed import generate_customers, generate_orders
from tests.support.expectations import expected_profiles, mismatch

BATCH = 250
PROJECTION_TIMEOUT = 240


def _invalid_customers(rng: random.Random) -> list[dict]:
    bad = []
    for i in range(20):
        record = {"external_id": f"bad-c{i}", "name": "Bad Record", "email": f"bad{i}@example.com"}
        broken = [("email", "not-an-email"), ("name", None), ("visits", -1), ("visits", True),
                  ("external_id", "")][i % 5]
        if broken[1] is None:
            record.pop(broken[0])
        else:
            record[broken[0]] = broken[1]
        bad.append(record)
    return bad


def _invalid_orders(customers: list[dict]) -> list[dict]:
    future = (datetime.now(timezone.utc) + timedelta(days=2)).isoformat()
    bad = []
    for i in range(30):
        record = {"external_id": f"bad-o{i}", "customer_external_id": customers[i]["external_id"],
                  "amount": 100, "placed_at": "2024-01-01T10:00:00Z"}
        kind = i % 5
        if kind == 0:
            record["customer_external_id"] = f"nobody-{i}"
        elif kind == 1:
            record["amount"] = 0
        elif kind == 2:
            record["amount"] = "12"
        elif kind == 3:
            record["placed_at"] = future
        else:
            record.pop("placed_at")
        bad.append(record)
    return bad


def _post(api, path: str, records: list[dict], expect_rejected: set[int]) -> None:
    response = api.post(f"{api.base_url}/api/v1/{path}", json={"records": records}, timeout=120)
    assert response.status_code == 202, response.text
    body = response.json()
    assert {r["index"] for r in body["rejected"]} == expect_rejected
    assert body["accepted"] == len(records) - len(expect_rejected)


def _post_mixed(api, path: str, good: list[dict], bad: list[dict], rng: random.Random) -> None:
    """Post `good` and `bad` shuffled together in batches, checking each answer exactly."""
    tagged = [(r, True) for r in good] + [(r, False) for r in bad]
    rng.shuffle(tagged)
    for start in range(0, len(tagged), BATCH):
        chunk = tagged[start:start + BATCH]
        _post(api, path, [r for r, _ in chunk], {i for i, (_, ok) in enumerate(chunk) if not ok})


def _wait_for_profiles(api, expected: dict[str, dict]) -> dict[str, str]:
    """Poll every customer until its profile matches; returns what still differs at the end."""
    waiting = dict.fromkeys(expected, "not projected")
    deadline = time.monotonic() + PROJECTION_TIMEOUT
    while waiting and time.monotonic() < deadline:
        for cid in list(waiting):
            response = api.get(f"{api.base_url}/api/v1/customers/{cid}", timeout=30)
            if response.status_code == 404:
                waiting[cid] = "not projected"
                continue
            assert response.status_code == 200, response.text
            problem = mismatch(response.json(), expected[cid])
            if problem is None:
                del waiting[cid]
            else:
                waiting[cid] = problem
        if waiting:
            time.sleep(2)
    return waiting


def test_ingested_customers_and_orders_become_exact_profiles(api):
    rng = random.Random(2026)
    customers = generate_customers(1000, seed=5, prefix="e2e-")
    orders = generate_orders(customers, avg=5.0, seed=5, prefix="e2e-")
    assert len(orders) > 4500

    _post_mixed(api, "customers", customers, _invalid_customers(rng), rng)
    updates = [dict(c, city="Shillong", name=c["name"] + " Jr") for c in rng.sample(customers, 50)]
    _post_mixed(api, "customers", updates, [], rng)

    _post_mixed(api, "orders", orders, _invalid_orders(customers), rng)
    resent = rng.sample(orders, 200)
    changed = [dict(o, amount=o["amount"] + 1000) for o in rng.sample(orders, 20)]
    _post_mixed(api, "orders", resent + changed, [], rng)  # idempotent: nothing changes

    final_customers = {c["external_id"]: c for c in customers}
    final_customers.update({c["external_id"]: c for c in updates})
    expected = expected_profiles(final_customers, {o["external_id"]: o for o in orders})

    still_wrong = _wait_for_profiles(api, expected)
    assert not still_wrong, dict(list(still_wrong.items())[:10])

    unknown = api.get(f"{api.base_url}/api/v1/customers/bad-c0", timeout=30)
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"]
