"""A campaign end to end through the gateway: ingest ~2,000 customers, find them
with a rule, launch a personalised campaign, watch it complete with exact stats."""
from __future__ import annotations

import time

from crm.seed import generate_customers

CITY = "Campaignpur"  # only this test's customers live here
AUDIENCE = 2000
TEMPLATE = "Hi {first_name|there}, here's 10% off on your next order!"
RULES = {"field": "city", "op": "eq", "value": CITY}


def _ingest(api) -> dict[str, dict]:
    customers = generate_customers(AUDIENCE, seed=9, prefix="camp-")
    for customer in customers:
        customer["city"] = CITY
    for start in range(0, len(customers), 1000):
        response = api.post(f"{api.base_url}/api/v1/customers",
                            json={"records": customers[start:start + 1000]}, timeout=120)
        assert response.status_code == 202, response.text
        assert response.json()["accepted"] == len(customers[start:start + 1000])
    return {c["external_id"]: c for c in customers}


def _wait_audience(api, size: int, timeout: float = 180) -> None:
    deadline, count = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        response = api.post(f"{api.base_url}/api/v1/segments/preview", json={"rules": RULES},
                            timeout=30)
        if response.status_code == 200:
            count = response.json()["count"]
            if count == size:
                return
        time.sleep(1)
    raise AssertionError(f"audience preview stayed at {count}, expected {size}")


def _watch_until_completed(api, campaign_id: str, timeout: float = 300) -> dict:
    """Poll the campaign, checking the stats invariant at every read."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = api.get(f"{api.base_url}/api/v1/campaigns/{campaign_id}", timeout=30)
        assert response.status_code == 200, response.text
        campaign = response.json()
        stats = campaign["stats"]
        assert stats["sent"] + stats["failed"] + stats["pending"] == stats["audience_size"], stats
        assert campaign["status"] != "failed", campaign
        if campaign["status"] == "completed":
            return campaign
        time.sleep(1)
    raise AssertionError(f"campaign not completed in {timeout}s: {campaign}")


def _all_messages(api, campaign_id: str) -> list[dict]:
    messages, cursor = [], None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        response = api.get(f"{api.base_url}/api/v1/campaigns/{campaign_id}/messages",
                           params=params, timeout=60)
        assert response.status_code == 200, response.text
        page = response.json()
        messages += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return messages


def test_a_campaign_reaches_every_customer_once_with_exact_stats(api):
    customers = _ingest(api)
    _wait_audience(api, AUDIENCE)

    created = api.post(f"{api.base_url}/api/v1/campaigns", timeout=30,
                       json={"name": "Ten percent off", "rules": RULES, "message": TEMPLATE})
    assert created.status_code == 201, created.text
    campaign = _watch_until_completed(api, created.json()["id"])

    stats = campaign["stats"]
    assert stats["audience_size"] == AUDIENCE and stats["pending"] == 0
    assert 0.05 * AUDIENCE <= stats["failed"] <= 0.15 * AUDIENCE, stats

    messages = _all_messages(api, campaign["id"])
    assert len(messages) == AUDIENCE
    assert {m["customer_external_id"] for m in messages} == set(customers)
    for message in messages:
        first_name = customers[message["customer_external_id"]]["name"].split()[0]
        assert message["text"] == f"Hi {first_name}, here's 10% off on your next order!"
    assert sum(m["status"] == "FAILED" for m in messages) == stats["failed"]
    assert sum(m["status"] == "SENT" for m in messages) == stats["sent"]

    history = api.get(f"{api.base_url}/api/v1/campaigns", timeout=30).json()["items"]
    assert history[0]["id"] == campaign["id"]
