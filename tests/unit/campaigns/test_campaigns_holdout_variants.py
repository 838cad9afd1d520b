"""Holdout and variants: the pure assignment, the dispatcher with fakes, the create API."""
from __future__ import annotations

from collections import Counter

import pytest
from campaigns import handlers
from campaigns.app import create_app
from campaigns.config import CampaignsConfig
from campaigns.delivery import fanout
from campaigns.delivery.message_log import list_messages
from campaigns.recipients import groups
from campaigns.recipients.assignment import ASSIGNMENT
from campaigns.recipients.exclusions import no_exclusions

from shared.backbone.events import MESSAGES_QUEUED
from tests.support.fakes import NOW, FakeDeliveries, FakeEventLog, chunk, people
from tests.support.fakes import FakeCampaignStore as FakeStore

RULES = {"field": "city", "op": "eq", "value": "pune"}
VARIANTS = [{"name": "A", "message": "Hi {first_name|there}", "weight": 70},
            {"name": "B", "message": "Hello {name|friend}!", "weight": 30}]


def campaign(cid: str, holdout_percent: float) -> dict:
    return {"_id": cid, "variants": VARIANTS, "holdout_percent": holdout_percent,
            "assignment": ASSIGNMENT}


def test_assignment_is_a_pure_function_matching_the_shares():
    first = [groups.group_of(campaign("cid1", 20), f"c{n}") for n in range(20_000)]
    again = [groups.group_of(campaign("cid1", 20), f"c{n}") for n in range(20_000)]
    assert first == again
    counts = Counter(first)
    # 20% held out, the rest 70/30: far inside 5 standard deviations for 20,000 draws.
    assert abs(counts["holdout"] - 4000) < 5 * (20_000 * 0.2 * 0.8) ** 0.5
    assert abs(counts["A"] - 11_200) < 5 * (20_000 * 0.56 * 0.44) ** 0.5
    assert counts["A"] + counts["B"] + counts["holdout"] == 20_000
    other = [groups.group_of(campaign("cid2", 20), f"c{n}") for n in range(20_000)]
    assert other != first  # another campaign draws other customers


def test_no_holdout_holds_out_nobody_and_half_holds_out_half():
    assert all(groups.group_of(campaign("c", 0), f"x{n}") != "holdout" for n in range(5000))
    held = sum(groups.group_of(campaign("c", 50), f"x{n}") == "holdout" for n in range(10_000))
    assert abs(held - 5000) < 5 * 50


def launched(store, log, **body) -> str:
    body = {"name": "Sale", "rules": RULES, "message": None, "holdout_percent": 0, **body}
    return handlers.create_campaign(body, NOW, store=store, segment_rules=None,
                                    event_log=log)["id"]


def test_held_out_customers_are_recorded_not_messaged_and_stats_add_up():
    store, log, deliveries = FakeStore(), FakeEventLog(), FakeDeliveries()
    cid = launched(store, log, variants=VARIANTS, holdout_percent=30)
    events = [chunk(cid, 0, 2, 400, people(0, 200)), chunk(cid, 1, 2, 400, people(200, 200))]
    for event in events + events:  # redelivered: nothing changes
        fanout.handle_events([event], NOW, store=store, event_log=log, deliveries=deliveries)
    expected = {f"c{n}": groups.group_of(store.find(cid), f"c{n}") for n in range(400)}
    held = {c for c, g in expected.items() if g == "holdout"}
    messages = [m for e in log.of_type(MESSAGES_QUEUED) for m in e["data"]["messages"]]
    assert {m["customer_external_id"] for m in messages} == set(expected) - held
    assert len(messages) == 400 - len(held)
    assert set(store.collections[f"holdout_{cid}"]) == held
    by_customer = {m["customer_external_id"]: m["text"] for m in messages}
    for customer, text in by_customer.items():
        assert text.startswith("Hi " if expected[customer] == "A" else "Hello "), customer
    stats = handlers.get_campaign(cid, store=store, deliveries=deliveries)["stats"]
    assert stats["matched"] == 400
    assert stats["excluded"] == {**no_exclusions(), "held_out": len(held)}
    assert stats["audience_size"] == stats["pending"] == 400 - len(held)
    logged, _ = list_messages(cid, None, None, 500, store=store, deliveries=deliveries)
    assert {e["customer_external_id"]: e["variant"] for e in logged} == {
        c: g for c, g in expected.items() if g != "holdout"}


def test_a_plain_message_campaign_is_one_default_variant():
    store, log = FakeStore(), FakeEventLog()
    cid = launched(store, log, message="Hi {first_name|there}")
    fanout.handle_events([chunk(cid, 0, 1, 3, people(0, 3))], NOW, store=store, event_log=log,
                         deliveries=None)
    assert {e["variant"] for e in store.collections[f"messages_{cid}"].values()} == {"default"}


@pytest.fixture
def client():
    class Deps:
        config = CampaignsConfig()
        store, deliveries, event_log = FakeStore(), FakeDeliveries(), FakeEventLog()
        segment_rules = None

        def readiness(self):
            return {"database": True, "broker": True}

    deps = Deps()
    app = create_app(deps.config, dependencies=deps)
    app.deps = deps
    return app.test_client()


def create(client, **body):
    return client.post("/api/v1/campaigns", json={"name": "Sale", "rules": RULES, **body})


@pytest.mark.parametrize("body,field", [
    ({"message": "Hi", "holdout_percent": 51}, "holdout_percent"),
    ({"message": "Hi", "holdout_percent": -1}, "holdout_percent"),
    ({"variants": [{**VARIANTS[0], "weight": 60}, VARIANTS[1]]}, "variants"),
    ({"variants": [{"name": n, "message": "Hi", "weight": 20} for n in "ABCDE"]}, "variants"),
    ({"variants": [VARIANTS[0]]}, "variants"),
    ({"variants": [VARIANTS[0], {**VARIANTS[1], "name": "A"}]}, "variants"),
    ({"variants": [VARIANTS[0], {**VARIANTS[1], "name": "holdout"}]}, "variants"),
    ({"variants": [VARIANTS[0], {**VARIANTS[1], "name": "a.b"}]}, "variants"),
    ({"message": "Hi", "variants": VARIANTS}, "_schema"),
    ({}, "_schema"),
])
def test_bad_holdout_or_variants_are_400_with_details(client, body, field):
    response = create(client, **body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "INVALID_REQUEST" and field in error["details"]["fields"]


def test_a_variant_with_an_unknown_placeholder_is_named(client):
    response = create(client, variants=[VARIANTS[0], {**VARIANTS[1], "message": "Hi {nope}"}])
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "INVALID_TEMPLATE"
    assert error["details"]["problems"][0]["variant"] == "B"
    assert error["details"]["unknown_placeholders"] == ["nope"]


def test_create_shows_variants_and_the_holdout_is_listed_with_cursors(client):
    response = create(client, variants=VARIANTS, holdout_percent=25)
    assert response.status_code == 201
    campaign = response.get_json()
    assert campaign["variants"] == VARIANTS and campaign["holdout_percent"] == 25
    assert campaign["message"] is None
    deps = client.application.deps
    cid = campaign["id"]
    for index in range(3):
        fanout.handle_events([chunk(cid, index, 3, 300, people(index * 100, 100))], NOW,
                             store=deps.store, event_log=deps.event_log, deliveries=None)
    seen, cursor = [], None
    while True:
        page = client.get(f"/api/v1/campaigns/{cid}/holdout",
                          query_string={"limit": 7, **({"cursor": cursor} if cursor else {})})
        assert page.status_code == 200
        body = page.get_json()
        assert len(body["items"]) <= 7
        seen += [item["customer_external_id"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break
    held = [f"c{n}" for n in range(300) if groups.group_of(deps.store.find(cid), f"c{n}")
            == "holdout"]
    assert seen == held and len(held) > 40
    assert body["items"][0]["held_out_at"].endswith("Z")
    assert client.get(f"/api/v1/campaigns/{cid}/holdout?cursor=zz").status_code == 400
    assert client.get("/api/v1/campaigns/nope/holdout").status_code == 404
