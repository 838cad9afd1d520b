"""POST /api/v1/campaigns/preflight and GET /api/v1/campaigns/<id>/preflight through
Flask's test client: segments' audience check over a real in-memory index (as a fake
of the HTTP call), the cap ledger over the fake store's logs."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from campaigns.app import create_app
from campaigns.delivery import fanout
from campaigns.recipients.frequency_cap import Cap
from segments.audience.check import check
from segments.audience.index import AudienceIndex
from segments.rules.language import parse_rules

from tests.support.campaign_fakes import FakeDependencies
from tests.support.fakes import FakeCapStore, chunk

NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)
PUNE = {"field": "city", "op": "eq", "value": "pune"}
BODY = {"name": "Sale", "rules": PUNE, "message": "Hi {first_name|there} {email}"}
PEOPLE = [
    {"external_id": "u", "city": "Pune", "name": "Usha", "marketing_consent": "unsubscribed"},
    {"external_id": "s", "city": "Pune", "name": "Sam", "suppressed": True},
    {"external_id": "a", "city": "Pune", "name": "Asha", "email": "a@x.in"},
    {"external_id": "b", "city": "Pune", "name": None},
    {"external_id": "c", "city": "Mumbai", "name": "Ravi"}]


@pytest.fixture
def deps():
    deps = FakeDependencies()
    index = AudienceIndex()
    index.upsert_many(PEOPLE)
    deps.audience_check = lambda rules, names: check(index, parse_rules(rules), NOW, names,
                                                     with_ids=True)
    deps.cap_store = FakeCapStore(deps.store)
    return deps


@pytest.fixture
def client(deps):
    return create_app(deps.config, dependencies=deps).test_client()


def test_a_create_body_gets_the_waterfall_and_the_lint_and_nothing_is_saved(client, deps):
    response = client.post("/api/v1/campaigns/preflight", json=BODY)
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["matched"] == 4
    assert answer["excluded"] == {"unsubscribed": 1, "suppressed": 1, "capped": 0,
                                  "held_out": 0}
    assert answer["audience_size"] == 2
    assert answer["lint"]["fallback_used"] == {"{first_name|there}": 1, "{email}": 0}
    assert answer["lint"]["empty_text"] == 1  # b has no email
    assert answer["held_out_exact"] is True and answer["capped_exact"] is True
    assert len(answer["assignment_key"]) == 32
    assert deps.store.campaigns == {}


def test_a_saved_campaign_counts_its_own_holdout_and_the_cap(client, deps):
    created = client.post("/api/v1/campaigns", json={**BODY, "draft": True,
                                                     "holdout_percent": 50}).get_json()
    deps.cap_store.cap = Cap(max_messages=1, per_days=7)
    deps.store.campaigns["old"] = {"_id": "old", "created_at": datetime.now(UTC)}
    deps.store.collections["messages_old"] = {"a": {"_id": "a"}}
    answer = client.get(f"/api/v1/campaigns/{created['id']}/preflight").get_json()
    assert answer["excluded"]["capped"] == 1 and answer["capped_exact"] is False
    assert answer["held_out_exact"] is True
    assert answer["excluded"]["held_out"] + answer["audience_size"] == 1  # b, one or other


def test_a_create_carrying_the_posts_assignment_key_holds_out_what_the_post_counted(deps):
    crowd = [{"external_id": f"p{n}", "city": "Pune", "name": f"P{n}"} for n in range(400)]
    index = AudienceIndex()
    index.upsert_many(crowd)
    deps.audience_check = lambda rules, names: check(index, parse_rules(rules), NOW, names,
                                                     with_ids=True)
    client = create_app(deps.config, dependencies=deps).test_client()
    body = {**BODY, "holdout_percent": 30}
    posted = client.post("/api/v1/campaigns/preflight", json=body).get_json()
    created = client.post("/api/v1/campaigns", json={
        **body, "assignment_key": posted["assignment_key"]}).get_json()
    fanout.handle_events([chunk(created["id"], 0, 1, 400, crowd)], NOW, store=deps.store,
                         event_log=deps.event_log, deliveries=deps.deliveries)
    launched = client.get(f"/api/v1/campaigns/{created['id']}").get_json()["stats"]
    assert posted["excluded"] == launched["excluded"] and launched["excluded"]["held_out"] > 90
    assert posted["audience_size"] == launched["audience_size"]
    again = client.get(f"/api/v1/campaigns/{created['id']}/preflight").get_json()
    assert again["assignment_key"] == posted["assignment_key"]
    other = client.post("/api/v1/campaigns/preflight", json=body).get_json()
    assert other["assignment_key"] != posted["assignment_key"]  # drawn anew each time
    bad = client.post("/api/v1/campaigns", json={**body, "assignment_key": "../x"})
    assert bad.status_code == 400


def test_bad_bodies_and_unknown_campaigns_get_the_standard_error_body(client):
    bad = client.post("/api/v1/campaigns/preflight", json={**BODY, "message": "Hi {coupon}"})
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "INVALID_TEMPLATE"
    missing = client.get("/api/v1/campaigns/nope/preflight")
    assert missing.status_code == 404
    assert set(missing.get_json()["error"]) == {"code", "message", "details"}


def test_the_openapi_document_describes_both_routes(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert "post" in paths["/api/v1/campaigns/preflight"]
    assert "get" in paths["/api/v1/campaigns/{campaign_id}/preflight"]
