"""Drafts, schedules, PATCH, launch, cancel and test sends through Flask's test client,
with in-memory fakes; the scheduler's passes called directly."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from campaigns.app import create_app
from campaigns.config import CampaignsConfig
from campaigns.lifecycle import scheduler

from shared.backbone.events import (
    AUDIENCE_REQUESTED,
    CAMPAIGN_DRAFTED,
    CAMPAIGN_EDITED,
    CAMPAIGN_LAUNCHED,
    CAMPAIGN_SCHEDULED,
)
from tests.support.fakes import FakeCampaignStore, FakeDeliveries, FakeEventLog

RULES = {"field": "city", "op": "eq", "value": "pune"}


class FakeSegments:
    def __init__(self):
        self.profiles = {"c1": {"_id": "c1", "external_id": "c1", "name": "Asha Rao",
                                "email": "asha@example.com", "city": "pune"},
                         "c2": {"_id": "c2", "external_id": "c2", "phone": "+911"}}

    def rules_of(self, segment_id):
        return {"field": "visits", "op": "gt", "value": 2} if segment_id == "seg1" else None

    def profiles_of(self, ids):
        return {i: self.profiles[i] for i in ids if i in self.profiles}


class FakeVendor:
    def __init__(self):
        self.sent = []

    def send(self, messages):
        self.sent += messages
        return [{"message_id": m["message_id"], "status": "ACCEPTED"} for m in messages]


class FakeDependencies:
    def __init__(self):
        self.config = CampaignsConfig()
        self.store, self.deliveries = FakeCampaignStore(), FakeDeliveries()
        self.event_log, self.segment_rules = FakeEventLog(), FakeSegments()
        self.vendor = FakeVendor()

    def readiness(self):
        return {"database": True, "broker": True}


@pytest.fixture
def deps():
    return FakeDependencies()


@pytest.fixture
def client(deps):
    return create_app(deps.config, dependencies=deps).test_client()


def _at(minutes: float) -> str:
    return (datetime.now(UTC) + timedelta(minutes=minutes)).isoformat()


def create(client, **body):
    return client.post("/api/v1/campaigns", json={"name": "Sale", "rules": RULES,
                                                  "message": "Hi {first_name|there}", **body})


def launches(deps, cid):
    return [e for e in deps.event_log.events
            if e["event_type"] == CAMPAIGN_LAUNCHED and e["data"]["campaign_id"] == cid]


def test_a_draft_sends_nothing_until_launched_and_launches_once(client, deps):
    response = create(client, draft=True)
    assert response.status_code == 201
    campaign = response.get_json()
    assert campaign["status"] == "draft" and campaign["actions"] == ["cancel"]
    assert deps.event_log.of_type(AUDIENCE_REQUESTED) == []
    (drafted,) = deps.event_log.of_type(CAMPAIGN_DRAFTED)
    assert drafted["data"]["campaign"]["message"] == "Hi {first_name|there}"
    launched = client.post(f"/api/v1/campaigns/{campaign['id']}/launch")
    assert launched.status_code == 200 and launched.get_json()["status"] == "launching"
    assert launched.get_json()["launched_at"] is not None
    again = client.post(f"/api/v1/campaigns/{campaign['id']}/launch")
    assert again.status_code == 200
    assert len(launches(deps, campaign["id"])) == 1
    (requested,) = deps.event_log.of_type(AUDIENCE_REQUESTED)
    assert requested["data"]["rules"] == RULES
    assert deps.store.due_launches(datetime.now(UTC) + timedelta(days=1)) == []


def test_launching_a_campaign_launched_at_creation_is_409(client):
    cid = create(client).get_json()["id"]
    response = client.post(f"/api/v1/campaigns/{cid}/launch")
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "ALREADY_LAUNCHED"


@pytest.mark.parametrize("send_at", [_at(-1), _at(91 * 24 * 60), "tomorrow"])
def test_send_at_in_the_past_beyond_90_days_or_not_a_time_is_400(client, deps, send_at):
    response = create(client, send_at=send_at)
    assert response.status_code == 400
    assert "send_at" in response.get_json()["error"]["details"]["fields"]
    assert deps.store.campaigns == {}


def test_draft_and_send_at_together_are_400(client):
    assert create(client, draft=True, send_at=_at(10)).status_code == 400


def test_invalid_inline_rules_are_400_at_create_and_at_patch(client, deps):
    bad = {"field": "city", "op": "gt", "value": "pune"}
    response = create(client, rules=bad, draft=True)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "INVALID_RULES"
    assert create(client, rules=bad).status_code == 400
    assert deps.store.campaigns == {}
    cid = create(client, draft=True).get_json()["id"]
    patched = client.patch(f"/api/v1/campaigns/{cid}", json={"rules": bad})
    assert patched.status_code == 400 and patched.get_json()["error"]["code"] == "INVALID_RULES"
    assert deps.store.find(cid)["rules"] == RULES


def test_unknown_placeholder_is_400_at_create_and_patch(client):
    assert create(client, message="Hi {nickname}", draft=True).status_code == 400
    cid = create(client, draft=True).get_json()["id"]
    response = client.patch(f"/api/v1/campaigns/{cid}", json={"message": "Hi {nickname}"})
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "INVALID_TEMPLATE"


def test_patch_edits_a_scheduled_campaign_and_logs_each_edit(client, deps):
    cid = create(client, send_at=_at(30)).get_json()["id"]
    assert deps.store.find(cid)["status"] == "scheduled"
    edited = client.patch(f"/api/v1/campaigns/{cid}",
                          json={"name": "Big sale", "segment_id": "seg1", "holdout_percent": 10,
                                "variants": [{"name": "A", "message": "A {name}", "weight": 50},
                                             {"name": "B", "message": "B", "weight": 50}]})
    assert edited.status_code == 200
    shown = edited.get_json()
    assert shown["name"] == "Big sale" and shown["message"] is None
    assert shown["rules"] == {"field": "visits", "op": "gt", "value": 2}
    assert shown["status"] == "scheduled" and shown["holdout_percent"] == 10
    (scheduled,) = deps.event_log.of_type(CAMPAIGN_SCHEDULED)
    (edit,) = deps.event_log.of_type(CAMPAIGN_EDITED)
    assert scheduled["data"]["sequence"] == 0 and edit["data"]["sequence"] == 1
    assert edit["data"]["campaign"]["segment_id"] == "seg1"
    unscheduled = client.patch(f"/api/v1/campaigns/{cid}", json={"send_at": None})
    assert unscheduled.get_json()["status"] == "draft"
    assert deps.store.due_launches(datetime.now(UTC) + timedelta(days=1)) == []


def test_patch_of_a_sending_or_cancelled_campaign_is_409(client):
    sending = create(client).get_json()["id"]
    response = client.patch(f"/api/v1/campaigns/{sending}", json={"name": "x"})
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "NOT_EDITABLE"
    draft = create(client, draft=True).get_json()["id"]
    assert client.post(f"/api/v1/campaigns/{draft}/cancel").get_json()["status"] == "cancelled"
    assert client.patch(f"/api/v1/campaigns/{draft}", json={"name": "x"}).status_code == 409
    assert client.post(f"/api/v1/campaigns/{draft}/launch").status_code == 409
    assert client.patch(f"/api/v1/campaigns/{draft}", json={}).status_code == 400


def test_the_scheduler_launches_at_send_at_once_even_after_a_crash(client, deps):
    cid = create(client, send_at=_at(1)).get_json()["id"]
    store, log = deps.store, deps.event_log
    before = datetime.now(UTC)
    assert scheduler.launch_due(before, store=store, event_log=log) == []
    due = before + timedelta(minutes=2)
    log.crash_after = 0  # killed after the compare-and-set, before the events were logged
    with pytest.raises(ConnectionError):
        scheduler.launch_due(due, store=store, event_log=log)
    log.crash_after = None
    assert store.find(cid)["status"] == "launching" and launches(deps, cid) == []
    assert scheduler.launch_due(due, store=store, event_log=log) == [cid]
    assert scheduler.launch_due(due + timedelta(seconds=1), store=store, event_log=log) == []
    assert len(launches(deps, cid)) == 1
    assert store.find_attempt(cid, 1) is not None


def test_a_cancelled_scheduled_campaign_never_launches(client, deps):
    cid = create(client, send_at=_at(1)).get_json()["id"]
    assert client.post(f"/api/v1/campaigns/{cid}/cancel").status_code == 200
    due = datetime.now(UTC) + timedelta(minutes=2)
    assert scheduler.launch_due(due, store=deps.store, event_log=deps.event_log) == []
    assert launches(deps, cid) == [] and deps.store.due_launches(due) == []
    assert client.get(f"/api/v1/campaigns/{cid}").get_json()["status"] == "cancelled"


def test_test_send_renders_and_sends_marked_test_outside_the_campaign(client, deps):
    cid = create(client, draft=True).get_json()["id"]
    response = client.post(f"/api/v1/campaigns/{cid}/test-send", json={"to": ["c1", "c2", "zz"]})
    assert response.status_code == 202
    body = response.get_json()
    assert [m["text"] for m in body["messages"]] == ["Hi Asha", "Hi there"]
    assert [m["to"] for m in body["messages"]] == ["asha@example.com", "+911"]
    assert body["not_found"] == ["zz"]
    assert all(m["test"] and m["message_id"].startswith("test-") for m in deps.vendor.sent)
    assert deps.store.find_messages(cid, ["c1", "c2"]) == {}
    assert client.get(f"/api/v1/campaigns/{cid}").get_json()["status"] == "draft"


def test_test_send_takes_one_to_ten_customers(client):
    cid = create(client, draft=True).get_json()["id"]
    url = f"/api/v1/campaigns/{cid}/test-send"
    assert client.post(url, json={"to": []}).status_code == 400
    assert client.post(url, json={"to": [f"c{n}" for n in range(11)]}).status_code == 400
    assert client.post("/api/v1/campaigns/nope/test-send", json={"to": ["c1"]}).status_code == 404
