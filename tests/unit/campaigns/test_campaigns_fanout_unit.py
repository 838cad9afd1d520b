"""The dispatcher's handlers with small in-memory fakes: one message per customer,
redeliveries change nothing, retry attempts go to the FAILED recipients only.
(The fakes are in tests/support/fakes.py.)"""
from __future__ import annotations

import pytest
from campaigns import handlers
from campaigns.delivery import control, fanout
from campaigns.delivery.message_log import list_messages
from campaigns.recipients.exclusions import no_exclusions

from shared.backbone.envelope import new_event
from shared.backbone.events import (
    CAMPAIGN_LAUNCHED,
    CAMPAIGN_PAUSED,
    CAMPAIGN_RESUMED,
    MESSAGES_QUEUED,
)
from tests.support.fakes import NOW, FakeDeliveries, FakeEventLog, chunk, people
from tests.support.fakes import FakeCampaignStore as FakeStore


def launched(store, log, message="Hi {first_name|there}") -> str:
    body = {"name": "Sale", "rules": {"field": "city", "op": "eq", "value": "x"},
            "message": message}
    return handlers.create_campaign(body, NOW, store=store, segment_rules=None, event_log=log)["id"]


def queued_messages(log):
    return [m for e in log.of_type(MESSAGES_QUEUED) for m in e["data"]["messages"]]


def test_chunks_queue_one_message_per_customer_and_redelivery_adds_nothing():
    store, log = FakeStore(), FakeEventLog()
    cid = launched(store, log)
    first, second = chunk(cid, 0, 2, 5, people(0, 3)), chunk(cid, 1, 2, 5, people(3, 2))
    for event in (first, second, first, second):
        fanout.handle_events([event], NOW, store=store, event_log=log, deliveries=None)
    messages = queued_messages(log)
    assert sorted(m["customer_external_id"] for m in messages) == ["c0", "c1", "c2", "c3", "c4"]
    assert {m["customer_external_id"]: m["text"] for m in messages}["c0"] == "Hi there"
    assert store.find(cid)["audience_size"] == 5


def test_a_crash_after_logging_requeues_the_same_messages():
    store, log = FakeStore(), FakeEventLog()
    cid = launched(store, log)
    event = chunk(cid, 0, 1, 2, people(0, 2))
    fanout.queue_chunk(event, NOW, store=store, event_log=FakeEventLog())  # "crashed"
    store.collections[f"chunks_{cid}"].clear()  # ... before the chunk was recorded
    assert fanout.queue_chunk(event, NOW, store=store, event_log=log) == 2
    assert [m["message_id"] for m in queued_messages(log)] == [f"{cid}.1.0", f"{cid}.1.1"]


def test_retry_goes_to_the_failed_recipients_only_and_stats_add_up():
    store, log, deliveries = FakeStore(), FakeEventLog(), FakeDeliveries()
    cid = launched(store, log)
    fanout.queue_chunk(chunk(cid, 0, 1, 4, people(0, 4)), NOW, store=store, event_log=log)
    deliveries.reported.update({f"{cid}.1.0": "SENT", f"{cid}.1.1": "FAILED",
                                f"{cid}.1.2": "FAILED"})
    before = handlers.get_campaign(cid, store=store, deliveries=deliveries)
    assert before["stats"] == {"audience_size": 4, "sent": 1, "failed": 2, "pending": 1,
                               "matched": 4, "excluded": no_exclusions()}

    attempt = handlers.retry_failed(cid, NOW, store=store, deliveries=deliveries, event_log=log)
    assert attempt["attempt"] == 2
    retry_event = log.of_type(CAMPAIGN_LAUNCHED)[-1]
    for _ in range(2):  # a redelivered retry event queues nothing more
        fanout.handle_events([retry_event], NOW, store=store, event_log=log,
                             deliveries=deliveries)
    second = [m for e in log.of_type(MESSAGES_QUEUED) if e["data"]["attempt"] == 2
              for m in e["data"]["messages"]]
    assert sorted(m["customer_external_id"] for m in second) == ["c1", "c2"]
    assert {m["text"] for m in second} == {"Hi P1", "Hi P2"}
    during = handlers.get_campaign(cid, store=store, deliveries=deliveries)
    assert during["stats"] == {"audience_size": 4, "sent": 1, "failed": 0, "pending": 3,
                               "matched": 4, "excluded": no_exclusions()}

    new_ids = sorted(m["message_id"] for m in second)
    deliveries.reported.update({new_ids[0]: "SENT", new_ids[1]: "FAILED",
                                f"{cid}.1.3": "SENT"})
    after = handlers.get_campaign(cid, store=store, deliveries=deliveries)
    assert after["stats"] == {"audience_size": 4, "sent": 3, "failed": 1, "pending": 0,
                              "matched": 4, "excluded": no_exclusions()}
    assert after["status"] == "completed"

    failed, _ = list_messages(cid, "FAILED", None, 50, store=store, deliveries=deliveries)
    assert [(e["customer_external_id"], e["attempt"]) for e in failed] == [("c2", 2)]
    everyone, _ = list_messages(cid, None, None, 50, store=store, deliveries=deliveries)
    assert [e["status"] for e in everyone] == ["SENT", "SENT", "FAILED", "SENT"]


def test_retry_is_refused_when_nothing_failed_or_already_running():
    store, log, deliveries = FakeStore(), FakeEventLog(), FakeDeliveries()
    cid = launched(store, log)
    fanout.queue_chunk(chunk(cid, 0, 1, 2, people(0, 2)), NOW, store=store, event_log=log)
    with pytest.raises(handlers.RetryRefused) as refusal:
        handlers.retry_failed(cid, NOW, store=store, deliveries=deliveries, event_log=log)
    assert refusal.value.code == "NOTHING_TO_RETRY"
    deliveries.reported[f"{cid}.1.0"] = "FAILED"
    handlers.retry_failed(cid, NOW, store=store, deliveries=deliveries, event_log=log)
    with pytest.raises(handlers.RetryRefused) as refusal:
        handlers.retry_failed(cid, NOW, store=store, deliveries=deliveries, event_log=log)
    assert refusal.value.code == "ATTEMPT_IN_PROGRESS"


def resumed_event(log, cid):
    return [e for e in log.of_type(CAMPAIGN_RESUMED) if e["data"]["campaign_id"] == cid][-1]


def change(cid, action, store, log, deliveries):
    return control.change_control(cid, action, NOW, store=store, deliveries=deliveries,
                                  event_log=log)


def test_resume_requeues_the_latest_unreported_messages_with_their_ids_once():
    store, log, deliveries = FakeStore(), FakeEventLog(), FakeDeliveries()
    cid = launched(store, log)
    fanout.queue_chunk(chunk(cid, 0, 1, 5, people(0, 5)), NOW, store=store, event_log=log)
    deliveries.reported.update({f"{cid}.1.0": "SENT", f"{cid}.1.1": "FAILED",
                                f"{cid}.1.2": "FAILED"})
    handlers.retry_failed(cid, NOW, store=store, deliveries=deliveries, event_log=log)
    fanout.handle_events([log.of_type(CAMPAIGN_LAUNCHED)[-1]], NOW, store=store, event_log=log,
                         deliveries=deliveries)
    retried = {m["customer_external_id"]: m["message_id"] for m in queued_messages(log)
               if m["message_id"].startswith(f"{cid}.2.")}
    deliveries.reported[retried["c2"]] = "SENT"  # c1's new message is still out

    assert change(cid, "pause", store, log, deliveries)["status"] == "paused"
    before = len(log.of_type(MESSAGES_QUEUED))
    fanout.handle_events(list(log.logged.values())[-1:], NOW, store=store, event_log=log,
                         deliveries=deliveries)  # the paused event queues nothing
    assert len(log.of_type(MESSAGES_QUEUED)) == before
    assert change(cid, "resume", store, log, deliveries)["status"] == "sending"
    event = resumed_event(log, cid)
    for _ in range(2):  # a redelivered resume queues nothing more
        fanout.handle_events([event], NOW, store=store, event_log=log, deliveries=deliveries)
    again = log.of_type(MESSAGES_QUEUED)[before:]
    assert [(e["data"]["attempt"], len(e["data"]["messages"])) for e in again] == [(1, 2), (2, 1)]
    requeued = {m["customer_external_id"]: m["message_id"]
                for e in again for m in e["data"]["messages"]}
    assert requeued == {"c1": retried["c1"], "c3": f"{cid}.1.3", "c4": f"{cid}.1.4"}
    assert {m["text"] for e in again for m in e["data"]["messages"]} == {"Hi P1", "Hi there",
                                                                         "Hi P4"}

    # A crash before the re-queue was recorded queues the same messages, same event ids.
    store.update_control(cid, 2, {"requeued_at": None})
    fanout.handle_events([event], NOW, store=store, event_log=log, deliveries=deliveries)
    assert len(log.of_type(MESSAGES_QUEUED)) == before + 2
    stats = handlers.get_campaign(cid, store=store, deliveries=deliveries)["stats"]
    assert stats == {"audience_size": 5, "sent": 2, "failed": 0, "pending": 3,
                     "matched": 5, "excluded": no_exclusions()}


def test_a_resume_overtaken_by_a_later_change_queues_nothing():
    store, log, deliveries = FakeStore(), FakeEventLog(), FakeDeliveries()
    cid = launched(store, log)
    fanout.queue_chunk(chunk(cid, 0, 1, 2, people(0, 2)), NOW, store=store, event_log=log)
    change(cid, "pause", store, log, deliveries)
    change(cid, "resume", store, log, deliveries)
    event = resumed_event(log, cid)
    change(cid, "cancel", store, log, deliveries)
    before = len(log.of_type(MESSAGES_QUEUED))
    fanout.handle_events([event], NOW, store=store, event_log=log, deliveries=deliveries)
    assert len(log.of_type(MESSAGES_QUEUED)) == before
    assert handlers.get_campaign(cid, store=store, deliveries=deliveries)["status"] == "cancelled"


def test_the_dispatcher_applies_a_change_the_api_logged_but_did_not_apply():
    store, log, deliveries = FakeStore(), FakeEventLog(), FakeDeliveries()
    cid = launched(store, log)
    store.insert_control(cid, 1, {"action": "pause", "control": "paused", "attempt": 1,
                                  "at": NOW})
    event = new_event(CAMPAIGN_PAUSED, {"campaign_id": cid, "sequence": 1, "attempt": 1},
                      producer="campaigns")
    fanout.handle_events([event], NOW, store=store, event_log=log, deliveries=deliveries)
    assert store.find(cid)["control"] == "paused" and store.find(cid)["control_seq"] == 1
    assert handlers.get_campaign(cid, store=store, deliveries=deliveries)["status"] == "paused"
