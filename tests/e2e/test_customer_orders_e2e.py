"""A customer's orders and the business overview through the gateway, end to end."""
from __future__ import annotations

import time
from urllib.parse import quote

POLL_TIMEOUT = 120
CUSTOMERS = [{"external_id": cid, "name": f"Orders {n}", "email": f"orders{n}@example.com"}
             for n, cid in enumerate(["e2e-ord-1", "e2e-ord/2", "e2e-ord-3/orders"])]
ORDERS = [  # (order id, customer, amount, placed_at)
    ("e2e-o1", "e2e-ord-1", 100.25, "2024-02-01T10:00:00Z"),
    ("e2e-o2", "e2e-ord-1", 50, "2024-03-01T10:00:00+05:30"),
    ("e2e-o3", "e2e-ord-1", 75.5, "2024-03-01T04:30:00Z"),  # same moment as o2
    ("e2e-o4", "e2e-ord-1", 10, "2023-12-31T23:59:59.999Z"),
    ("e2e-o5", "e2e-ord-1", 20, "2024-05-05T05:05:05.005Z"),
    ("e2e-o6", "e2e-ord/2", 999.99, "2024-01-15T00:00:00Z"),
]


def _url(api, external_id: str, suffix: str = "") -> str:
    return f"{api.base_url}/api/v1/customers/{quote(external_id, safe='')}{suffix}"


def _wait(what: str, condition):
    deadline = time.monotonic() + POLL_TIMEOUT
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


def _overview(api) -> dict:
    response = api.get(f"{api.base_url}/api/v1/overview", timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _settled_overview(api) -> dict:
    """The overview once it stops moving (earlier modules' updates may still be
    reaching the index), so the deltas below are this test's alone."""
    previous = _overview(api)
    deadline = time.monotonic() + POLL_TIMEOUT
    while time.monotonic() < deadline:
        time.sleep(2)
        current = _overview(api)
        if current == previous:
            return current
        previous = current
    raise AssertionError("the overview never settled")


def _walk(api, external_id: str, limit: int) -> list[dict]:
    items, cursor = [], None
    for _ in range(20):
        response = api.get(_url(api, external_id, "/orders"), timeout=30,
                           params={"limit": limit, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return items
    raise AssertionError("the cursors never ended")


def test_orders_are_listed_newest_first_and_the_overview_adds_them_up(api):
    before = _settled_overview(api)
    response = api.post(f"{api.base_url}/api/v1/customers", json={"records": CUSTOMERS},
                        timeout=60)
    assert response.status_code == 202 and response.json()["accepted"] == 3, response.text
    records = [{"external_id": o, "customer_external_id": c, "amount": a, "placed_at": t}
               for o, c, a, t in ORDERS]
    response = api.post(f"{api.base_url}/api/v1/orders", json={"records": records}, timeout=60)
    assert response.status_code == 202 and response.json()["accepted"] == 6, response.text

    _wait("the profiles", lambda: all(
        (r := api.get(_url(api, cid), timeout=30)).status_code == 200
        and r.json()["order_count"] == sum(1 for o in ORDERS if o[1] == cid)
        for cid in (c["external_id"] for c in CUSTOMERS)))

    for limit in (1, 2, 50):
        assert [o["external_id"] for o in _walk(api, "e2e-ord-1", limit)] == \
            ["e2e-o5", "e2e-o2", "e2e-o3", "e2e-o1", "e2e-o4"]
    assert _walk(api, "e2e-ord/2", 50) == [
        {"external_id": "e2e-o6", "amount": 999.99, "placed_at": "2024-01-15T00:00:00.000Z"}]
    assert _walk(api, "e2e-ord-3/orders", 50) == []
    odd = api.get(_url(api, "e2e-ord-3/orders"), timeout=30)
    assert odd.status_code == 200 and odd.json()["external_id"] == "e2e-ord-3/orders"

    missing = api.get(_url(api, "e2e-nobody", "/orders"), timeout=30)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "CUSTOMER_NOT_FOUND"
    bad = api.get(_url(api, "e2e-ord-1", "/orders"), params={"cursor": "nope"}, timeout=30)
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_CURSOR"

    counts = {"customers": before["customers"] + 3,
              "customers_with_orders": before["customers_with_orders"] + 2,
              "orders": before["orders"] + 6, "currency": "INR"}
    after = _wait("the overview to count them", lambda: (
        o := _overview(api)) and {k: o[k] for k in counts} == counts and o)
    # Both totals are rounded to cents: a difference of one cent is rounding, not a bug.
    assert abs(after["revenue"] - before["revenue"] - sum(o[2] for o in ORDERS)) <= 0.0100001
