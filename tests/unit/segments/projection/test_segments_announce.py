"""project_and_announce: versions, profile.updated for every touched profile, redelivery."""
from __future__ import annotations

import pytest
from segments.bootstrap import DirectAnnouncer, SegmentsPublisher
from segments.projection.handlers import ProfileCache, project_and_announce
from segments.projection.profiles import apply_event, profile_updated_event, version_of

from shared.backbone.events import PROFILE_UPDATED, upcast
from shared.backbone.publisher import PublishError, Unroutable
from tests.support.fakes import FakeEventLog, FakeProfileStore, batch_for_two_customers
from tests.support.profile_events import customer_event, order_event


def announced_in(log, index=-1) -> dict[str, dict]:
    """The profile.updated events of one append, by customer."""
    return {event["data"]["external_id"]: event for event in log.batches[index]}


@pytest.fixture
def store():
    return FakeProfileStore()


@pytest.fixture
def log():
    return FakeEventLog()


def announce(events, store, log, cache=None):
    return project_and_announce(events, store=store, cache=cache or ProfileCache(100),
                                event_log=log)


def test_every_change_bumps_the_version_once_per_batch(store, log):
    announce(batch_for_two_customers(), store, log)
    assert version_of(store.documents["c1"]) == 1 and version_of(store.documents["c2"]) == 1
    announce([order_event("o4", 10, "2024-03-04T00:00:00Z"),
              order_event("o5", 10, "2024-03-05T00:00:00Z")], store, log)
    assert version_of(store.documents["c1"]) == 2
    assert version_of(store.documents["c2"]) == 1


def test_each_touched_profile_is_announced_with_its_public_fields_and_version(store, log):
    announce(batch_for_two_customers(), store, log)
    announced = announced_in(log)
    assert set(announced) == {"c1", "c2"}
    c1 = announced["c1"]
    assert c1["event_type"] == PROFILE_UPDATED and c1["producer"] == "segments"
    assert c1["data"] == {
        "external_id": "c1", "name": "Asha Rao", "email": "asha@example.com", "phone": None,
        "city": "Pune", "tags": ["vip"], "signed_up_at": "2024-01-01T00:00:00.000Z",
        "visits": 3, "last_visit_at": "2024-03-01T10:00:00.000Z", "total_spend": 125.5,
        "order_count": 2, "last_order_at": "2024-03-03T00:00:00.000Z",
        "last_active_at": "2024-03-03T00:00:00.000Z", "version": 1, "stub": False,
        "marketing_consent": "subscribed", "marketing_consent_at": None, "suppressed": False,
        "suppression_reason": None, "suppressed_since": None, "suppression_campaign_id": None,
        # each order's placed_at (epoch ms) and amount, for order windows
        "orders": {"placed_at": [1709251200000, 1709424000000], "amount": [100.0, 25.5]}}
    assert announced["c2"]["data"]["stub"] is True  # only an order so far
    # The last event about the customer caused the announcement.
    assert c1["causation_id"] == "e-o3" and c1["correlation_id"] == "x"
    assert upcast(c1)["data"]["version"] == 1  # valid against the registered schema


def test_a_redelivered_batch_announces_the_same_events_again_without_writing(store, log):
    announce(batch_for_two_customers(), store, log)
    first = announced_in(log)
    written = [ids for ids in store.inserts + store.replaces if ids]
    announce(batch_for_two_customers(), store, log, cache=ProfileCache(100))
    again = announced_in(log)
    assert [ids for ids in store.inserts + store.replaces if ids] == written
    assert {k: e["event_id"] for k, e in again.items()} == \
        {k: e["event_id"] for k, e in first.items()}
    assert {k: e["data"] for k, e in again.items()} == {k: e["data"] for k, e in first.items()}


def test_an_unchanged_profile_is_announced_at_its_current_version(store, log):
    announce(batch_for_two_customers(), store, log)
    announce([order_event("o9", 10, "2024-03-09T00:00:00Z", customer="c2")], store, log)
    announce([order_event("o1", 100, "2024-03-01T00:00:00Z"),  # c1: a duplicate order
              order_event("o9", 10, "2024-03-09T00:00:00Z", customer="c2")], store, log)
    announced = announced_in(log)
    assert announced["c1"]["data"]["version"] == 1 and announced["c2"]["data"]["version"] == 2
    assert announced["c1"]["event_id"] == announced_in(log, 0)["c1"]["event_id"]


def test_announcements_follow_the_profile_writes(store, log):
    log.fail = True
    with pytest.raises(ConnectionError):
        announce([customer_event("e1", "2024-04-01T00:00:00Z")], store, log)
    assert "c1" in store.documents  # written first: the redelivery will announce it
    log.fail = False
    announce([customer_event("e1", "2024-04-01T00:00:00Z")], store, log)
    assert announced_in(log)["c1"]["data"]["version"] == 1


def test_event_ids_differ_between_versions_and_customers(store, log):
    announce([customer_event("e1", "2024-04-01T00:00:00Z")], store, log)
    announce([customer_event("e2", "2024-04-02T00:00:00Z", city="Delhi")], store, log)
    announce([customer_event("e3", "2024-04-01T00:00:00Z", external_id="c9")], store, log)
    ids = [event["event_id"] for batch in log.batches for event in batch]
    assert len(set(ids)) == 3


class RefusingPublisher:
    def __init__(self, error):
        self.error, self.batches = error, []

    def publish(self, events):
        self.batches.append(events)
        raise self.error


def test_profile_updates_nobody_is_bound_for_are_let_go_but_nothing_else_is():
    updated = profile_updated_event(apply_event(None, customer_event("e1", "2024-04-01T00:00Z")))
    chunk = {**updated, "event_type": "audience.chunk"}
    publisher = SegmentsPublisher(RefusingPublisher(Unroutable("no queue")))
    publisher.publish([updated])  # no index replica yet: it loads from the database later
    with pytest.raises(Unroutable):
        publisher.publish([updated, chunk])
    with pytest.raises(PublishError):
        SegmentsPublisher(RefusingPublisher(PublishError("nack"))).publish([updated])


def test_the_direct_announcer_raises_when_publishing_fails(store):
    announcer = DirectAnnouncer(RefusingPublisher(PublishError("broker down")))
    with pytest.raises(PublishError):
        announce([customer_event("e1", "2024-04-01T00:00:00Z")], store, announcer)
    assert "c1" in store.documents  # the redelivered batch announces it
