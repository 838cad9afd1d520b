"""The campaigns dispatcher on real RabbitMQ and FerretDB: audience chunks become one
communications log entry per customer and `messages.queued` events, redeliveries
change nothing, and the API shows the audience, lint and stats that add up."""
from __future__ import annotations

import dataclasses
import json
import time

import pytest
from campaigns.app import create_app
from campaigns.bootstrap import Dependencies
from campaigns.config import CampaignsConfig
from campaigns.delivery.dispatcher import build_dispatcher
from campaigns.handlers import request_id
from campaigns.recipients.exclusions import no_exclusions

from shared import mongo
from shared.backbone.envelope import new_event
from shared.backbone.events import AUDIENCE_CHUNK, AUDIENCE_FAILED, MESSAGES_QUEUED
from tests.support import backbone
from tests.support.backbone import ConsumerThread

pytestmark = pytest.mark.integration
# fixture: pytest finds fixtures by module-level name
sandbox = backbone.sandbox_fixture("campaigns", "segments", "receipts")


@pytest.fixture
def config(sandbox):
    return CampaignsConfig(settings=sandbox.settings)


@pytest.fixture
def dispatcher(config, sandbox):
    sandbox.track(config.audience_queue)
    dependencies = Dependencies(config, publish_retry_seconds=5.0)
    thread = ConsumerThread(build_dispatcher(config, dependencies)).start()
    yield thread
    thread.stop()
    dependencies.close()


def recipients(start: int, count: int) -> list[dict]:
    return [{"external_id": f"c{n:05d}", "name": None if n % 10 == 0 else f"Name{n} Surname",
             "email": f"c{n}@example.com", "city": "Pune" if n % 4 else None}
            for n in range(start, start + count)]


def chunk_event(campaign_id: str, index: int, count: int, size: int, members: list[dict]):
    return new_event(AUDIENCE_CHUNK, {
        "request_id": request_id(campaign_id), "chunk_index": index, "chunk_count": count,
        "audience_size": size, "recipients": members}, producer="segments",
        event_id=f"{campaign_id}-chunk-{index}")


def launch(client, message="Hi {first_name|there} from {city}") -> dict:
    response = client.post("/api/v1/campaigns", json={
        "name": "Diwali", "rules": {"field": "city", "op": "eq", "value": "pune"},
        "message": message})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def wait_until(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_every_customer_gets_exactly_one_logged_and_queued_message(config, sandbox, dispatcher):
    watch = sandbox.queue("queued", [MESSAGES_QUEUED])
    app = create_app(config)
    campaign = launch(app.test_client())
    assert campaign["status"] == "launching" and campaign["lint"] is None
    cid = campaign["id"]
    members = recipients(0, 2500)
    chunks = [chunk_event(cid, i, 3, 2500, members[i * 1000:(i + 1) * 1000]) for i in range(3)]
    # Chunk 1 twice (a redelivery), and out of order.
    sandbox.publish([chunks[1], chunks[0], chunks[1], chunks[2]])

    store = app.extensions["campaigns"].store
    wait_until(lambda: store.queued_chunks(cid) == 3)
    sandbox.publish([chunks[2]])  # once more after it was handled

    bodies = [json.loads(body) for _props, body in sandbox.take(watch, at_least=3, timeout=20)]
    messages = [m for body in bodies for m in body["data"]["messages"]]
    customers = [m["customer_external_id"] for m in messages]
    assert sorted(set(customers)) == [m["external_id"] for m in members]
    assert len(customers) == len(set(customers)) == 2500
    assert len({m["message_id"] for m in messages}) == 2500
    by_customer = {m["customer_external_id"]: m for m in messages}
    assert by_customer["c00001"]["text"] == "Hi Name1 from Pune"
    assert by_customer["c00000"]["text"] == "Hi there from "

    db = mongo.connect(config.settings)[config.database_name]
    assert db.command("collStats", f"messages_{cid}")["count"] == 2500
    assert db[f"messages_{cid}"].find_one({"_id": "c00010"})["text"] == "Hi there from Pune"

    shown = app.test_client().get(f"/api/v1/campaigns/{cid}").get_json()
    assert shown["stats"] == {"audience_size": 2500, "sent": 0, "failed": 0, "pending": 2500,
                              "matched": 2500, "excluded": no_exclusions()}
    assert shown["status"] == "sending"
    lint = {entry["placeholder"]: entry for entry in shown["lint"]["placeholders"]}
    assert lint["{first_name|there}"]["fallback_used"] == 250
    assert lint["{city}"]["empty"] == 625

    page = app.test_client().get(f"/api/v1/campaigns/{cid}/messages?limit=400").get_json()
    seen = [entry["customer_external_id"] for entry in page["items"]]
    while page["next_cursor"]:
        page = app.test_client().get(f"/api/v1/campaigns/{cid}/messages?limit=400"
                                     f"&cursor={page['next_cursor']}").get_json()
        seen += [entry["customer_external_id"] for entry in page["items"]]
    assert sorted(seen) == [m["external_id"] for m in members]
    assert {entry["status"] for entry in page["items"]} == {"PENDING"}


def test_a_customer_in_two_chunks_is_queued_once(config, sandbox, dispatcher):
    watch = sandbox.queue("queued", [MESSAGES_QUEUED])
    app = create_app(config)
    cid = launch(app.test_client(), message="Hello {name|friend}")["id"]
    first, second = recipients(0, 3), recipients(2, 3)  # c00002 in both
    sandbox.publish([chunk_event(cid, 0, 2, 5, first), chunk_event(cid, 1, 2, 5, second)])
    bodies = [json.loads(body) for _props, body in sandbox.take(watch, at_least=2, timeout=20)]
    customers = [m["customer_external_id"] for b in bodies for m in b["data"]["messages"]]
    assert sorted(customers) == ["c00000", "c00001", "c00002", "c00003", "c00004"]


def test_an_audience_that_failed_marks_the_campaign_failed(config, sandbox, dispatcher):
    app = create_app(config)
    cid = launch(app.test_client())["id"]
    sandbox.publish([new_event(AUDIENCE_FAILED, {
        "request_id": request_id(cid), "code": "INVALID_RULES", "message": "bad",
        "problems": [{"path": "rules.op", "message": "unknown"}]}, producer="segments")])
    shown = wait_until(lambda: (lambda c: c if c["status"] == "failed" else None)(
        app.test_client().get(f"/api/v1/campaigns/{cid}").get_json()))
    assert shown["error"]["code"] == "INVALID_RULES"
    retry = app.test_client().post(f"/api/v1/campaigns/{cid}/retry-failed")
    assert retry.status_code == 409


def test_a_saved_segment_is_resolved_and_an_unknown_one_is_404(config, sandbox):
    client = mongo.connect(config.settings)
    rules = {"field": "visits", "op": "gt", "value": 3}
    client[config.settings.database_name("segments")]["segments"].insert_one(
        {"_id": "seg1", "name": "Regulars", "rules": rules})
    api = create_app(dataclasses.replace(config)).test_client()
    made = api.post("/api/v1/campaigns", json={"name": "x", "segment_id": "seg1",
                                               "message": "Hi"})
    assert made.status_code == 201 and made.get_json()["rules"] == rules
    missing = api.post("/api/v1/campaigns", json={"name": "x", "segment_id": "nope",
                                                  "message": "Hi"})
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "SEGMENT_NOT_FOUND"
    listed = api.get("/api/v1/campaigns").get_json()
    assert [c["id"] for c in listed["items"]] == [made.get_json()["id"]]


def reported(campaign_id: str, outcomes: dict[str, str]) -> list[dict]:
    return [{"event_type": "delivery.reported",
             "data": {"message_id": message_id, "campaign_id": campaign_id,
                      "customer_external_id": None, "provider_message_id": "p",
                      "status": status, "reported_at": "2026-05-01T10:00:00+00:00",
                      "reason": None if status == "SENT" else "bounced"}}
            for message_id, status in outcomes.items()]


def test_retry_failed_sends_again_to_the_failed_only_with_exact_stats(config, sandbox,
                                                                        dispatcher):
    from receipts.handlers import apply_deliveries
    from receipts.store import DeliveryStore

    watch = sandbox.queue("queued", [MESSAGES_QUEUED])
    app = create_app(config)
    api = app.test_client()
    cid = launch(api, message="Hi {first_name|there}")["id"]
    sandbox.publish([chunk_event(cid, 0, 1, 10, recipients(0, 10))])
    store = app.extensions["campaigns"].store
    wait_until(lambda: store.queued_chunks(cid) == 1)
    sandbox.take(watch, at_least=1, timeout=10)
    receipts = DeliveryStore(mongo.connect(config.settings)[
        config.settings.database_name("receipts")])
    apply_deliveries(reported(cid, {f"{cid}.1.{n}": "SENT" if n < 7 else "FAILED"
                                    for n in range(10)}), store=receipts)
    done = api.get(f"/api/v1/campaigns/{cid}").get_json()
    assert done["stats"] == {"audience_size": 10, "sent": 7, "failed": 3, "pending": 0,
                             "matched": 10, "excluded": no_exclusions()}
    assert done["status"] == "completed"

    assert api.post(f"/api/v1/campaigns/{cid}/retry-failed").status_code == 202
    wait_until(lambda: (store.find_attempt(cid, 2) or {}).get("queued_at"))
    bodies = [json.loads(body) for _props, body in sandbox.take(watch, at_least=1, timeout=10)]
    again = [m for body in bodies for m in body["data"]["messages"]]
    assert sorted(m["customer_external_id"] for m in again) == ["c00007", "c00008", "c00009"]
    assert all(m["message_id"].startswith(f"{cid}.2.") for m in again)
    during = api.get(f"/api/v1/campaigns/{cid}").get_json()
    assert during["stats"] == {"audience_size": 10, "sent": 7, "failed": 0, "pending": 3,
                               "matched": 10, "excluded": no_exclusions()}
    assert during["status"] == "sending" and during["attempt"] == 2

    by_customer = {m["customer_external_id"]: m["message_id"] for m in again}
    apply_deliveries(reported(cid, {by_customer["c00007"]: "SENT", by_customer["c00008"]: "SENT",
                                    by_customer["c00009"]: "FAILED"}), store=receipts)
    final = api.get(f"/api/v1/campaigns/{cid}").get_json()
    assert final["stats"] == {"audience_size": 10, "sent": 9, "failed": 1, "pending": 0,
                              "matched": 10, "excluded": no_exclusions()}
    assert final["status"] == "completed"
    failed = api.get(f"/api/v1/campaigns/{cid}/messages?status=FAILED").get_json()["items"]
    assert [(e["customer_external_id"], e["attempt"]) for e in failed] == [("c00009", 2)]


def test_pause_then_resume_queues_the_unreported_messages_again_once(config, sandbox,
                                                                       dispatcher):
    from campaigns.delivery.gate import SendGate
    from receipts.handlers import apply_deliveries
    from receipts.store import DeliveryStore

    watch = sandbox.queue("queued", [MESSAGES_QUEUED])
    app = create_app(config)
    api = app.test_client()
    cid = launch(api, message="Hi {first_name|there}")["id"]
    sandbox.publish([chunk_event(cid, 0, 1, 10, recipients(0, 10))])
    store = app.extensions["campaigns"].store
    wait_until(lambda: store.queued_chunks(cid) == 1)
    first = [m for _props, body in sandbox.take(watch, at_least=1, timeout=10)
             for m in json.loads(body)["data"]["messages"]]
    receipts = DeliveryStore(mongo.connect(config.settings)[
        config.settings.database_name("receipts")])
    apply_deliveries(reported(cid, {f"{cid}.1.{n}": "SENT" if n < 2 else "FAILED"
                                    for n in range(3)}), store=receipts)

    paused = api.post(f"/api/v1/campaigns/{cid}/pause")
    assert paused.status_code == 200 and paused.get_json()["status"] == "paused"
    assert paused.get_json()["stats"] == {"audience_size": 10, "sent": 2, "failed": 1,
                                          "pending": 7, "matched": 10,
                                          "excluded": no_exclusions()}
    gate = SendGate(store.control_of)
    assert not gate.allows(cid) and gate.allows("not-a-campaign")

    resumed = api.post(f"/api/v1/campaigns/{cid}/resume")
    assert resumed.status_code == 200 and resumed.get_json()["status"] == "sending"
    assert gate.allows(cid)
    (event,) = [e for e in logged_events(config) if e["event_type"] == "campaign.resumed"]
    sandbox.publish([event])  # redelivered: queues nothing more
    bodies = [json.loads(body) for _props, body in sandbox.take(watch, at_least=1, timeout=20,
                                                                 settle=2.0)]
    again = [m for body in bodies for m in body["data"]["messages"]]
    unreported = {m["message_id"]: m for m in first if int(m["message_id"].split(".")[2]) >= 3}
    assert len(bodies) == 1 and {m["message_id"]: m for m in again} == unreported
    record = store.find_control(cid, 2)
    assert record["action"] == "resume" and record["requeued"] == 7

    cancelled = api.post(f"/api/v1/campaigns/{cid}/cancel").get_json()
    assert cancelled["status"] == "cancelled" and cancelled["stats"]["pending"] == 7
    assert store.control_of(cid) == "cancelled" and not gate.allows(cid)


def logged_events(config) -> list[dict]:
    """The campaigns event log, as logged."""
    from shared.backbone.outbox import read_log

    return list(read_log(mongo.connect(config.settings)[config.database_name]))
