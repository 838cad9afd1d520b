"""A campaign end to end through the gateway: ingest ~2,000 customers, find them
with a rule, launch a personalised campaign, watch it complete with exact stats."""
from __future__ import annotations

from crm.seed import generate_customers
from tests.support.campaigns import (all_messages, post_customers, wait_audience,
                                     watch_until_completed)

CITY = "Campaignpur"  # only this test's customers live here
AUDIENCE = 2000
TEMPLATE = "Hi {first_name|there}, here's 10% off on your next order!"
RULES = {"field": "city", "op": "eq", "value": CITY}


def _ingest(api) -> dict[str, dict]:
    customers = generate_customers(AUDIENCE, seed=9, prefix="camp-")
    for customer in customers:
        customer["city"] = CITY
    post_customers(api, customers)
    return {c["external_id"]: c for c in customers}


def test_a_campaign_reaches_every_customer_once_with_exact_stats(api):
    customers = _ingest(api)
    wait_audience(api, RULES, AUDIENCE)

    created = api.post(f"{api.base_url}/api/v1/campaigns", timeout=30,
                       json={"name": "Ten percent off", "rules": RULES, "message": TEMPLATE})
    assert created.status_code == 201, created.text
    campaign = watch_until_completed(api, created.json()["id"])

    stats = campaign["stats"]
    assert stats["audience_size"] == AUDIENCE and stats["pending"] == 0
    assert 0.05 * AUDIENCE <= stats["failed"] <= 0.15 * AUDIENCE, stats

    messages = all_messages(api, campaign["id"])
    assert len(messages) == AUDIENCE
    assert {m["customer_external_id"] for m in messages} == set(customers)
    for message in messages:
        first_name = customers[message["customer_external_id"]]["name"].split()[0]
        assert message["text"] == f"Hi {first_name}, here's 10% off on your next order!"
    assert sum(m["status"] == "FAILED" for m in messages) == stats["failed"]
    assert sum(m["status"] == "SENT" for m in messages) == stats["sent"]

    history = api.get(f"{api.base_url}/api/v1/campaigns", timeout=30).json()["items"]
    assert history[0]["id"] == campaign["id"]
