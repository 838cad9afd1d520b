"""The campaign routes through Flask's test client, with in-memory fakes behind them."""
from __future__ import annotations

import pytest
from campaigns.app import create_app
from campaigns.delivery import fanout
from campaigns.recipients.exclusions import no_exclusions

from shared.backbone.events import AUDIENCE_REQUESTED, CAMPAIGN_LAUNCHED
from tests.support.campaign_fakes import FakeDependencies
from tests.support.fakes import NOW, chunk, people

RULES = {"field": "city", "op": "eq", "value": "pune"}


@pytest.fixture
def deps():
    return FakeDependencies()


@pytest.fixture
def client(deps):
    return create_app(deps.config, dependencies=deps).test_client()


def launch(client, **body):
    return client.post("/api/v1/campaigns", json={"name": "Sale", "rules": RULES,
                                                  "message": "Hi {first_name|there}", **body})


def test_launch_answers_201_and_requests_the_audience(client, deps):
    response = launch(client)
    assert response.status_code == 201
    campaign = response.get_json()
    assert campaign["status"] == "launching" and campaign["lint"] is None
    assert campaign["stats"] == {"audience_size": 0, "sent": 0, "failed": 0, "pending": 0,
                                 "matched": 0, "excluded": no_exclusions()}
    assert campaign["send_rate"] == 25.0 and campaign["rules"] == RULES
    (requested,) = deps.event_log.of_type(AUDIENCE_REQUESTED)
    assert requested["data"]["request_id"] == f"{campaign['id']}:1"
    assert requested["data"]["rules"] == RULES
    assert deps.event_log.of_type(CAMPAIGN_LAUNCHED)[0]["data"]["attempt"] == 1


def test_a_saved_segment_gives_its_rules_and_an_unknown_one_is_404(client):
    made = launch(client, rules=None, segment_id="seg1").get_json()
    assert made["segment_id"] == "seg1" and made["rules"]["field"] == "visits"
    missing = launch(client, rules=None, segment_id="nope")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "SEGMENT_NOT_FOUND"


@pytest.mark.parametrize("body, code", [
    ({"message": "Hi {coupon}"}, "INVALID_TEMPLATE"),
    ({"message": "Hi {first_name"}, "INVALID_TEMPLATE"),
    ({"message": ""}, "INVALID_REQUEST"),
    ({"name": "  "}, "INVALID_REQUEST"),
    ({"segment_id": "seg1"}, "INVALID_REQUEST"),  # both an audience and a segment
    ({"rules": None}, "INVALID_REQUEST"),         # neither
    ({"rules": [1]}, "INVALID_REQUEST"),
    ({"extra": 1}, "INVALID_REQUEST"),
])
def test_bad_input_is_a_400_with_details(client, body, code):
    response = launch(client, **body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code and error["details"]


def test_unknown_placeholder_is_named(client):
    details = launch(client, message="{first_name} {coupon|x}").get_json()["error"]["details"]
    assert details["unknown_placeholders"] == ["coupon"]


def test_malformed_json_is_a_400(client):
    response = client.post("/api/v1/campaigns", data="{", content_type="application/json")
    assert response.status_code == 400


def test_list_is_newest_first_and_cursors_visit_each_once(client):
    ids = [launch(client).get_json()["id"] for _ in range(5)]
    page = client.get("/api/v1/campaigns?limit=2").get_json()
    seen = [c["id"] for c in page["items"]]
    while page["next_cursor"]:
        page = client.get(f"/api/v1/campaigns?limit=2&cursor={page['next_cursor']}").get_json()
        seen += [c["id"] for c in page["items"]]
    assert seen == list(reversed(ids))
    assert client.get("/api/v1/campaigns?limit=501").status_code == 400


def test_one_campaign_with_stats_lint_and_messages(client, deps):
    cid = launch(client).get_json()["id"]
    fanout.queue_chunk(chunk(cid, 0, 1, 3, people(0, 3)), NOW, store=deps.store,
                       event_log=deps.event_log)
    deps.deliveries.reported.update({f"{cid}.1.0": "SENT", f"{cid}.1.1": "FAILED"})
    campaign = client.get(f"/api/v1/campaigns/{cid}").get_json()
    assert campaign["stats"] == {"audience_size": 3, "sent": 1, "failed": 1, "pending": 1,
                                 "matched": 3, "excluded": no_exclusions()}
    assert campaign["status"] == "sending"
    assert campaign["lint"]["placeholders"][0]["fallback_used"] == 1
    pending = client.get(f"/api/v1/campaigns/{cid}/messages?status=PENDING").get_json()
    assert [e["customer_external_id"] for e in pending["items"]] == ["c2"]
    assert pending["items"][0]["text"] == "Hi P2" and pending["next_cursor"] is None
    sent = client.get(f"/api/v1/campaigns/{cid}/messages?status=SENT").get_json()
    assert [(e["customer_external_id"], e["status"]) for e in sent["items"]] == [("c0", "SENT")]


def test_messages_reject_bad_queries_and_unknown_campaigns(client):
    cid = launch(client).get_json()["id"]
    assert client.get(f"/api/v1/campaigns/{cid}/messages?status=LOST").status_code == 400
    bad = client.get(f"/api/v1/campaigns/{cid}/messages?cursor=zz")
    assert bad.status_code == 400 and bad.get_json()["error"]["code"] == "INVALID_CURSOR"
    assert client.get("/api/v1/campaigns/nope/messages").status_code == 404
    assert client.get("/api/v1/campaigns/nope").status_code == 404


def test_retry_failed_answers_202_then_409(client, deps):
    cid = launch(client).get_json()["id"]
    assert client.post(f"/api/v1/campaigns/{cid}/retry-failed").status_code == 409
    fanout.queue_chunk(chunk(cid, 0, 1, 2, people(0, 2)), NOW, store=deps.store,
                       event_log=deps.event_log)
    deps.deliveries.reported[f"{cid}.1.1"] = "FAILED"
    started = client.post(f"/api/v1/campaigns/{cid}/retry-failed")
    assert started.status_code == 202
    assert started.get_json() == {"campaign_id": cid, "attempt": 2, "failed_to_retry": 1}
    again = client.post(f"/api/v1/campaigns/{cid}/retry-failed")
    assert again.status_code == 409 and again.get_json()["error"]["code"] == "ATTEMPT_IN_PROGRESS"
    assert client.post("/api/v1/campaigns/nope/retry-failed").status_code == 404


def test_openapi_describes_every_route(client):
    paths = client.get("/openapi.json").get_json()["paths"]
    assert set(paths) == {"/api/v1/campaigns", "/api/v1/campaigns/preview-message",
                          "/api/v1/campaigns/{campaign_id}",
                          "/api/v1/campaigns/{campaign_id}/messages",
                          "/api/v1/campaigns/{campaign_id}/retry-failed",
                          "/api/v1/campaigns/{campaign_id}/launch",
                          "/api/v1/campaigns/{campaign_id}/test-send",
                          "/api/v1/campaigns/{campaign_id}/messages.csv",
                          "/api/v1/campaigns/{campaign_id}/results.csv",
                          "/api/v1/campaigns/{campaign_id}/results",
                          "/api/v1/campaigns/{campaign_id}/holdout",
                          "/api/v1/campaigns/{campaign_id}/pause",
                          "/api/v1/campaigns/{campaign_id}/resume",
                          "/api/v1/campaigns/{campaign_id}/cancel",
                          "/api/v1/campaigns/preflight",
                          "/api/v1/campaigns/{campaign_id}/preflight",
                          "/api/v1/settings/frequency-cap"}


def test_completed_stats_are_kept_without_counting_again(client, deps):
    cid = launch(client).get_json()["id"]
    fanout.queue_chunk(chunk(cid, 0, 1, 2, people(0, 2)), NOW, store=deps.store,
                       event_log=deps.event_log)
    deps.deliveries.reported.update({f"{cid}.1.0": "SENT", f"{cid}.1.1": "FAILED"})
    assert client.get(f"/api/v1/campaigns/{cid}").get_json()["status"] == "completed"
    deps.deliveries.counts = None  # counting again would now fail
    again = client.get(f"/api/v1/campaigns/{cid}").get_json()
    assert again["stats"] == {"audience_size": 2, "sent": 1, "failed": 1, "pending": 0,
                              "matched": 2, "excluded": no_exclusions()}


def test_preview_message_renders_for_the_given_customers_and_lints_fallbacks(client):
    response = client.post("/api/v1/campaigns/preview-message", json={
        "message": "Hi {first_name|there} from {city}! {{promo}}",
        "recipients": [{"external_id": "a", "name": "Asha Rao", "city": "Pune"},
                       {"external_id": "b", "name": "", "city": None}]})
    assert response.status_code == 200
    body = response.get_json()
    assert body["messages"] == [{"external_id": "a", "text": "Hi Asha from Pune! {promo}"},
                                {"external_id": "b", "text": "Hi there from ! {promo}"}]
    lint = {entry["placeholder"]: entry for entry in body["lint"]["placeholders"]}
    assert lint["{first_name|there}"]["fallback_used"] == 1
    assert lint["{city}"]["empty"] == 1 and body["lint"]["recipients"] == 2


def test_preview_message_refuses_a_bad_template_like_launching_does(client):
    response = client.post("/api/v1/campaigns/preview-message",
                           json={"message": "Hi {nickname}", "recipients": []})
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "INVALID_TEMPLATE"
    assert error["details"]["unknown_placeholders"] == ["nickname"]


def test_preview_message_takes_at_most_twenty_customers(client):
    response = client.post("/api/v1/campaigns/preview-message",
                           json={"message": "Hi", "recipients": [{}] * 21})
    assert response.status_code == 400


def control(client, cid, action):
    return client.post(f"/api/v1/campaigns/{cid}/{action}")


def refused(response, code):
    assert response.status_code == 409, response.get_json()
    return response.get_json()["error"]["code"] == code


def test_pause_resume_and_cancel_move_the_status_and_keep_the_stats(client, deps):
    cid = launch(client).get_json()["id"]
    fanout.queue_chunk(chunk(cid, 0, 1, 4, people(0, 4)), NOW, store=deps.store,
                       event_log=deps.event_log)
    deps.deliveries.reported.update({f"{cid}.1.0": "SENT", f"{cid}.1.1": "FAILED"})
    sending = client.get(f"/api/v1/campaigns/{cid}").get_json()
    assert (sending["status"], sending["control"]) == ("sending", "active")
    assert sending["actions"] == ["pause", "cancel"] and sending["control_changed_at"] is None
    assert refused(control(client, cid, "resume"), "CAMPAIGN_NOT_PAUSED")

    paused = control(client, cid, "pause")
    assert paused.status_code == 200
    paused = paused.get_json()
    assert (paused["status"], paused["control"]) == ("paused", "paused")
    assert paused["actions"] == ["resume", "cancel"] and paused["control_changed_at"]
    assert paused["stats"] == sending["stats"] == {"audience_size": 4, "sent": 1, "failed": 1,
                                                   "pending": 2, "matched": 4,
                                                   "excluded": no_exclusions()}
    assert refused(control(client, cid, "pause"), "CAMPAIGN_ALREADY_PAUSED")
    assert refused(client.post(f"/api/v1/campaigns/{cid}/retry-failed"), "CAMPAIGN_PAUSED")

    resumed = control(client, cid, "resume").get_json()
    assert (resumed["status"], resumed["control"]) == ("sending", "active")
    cancelled = control(client, cid, "cancel").get_json()
    assert (cancelled["status"], cancelled["actions"]) == ("cancelled", [])
    assert [(e["event_type"], e["data"]["sequence"]) for e in deps.event_log.logged.values()
            if e["event_type"].startswith("campaign.") and "sequence" in e["data"]] == [
        ("campaign.paused", 1), ("campaign.resumed", 2), ("campaign.cancelled", 3)]

    # Receipts of messages already at the vendor still count; cancelled never completes.
    deps.deliveries.reported.update({f"{cid}.1.2": "SENT", f"{cid}.1.3": "SENT"})
    after = client.get(f"/api/v1/campaigns/{cid}").get_json()
    assert after["stats"] == {"audience_size": 4, "sent": 3, "failed": 1, "pending": 0,
                              "matched": 4, "excluded": no_exclusions()}
    assert after["status"] == "cancelled"
    for action in ("pause", "resume", "cancel"):
        assert refused(control(client, cid, action), "CAMPAIGN_NOT_ACTIVE")
    assert refused(client.post(f"/api/v1/campaigns/{cid}/retry-failed"), "CAMPAIGN_CANCELLED")


def test_completed_failed_and_unknown_campaigns_cannot_be_controlled(client, deps):
    cid = launch(client).get_json()["id"]
    fanout.queue_chunk(chunk(cid, 0, 1, 1, people(0, 1)), NOW, store=deps.store,
                       event_log=deps.event_log)
    deps.deliveries.reported[f"{cid}.1.0"] = "SENT"
    assert client.get(f"/api/v1/campaigns/{cid}").get_json()["actions"] == []
    assert refused(control(client, cid, "pause"), "CAMPAIGN_NOT_ACTIVE")
    assert refused(control(client, cid, "cancel"), "CAMPAIGN_NOT_ACTIVE")
    failed = launch(client).get_json()["id"]
    deps.store.update(failed, {"status": "failed"})
    answer = control(client, failed, "pause")
    assert refused(answer, "CAMPAIGN_NOT_ACTIVE")
    assert answer.get_json()["error"]["details"]["status"] == "failed"
    for action in ("pause", "resume", "cancel"):
        assert control(client, "nope", action).status_code == 404
    assert control(client, cid, "stop").status_code == 404


def test_a_launching_campaign_can_be_paused_and_resumed_to_launching(client):
    cid = launch(client).get_json()["id"]
    assert control(client, cid, "pause").get_json()["status"] == "paused"
    assert control(client, cid, "resume").get_json()["status"] == "launching"


def test_a_change_logged_but_not_applied_is_finished_by_the_next_request(client, deps):
    cid = launch(client).get_json()["id"]
    # The API died after claiming change 1 (a pause), before logging and applying it.
    deps.store.insert_control(cid, 1, {"action": "pause", "control": "paused", "attempt": 1,
                                       "at": NOW, "correlation_id": None})
    assert client.get(f"/api/v1/campaigns/{cid}").get_json()["control"] == "active"
    again = control(client, cid, "pause")  # the client retries its pause
    assert again.status_code == 200 and again.get_json()["status"] == "paused"
    assert len(deps.event_log.of_type("campaign.paused")) == 1
    assert deps.store.find(cid)["control_seq"] == 1
    assert control(client, cid, "cancel").get_json()["status"] == "cancelled"
    assert deps.store.find(cid)["control_seq"] == 2


def test_a_concurrent_change_is_a_409_conflict(client, deps):
    cid = launch(client).get_json()["id"]
    deps.store.insert_control = lambda *args: False  # another request claimed the number
    assert refused(control(client, cid, "pause"), "CONTROL_CONFLICT")
    assert client.get(f"/api/v1/campaigns/{cid}").get_json()["control"] == "active"
    assert deps.event_log.of_type("campaign.paused") == []
