"""A campaign whose audience is an order window ("spent over 5,000 in the last 90
days"), through the gateway: orders posted to ingest, some accepted after newer
ones, and the launch messages exactly the customers whose orders placed in the
window add up, once each; the preview said the same number before."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tests.support.campaigns import (
    assert_exactly_once,
    post_customers,
    wait_audience,
    watch_until_completed,
)

TAG = uuid.uuid4().hex[:6]
CITY = f"Windowville {TAG}"
IN_CITY = {"field": "city", "op": "eq", "value": CITY}
SPENT_5K_IN_90D = {"all": [IN_CITY, {"field": "total_spend", "op": "gt", "value": 5000,
                                     "in_last": "90d"}]}
EVER_SPENT_5K = {"all": [IN_CITY, {"field": "total_spend", "op": "gt", "value": 5000}]}


def _id(n: int) -> str:
    return f"win-{TAG}-{n}"


def _orders(api, orders: list[tuple]) -> None:
    now = datetime.now(UTC)
    records = [{"external_id": f"{_id(customer)}-{name}", "customer_external_id": _id(customer),
                "amount": amount,
                "placed_at": (now - timedelta(days=days)).isoformat(timespec="milliseconds")}
               for name, customer, amount, days in orders]
    response = api.post(f"{api.base_url}/api/v1/orders", json={"records": records}, timeout=60)
    assert response.status_code == 202, response.text


def test_a_campaign_on_an_order_window_messages_exactly_its_customers(suite, api):
    _stack, settings = suite
    post_customers(api, [{"external_id": _id(n), "name": f"Window {n}", "city": CITY,
                          "email": f"win{n}.{TAG}@example.com"} for n in range(1, 7)])
    wait_audience(api, IN_CITY, 6)
    _orders(api, [  # (order, customer, amount, days ago)
        ("a", 1, 3000, 10), ("b", 1, 2500, 50),  # 5,500 in the window: in
        ("a", 2, 100, 5),
        ("a", 3, 1500, 1),
        ("a", 5, 5001, 91),  # just outside: out
        ("a", 6, 5001, 1),  # in
    ])
    # Accepted after newer orders: customer 2's old 6,000 (out), customer 3's 4,000 of
    # 89 days ago (in: 5,500 in the window).
    _orders(api, [("b", 2, 6000, 200), ("b", 3, 4000, 89)])
    wait_audience(api, EVER_SPENT_5K, 5)
    expected = {_id(1), _id(3), _id(6)}
    preview = api.post(f"{api.base_url}/api/v1/segments/preview",
                       json={"rules": SPENT_5K_IN_90D}, timeout=30)
    assert preview.status_code == 200, preview.text
    assert preview.json()["count"] == len(expected)

    created = api.post(f"{api.base_url}/api/v1/campaigns", timeout=30, json={
        "name": f"Spent 5k in 90 days {TAG}", "rules": SPENT_5K_IN_90D,
        "message": "Hi {first_name|there}, thank you"})
    assert created.status_code == 201, created.text
    campaign = watch_until_completed(api, created.json()["id"])
    assert_exactly_once(api, settings, campaign, expected)

    refused = api.post(f"{api.base_url}/api/v1/campaigns", timeout=30, json={
        "name": "Bad window", "message": "Hi", "rules": {"all": [
            IN_CITY, {"field": "visits", "op": "gt", "value": 1, "in_last": "90d"}]}})
    assert refused.status_code == 400, refused.text
    assert "rules.all[1].in_last" in str(refused.json()["error"]["details"])
