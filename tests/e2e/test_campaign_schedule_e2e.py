"""Drafts, schedules and test sends through the gateway, on the whole suite.

A scheduled campaign survives kill -9 of the campaigns processes (the API right
after the create, the dispatcher, whose thread is the scheduler, before and again
around `send_at`) and sends exactly once, not before its time; a draft is edited,
test-sent (the vendor holds the test messages, the campaign counts none) and
launched, once, and is no longer editable then.
"""
from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest

from crm.seed import generate_customers
from shared.mongo import connect
from tests.support.campaigns import (
    assert_exactly_once,
    post_customers,
    read_riding_out,
    wait_audience,
    watch_until_completed,
)

AUDIENCE = 150
CITIES = {"schedule": "Schedulepur", "draft": "Draftpur"}
TEMPLATE = "Hi {first_name|there}, the sale starts now."


def _rules(case: str) -> dict:
    return {"field": "city", "op": "eq", "value": CITIES[case]}


@pytest.fixture(scope="module")
def audiences(api):
    records, audiences = [], {}
    for number, (case, city) in enumerate(CITIES.items()):
        customers = generate_customers(AUDIENCE, seed=90 + number, prefix=f"sched{number}-")
        for customer in customers:
            customer["city"] = city
        records += customers
        audiences[case] = {c["external_id"] for c in customers}
    post_customers(api, records)
    for case in CITIES:
        wait_audience(api, _rules(case), AUDIENCE, timeout=120, interval=0.5)
    return audiences


def _wait_running(stack, process: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.supervisor.child(process).ready and stack.supervisor.pid(process):
            return
        time.sleep(0.05)
    raise AssertionError(f"{process} not running again after {timeout}s")


def _test_messages(settings, campaign_id: str) -> list[dict]:
    client = connect(settings)
    try:
        collection = client[settings.database_name("vendor_sim")]["messages"]
        return [document for document in collection.find({})
                if document["_id"].startswith(f"test-{campaign_id}-")]
    finally:
        client.close()


def test_a_scheduled_campaign_survives_kill_9_and_sends_once(suite, api, audiences):
    stack, settings = suite
    send_at = datetime.now(UTC) + timedelta(seconds=8)
    created = api.post(f"{api.base_url}/api/v1/campaigns", timeout=30, json={
        "name": "Scheduled sale", "rules": _rules("schedule"), "message": TEMPLATE,
        "send_at": send_at.isoformat()})
    assert created.status_code == 201, created.text
    campaign = created.json()
    assert campaign["status"] == "scheduled" and campaign["stats"]["audience_size"] == 0
    for process in ("campaigns", "campaigns-dispatcher"):
        _wait_running(stack, process)
        stack.kill(process)
    _wait_running(stack, "campaigns-dispatcher")
    time.sleep(max((send_at - datetime.now(UTC)).total_seconds() - 0.5, 0))
    stack.kill("campaigns-dispatcher")  # around send_at: mid-scheduler-pass, or just before

    done = watch_until_completed(api, campaign["id"], timeout=180, interval=0.5,
                                 read=read_riding_out)
    assert_exactly_once(api, settings, done, audiences["schedule"])
    launched_at = datetime.fromisoformat(done["launched_at"].replace("Z", "+00:00"))
    assert launched_at >= send_at.replace(microsecond=send_at.microsecond // 1000 * 1000)
    stack.wait_ready(60)


def test_a_draft_is_edited_test_sent_and_launched_once(suite, api, audiences):
    _stack, settings = suite
    url = f"{api.base_url}/api/v1/campaigns"
    bad = api.post(url, timeout=30, json={"name": "Draft", "draft": True, "message": TEMPLATE,
                                          "rules": {"field": "city", "op": "gt", "value": 3}})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_RULES"
    created = api.post(url, timeout=30, json={"name": "Draft", "draft": True,
                                              "message": "Hello", "rules": _rules("draft")})
    assert created.status_code == 201 and created.json()["status"] == "draft", created.text
    cid = created.json()["id"]
    edited = api.patch(f"{url}/{cid}", timeout=30, json={"message": TEMPLATE})
    assert edited.status_code == 200 and edited.json()["message"] == TEMPLATE, edited.text

    some = sorted(audiences["draft"])[:2]
    sent = api.post(f"{url}/{cid}/test-send", timeout=30, json={"to": some})
    assert sent.status_code == 202, sent.text
    texts = sent.json()["messages"]
    assert [m["customer_external_id"] for m in texts] == some
    assert all(m["text"].startswith("Hi ") for m in texts)
    held = _test_messages(settings, cid)
    assert sorted(m["metadata"]["customer_external_id"] for m in held) == some
    assert all(m["test"] for m in held)

    launched = api.post(f"{url}/{cid}/launch", timeout=30)
    assert launched.status_code == 200, launched.text
    assert api.post(f"{url}/{cid}/launch", timeout=30).status_code == 200
    done = watch_until_completed(api, cid, timeout=180, interval=0.5, read=read_riding_out)
    assert_exactly_once(api, settings, done, audiences["draft"])
    refused = api.patch(f"{url}/{cid}", timeout=30, json={"name": "Too late"})
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "NOT_EDITABLE"
