"""Every logged and queued message carries its signed unsubscribe link, `{unsubscribe_url}`
renders it, the vendor gets it, and using it marks the message's log entry."""
from __future__ import annotations

from datetime import datetime

from campaigns import handlers
from campaigns.delivery import fanout, sender
from campaigns.delivery.message_log import list_messages

from shared.backbone.envelope import new_event
from shared.backbone.events import CUSTOMER_CONSENT_CHANGED, MESSAGES_QUEUED, upcast
from shared.unsubscribe import links_from_env
from tests.support.fakes import NOW, FakeDeliveries, FakeEventLog, chunk, people
from tests.support.fakes import FakeCampaignStore as FakeStore


def launch(store, log, message):
    body = {"name": "Sale", "rules": {"field": "city", "op": "eq", "value": "x"},
            "message": message}
    cid = handlers.create_campaign(body, NOW, store=store, segment_rules=None, event_log=log)["id"]
    fanout.handle_events([chunk(cid, 0, 1, 3, people(0, 3))], NOW, store=store, event_log=log,
                         deliveries=None)
    return cid


def queued(log):
    return [m for e in log.of_type(MESSAGES_QUEUED) for m in upcast(e)["data"]["messages"]]


def test_each_message_carries_its_own_link_and_the_placeholder_renders_it():
    store, log = FakeStore(), FakeEventLog()
    cid = launch(store, log, "Sale! Stop: {unsubscribe_url}")
    messages = queued(log)
    assert len(messages) == 3
    for message in messages:
        url = message["unsubscribe_url"]
        token = url.rsplit("/u/", 1)[1]
        assert links_from_env().read(token) == (cid, message["customer_external_id"])
        assert message["text"] == f"Sale! Stop: {url}"
    outgoing = sender.vendor_batches(log.of_type(MESSAGES_QUEUED), 500)[0][2]
    assert [m["unsubscribe_url"] for m in outgoing] == [m["unsubscribe_url"] for m in messages]


def consent(cid, customer, source="link", value="unsubscribed"):
    return new_event(CUSTOMER_CONSENT_CHANGED, {"external_id": customer, "marketing_consent": value,
                                                "source": source, "campaign_id": cid},
                     producer="ingest")


def test_using_the_link_marks_the_log_entry_once_and_nothing_else_does():
    store, log = FakeStore(), FakeEventLog()
    cid = launch(store, log, "Hi")
    used = consent(cid, "c1")
    for event in (used, used, consent(cid, "c2", source="api"),
                  consent(cid, "c0", value="subscribed"), consent("../x", "c0"),
                  consent(cid, "nobody")):
        fanout.handle_events([event], NOW, store=store, event_log=log, deliveries=None)
    entries = store.collections[f"messages_{cid}"]
    assert entries["c1"]["unsubscribed_at"] == datetime.fromisoformat(used["occurred_at"])
    assert [c for c, e in entries.items() if "unsubscribed_at" in e] == ["c1"]


def test_the_messages_show_the_vendors_reason_and_when_the_link_was_used():
    store, log, deliveries = FakeStore(), FakeEventLog(), FakeDeliveries()
    cid = launch(store, log, "Hi")
    deliveries.reported.update({f"{cid}.1.0": "FAILED", f"{cid}.1.1": "SENT"})
    deliveries.failure_reasons[f"{cid}.1.0"] = "INVALID_NUMBER"
    fanout.handle_events([consent(cid, "c1")], NOW, store=store, event_log=log,
                         deliveries=deliveries)
    entries, _ = list_messages(cid, None, None, 10, store=store, deliveries=deliveries)
    shown = {entry["customer_external_id"]: entry for entry in entries}
    assert shown["c0"]["reason"] == "INVALID_NUMBER" and shown["c0"]["unsubscribed_at"] is None
    assert shown["c1"]["reason"] is None and shown["c1"]["unsubscribed_at"] is not None
    assert shown["c2"]["status"] == "PENDING" and shown["c2"]["reason"] is None
