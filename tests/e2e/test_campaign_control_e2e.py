"""Pausing, resuming and cancelling a sending campaign through the gateway.

A suite of its own with vendor calls of 10 messages (CAMPAIGNS_SEND_BATCH_SIZE),
so a campaign at 20 messages/s really goes out over seconds instead of in one
500-message call: a pause then has something left to stop. Each campaign goes
to a few hundred customers of its own city. The checks: once paused (or
cancelled) and the messages already at the vendor have reported, `sent + failed`
stops growing and equals what the vendor accepted; a resumed campaign completes
with exactly one message per customer, at the vendor too, and exact stats; a
cancelled one stays `cancelled` with its unsent messages pending.
"""
from __future__ import annotations

import time
from collections import Counter

import pytest

from crm.seed import generate_customers
from tests.support.campaigns import (all_messages, post_customers, read_campaign,
                                     vendor_messages, wait_audience, watch_until_completed)
from tests.support.suite import api_session, running_suite

AUDIENCE = 300
SEND_RATE = 20.0  # messages/s: ~15 s of sending
TEMPLATE = "Hi {first_name|there}, our sale starts today."
CITIES = {"resume": "Pausepur", "cancel": "Cancelpur"}


@pytest.fixture(scope="module")
def paced():
    with running_suite("ctl", extra_env={"CAMPAIGNS_SEND_BATCH_SIZE": "10"}) as (stack, settings):
        yield settings, api_session(stack, settings, "control")


@pytest.fixture(scope="module")
def audiences(paced):
    _settings, api = paced
    records, audiences = [], {}
    for number, (case, city) in enumerate(CITIES.items()):
        customers = generate_customers(AUDIENCE, seed=70 + number, prefix=f"ctl{number}-")
        for customer in customers:
            customer["city"] = city
        records += customers
        audiences[case] = {c["external_id"] for c in customers}
    post_customers(api, records)
    for city in CITIES.values():
        wait_audience(api, _rules(city), AUDIENCE, timeout=120, interval=0.5)
    return audiences


def _rules(city: str) -> dict:
    return {"field": "city", "op": "eq", "value": city}


def _launch_and_wait_mid_send(api, case: str) -> str:
    created = api.post(f"{api.base_url}/api/v1/campaigns", timeout=30, json={
        "name": f"Sale ({case})", "rules": _rules(CITIES[case]), "message": TEMPLATE,
        "send_rate": SEND_RATE})
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        stats = read_campaign(api, campaign_id)["stats"]
        if stats["sent"] + stats["failed"] >= 20 and stats["pending"] > AUDIENCE // 2:
            return campaign_id
        assert stats["audience_size"] == 0 or stats["pending"] > 0, \
            f"completed before it could be stopped: {stats}"
        time.sleep(0.2)
    raise AssertionError(f"campaign never seen mid-send: {stats}")


def _control(api, campaign_id: str, action: str):
    return api.post(f"{api.base_url}/api/v1/campaigns/{campaign_id}/{action}", timeout=30)


def _wait_stable(api, campaign_id: str, quiet: int = 4, timeout: float = 60) -> dict:
    """Until sent + failed is the same over `quiet` reads a second apart: the messages
    already at the vendor have reported and nothing new goes out."""
    deadline, seen, campaign = time.monotonic() + timeout, [], None
    while time.monotonic() < deadline:
        campaign = read_campaign(api, campaign_id)
        stats = campaign["stats"]
        seen.append(stats["sent"] + stats["failed"])
        if len(seen) >= quiet and len(set(seen[-quiet:])) == 1:
            return campaign
        time.sleep(1.0)
    raise AssertionError(f"still sending {timeout}s after it was stopped: {seen}, {campaign}")


def _at_most_once(settings, api, campaign: dict, audience: set[str]) -> tuple[list, list]:
    """The log has each customer once; the vendor has each customer at most once and
    exactly the messages the stats count as sent or failed."""
    messages = all_messages(api, campaign["id"])
    per_customer = Counter(m["customer_external_id"] for m in messages)
    assert set(per_customer) == audience and max(per_customer.values()) == 1
    stats = campaign["stats"]
    for status in ("SENT", "FAILED", "PENDING"):
        assert sum(m["status"] == status for m in messages) == stats[status.lower()], stats
    vendor = vendor_messages(settings, campaign["id"])
    seen = Counter(v["metadata"]["customer_external_id"] for v in vendor)
    assert not seen or max(seen.values()) == 1, seen.most_common(3)
    assert len(vendor) == stats["sent"] + stats["failed"], (len(vendor), stats)
    return messages, vendor


def test_a_paused_campaign_stops_and_resumed_completes_once_per_customer(paced, audiences):
    settings, api = paced
    campaign_id = _launch_and_wait_mid_send(api, "resume")

    paused = _control(api, campaign_id, "pause")
    assert paused.status_code == 200, paused.text
    assert paused.json()["status"] == "paused" and paused.json()["actions"] == ["resume",
                                                                                 "cancel"]
    assert _control(api, campaign_id, "pause").status_code == 409
    stopped = _wait_stable(api, campaign_id)
    assert stopped["status"] == "paused" and stopped["stats"]["pending"] > 0, stopped
    _at_most_once(settings, api, stopped, audiences["resume"])

    resumed = _control(api, campaign_id, "resume")
    assert resumed.status_code == 200, resumed.text
    assert resumed.json()["status"] == "sending" and resumed.json()["control"] == "active"
    campaign = watch_until_completed(api, campaign_id, timeout=180)
    stats = campaign["stats"]
    assert stats["audience_size"] == AUDIENCE and stats["pending"] == 0, stats
    assert stats["sent"] + stats["failed"] > stopped["stats"]["sent"] + stopped["stats"]["failed"]
    messages, vendor = _at_most_once(settings, api, campaign, audiences["resume"])
    assert {v["_id"] for v in vendor} == {m["message_id"] for m in messages}
    assert _control(api, campaign_id, "resume").status_code == 409


def test_a_cancelled_campaign_keeps_its_unsent_messages_pending(paced, audiences):
    settings, api = paced
    campaign_id = _launch_and_wait_mid_send(api, "cancel")

    cancelled = _control(api, campaign_id, "cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["actions"] == []
    stopped = _wait_stable(api, campaign_id)
    assert stopped["status"] == "cancelled" and stopped["stats"]["pending"] > 0, stopped
    _at_most_once(settings, api, stopped, audiences["cancel"])
    for action in ("pause", "resume", "cancel"):
        refused = _control(api, campaign_id, action)
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "CAMPAIGN_NOT_ACTIVE"
    time.sleep(2)  # nothing of a cancelled campaign goes out later
    assert read_campaign(api, campaign_id) == stopped
