"""The dispatcher's handlers with small in-memory fakes: one message per customer,
redeliveries change nothing, retry attempts go to the FAILED recipients only.
(The fakes here are shared with test_campaigns_api.py.)"""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from campaigns import control, fanout, handlers
from campaigns.message_log import list_messages
from campaigns.store import chunk_key, retry_chunk_key

from shared.envelope import new_event
from shared.events import (
    AUDIENCE_CHUNK,
    CAMPAIGN_LAUNCHED,
    CAMPAIGN_PAUSED,
    CAMPAIGN_RESUMED,
    MESSAGES_QUEUED,
)

NOW = datetime(2026, 5, 1, tzinfo=UTC)


class FakeStore:
    def __init__(self):
        self.campaigns, self.attempts, self.collections = {}, {}, {}

    def _c(self, name):
        return self.collections.setdefault(name, {})

    def insert(self, campaign):
        self.campaigns[campaign["_id"]] = dict(campaign)

    def find(self, cid):
        return dict(self.campaigns[cid]) if cid in self.campaigns else None

    def page(self, before, limit):
        ids = sorted((i for i in self.campaigns if before is None or i < before), reverse=True)
        return [dict(self.campaigns[i]) for i in ids[:limit]]

    def update(self, cid, fields):
        self.campaigns[cid].update(fields)

    def insert_attempt(self, cid, attempt, document):
        key = f"{cid}:{attempt}"
        if key in self.attempts:
            return False
        self.attempts[key] = {"_id": key, "campaign_id": cid, "attempt": attempt, **document}
        return True

    def find_attempt(self, cid, attempt):
        return self.attempts.get(f"{cid}:{attempt}")

    def update_attempt(self, cid, attempt, fields):
        self.attempts[f"{cid}:{attempt}"].update(fields)

    def _insert_new(self, name, documents):
        collection, inserted = self._c(name), []
        for n, document in enumerate(documents):
            if document["_id"] not in collection:
                collection[document["_id"]] = dict(document)
                inserted.append(n)
        return inserted

    def insert_messages(self, cid, entries):
        return self._insert_new(f"messages_{cid}", entries)

    def find_messages(self, cid, ids):
        collection = self._c(f"messages_{cid}")
        return {i: collection[i] for i in ids if i in collection}

    def insert_chunk(self, cid, index, document):
        self._insert_new(f"chunks_{cid}", [{"_id": chunk_key(index), **document}])

    def find_chunk(self, cid, index):
        return self._c(f"chunks_{cid}").get(chunk_key(index))

    def all_chunks(self, cid):
        return list(self._c(f"chunks_{cid}").values())

    def queued_chunks(self, cid):
        return len(self._c(f"chunks_{cid}"))

    def freeze_retry(self, cid, attempt, parts):
        for n, part in enumerate(parts):
            self._c(f"retry_chunks_{cid}")[retry_chunk_key(attempt, n)] = dict(part)

    def find_retry_chunk(self, cid, attempt, index):
        return self._c(f"retry_chunks_{cid}").get(retry_chunk_key(attempt, index))

    def insert_retried(self, cid, entries):
        self._insert_new(f"retried_{cid}", entries)

    def find_retried(self, cid, ids):
        collection = self._c(f"retried_{cid}")
        return {i: collection[i] for i in ids if i in collection}

    def all_retried(self, cid):
        return list(self._c(f"retried_{cid}").values())

    def retried_count(self, cid):
        return len(self._c(f"retried_{cid}"))

    def insert_control(self, cid, sequence, document):
        return bool(self._insert_new("controls", [
            {"_id": f"{cid}:{sequence}", "campaign_id": cid, "sequence": sequence,
             **document}]))

    def find_control(self, cid, sequence):
        return self._c("controls").get(f"{cid}:{sequence}")

    def update_control(self, cid, sequence, fields):
        self._c("controls")[f"{cid}:{sequence}"].update(fields)

    def control_of(self, cid):
        return self.campaigns[cid].get("control", "active") if cid in self.campaigns else None

    def all_messages(self, cid):
        return [dict(entry) for entry in self._c(f"messages_{cid}").values()]

    def reachable(self):
        return True


class FakeDeliveries:
    """Receipts' view: message_id -> final status, as reported."""

    def __init__(self):
        self.reported: dict[str, str] = {}

    def counts(self, cid):
        mine = [s for m, s in self.reported.items() if m.startswith(cid + ".")]
        return {"sent": mine.count("SENT"), "failed": mine.count("FAILED")}

    def statuses(self, cid, message_ids):
        return {m: self.reported[m] for m in message_ids if m in self.reported}

    def page(self, cid, status, after, limit):
        ids = sorted(m for m, s in self.reported.items()
                     if s == status and m.startswith(cid + ".") and (after is None or m > after))
        return ids[:limit]


class FakeEventLog:
    def __init__(self):
        self.events: dict[str, dict] = {}  # by event id, as the real log keeps them

    def append(self, batch):
        for event in batch:
            self.events.setdefault(event["event_id"], event)
        return True

    def of_type(self, event_type):
        return [e for e in self.events.values() if e["event_type"] == event_type]


def launched(store, log, message="Hi {first_name|there}") -> str:
    body = {"name": "Sale", "rules": {"field": "city", "op": "eq", "value": "x"},
            "message": message}
    return handlers.create_campaign(body, NOW, store=store, segment_rules=None, event_log=log)["id"]


def chunk(cid, index, count, size, members):
    return new_event(AUDIENCE_CHUNK, {"request_id": f"{cid}:1", "chunk_index": index,
                                      "chunk_count": count, "audience_size": size,
                                      "recipients": members}, producer="segments")


def people(start, count):
    return [{"external_id": f"c{n}", "first_name": None if n % 3 == 0 else f"P{n}",
             "email": f"c{n}@x.in"} for n in range(start, start + count)]


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
    assert before["stats"] == {"audience_size": 4, "sent": 1, "failed": 2, "pending": 1}

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
    assert during["stats"] == {"audience_size": 4, "sent": 1, "failed": 0, "pending": 3}

    new_ids = sorted(m["message_id"] for m in second)
    deliveries.reported.update({new_ids[0]: "SENT", new_ids[1]: "FAILED",
                                f"{cid}.1.3": "SENT"})
    after = handlers.get_campaign(cid, store=store, deliveries=deliveries)
    assert after["stats"] == {"audience_size": 4, "sent": 3, "failed": 1, "pending": 0}
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
    fanout.handle_events(list(log.events.values())[-1:], NOW, store=store, event_log=log,
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
    assert stats == {"audience_size": 5, "sent": 2, "failed": 0, "pending": 3}


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
