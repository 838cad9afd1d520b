"""One contract per port (shared/ports.py), run against the real adapter on the real
database and broker and against its fake (tests/support/fakes.py): a fake that
drifts from its adapter fails here, not in production."""
from __future__ import annotations

import copy
import json

import pytest
from segments.projection.profile_store import ProfileStore

from shared.backbone.events import ORDER_PLACED
from shared.backbone.outbox import LOG_COLLECTION, EventLog
from shared.backbone.publisher import Publisher
from shared.ports import EventLogPort, ProfileStorePort
from tests.support import backbone
from tests.support.backbone import order_events
from tests.support.fakes import FakeEventLog, FakeProfileStore

sandbox = backbone.sandbox  # fixture: pytest finds fixtures by module-level name


class RealEventLog:
    """The real EventLog, with how to read what it logged and what it published."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.queue = sandbox.queue("contract", [ORDER_PLACED])
        self.publisher = Publisher(sandbox.settings, confirm_timeout=10, retry_for=5)
        self.log = EventLog(sandbox.db, self.publisher)

    def logged_ids(self) -> list[str]:
        return sorted(document["_id"] for document in self.sandbox.db[LOG_COLLECTION].find({}))

    def published_ids(self, at_least: int) -> list[str]:
        return [json.loads(body)["event_id"]
                for _props, body in self.sandbox.take(self.queue, at_least)]

    def close(self) -> None:
        self.publisher.close()


class FakeEventLogView:
    def __init__(self):
        self.log = FakeEventLog()

    def logged_ids(self) -> list[str]:
        return sorted(self.log.logged)

    def published_ids(self, at_least: int) -> list[str]:
        return [event["event_id"] for event in self.log.published]

    def close(self) -> None:
        pass


@pytest.fixture(params=["real", "fake"])
def event_log(request):
    view = RealEventLog(request.getfixturevalue("sandbox")) if request.param == "real" \
        else FakeEventLogView()
    yield view
    view.close()


def test_both_event_logs_are_the_port(event_log):
    port: EventLogPort = event_log.log  # noqa: F841 - the assignment is the static check
    assert callable(event_log.log.append) and callable(event_log.log.relay_pending)


def test_append_logs_each_event_once_and_publishes_the_batch(event_log):
    events = order_events(5)
    assert event_log.log.append(events) is True
    assert event_log.logged_ids() == sorted(e["event_id"] for e in events)
    assert sorted(event_log.published_ids(5)) == sorted(e["event_id"] for e in events)


def test_appending_the_same_events_again_logs_nothing_new(event_log):
    events = order_events(3)
    event_log.log.append(events)
    event_log.log.append(copy.deepcopy(events))
    assert event_log.logged_ids() == sorted(e["event_id"] for e in events)


def test_an_empty_append_is_a_success_that_logs_nothing(event_log):
    assert event_log.log.append([]) is True
    assert event_log.logged_ids() == []


def test_with_nothing_left_behind_the_relay_publishes_nothing(event_log):
    event_log.log.append(order_events(2))
    assert event_log.log.relay_pending() == 0


@pytest.fixture(params=["real", "fake"])
def profiles(request):
    if request.param == "fake":
        yield FakeProfileStore()
        return
    sandbox = request.getfixturevalue("sandbox")
    yield ProfileStore(sandbox.db)


def profile(external_id: str, **fields) -> dict:
    return {"_id": external_id, "name": "Asha Rao", "total_spend": 0.0, **fields}


def test_both_profile_stores_are_the_port(profiles):
    port: ProfileStorePort = profiles  # noqa: F841 - the assignment is the static check
    assert profiles.find("nobody") is None


def test_insert_new_stores_only_new_profiles_and_returns_the_ones_that_existed(profiles):
    assert profiles.insert_new([profile("c1"), profile("c2")]) == []
    existed = profiles.insert_new([profile("c2", name="Changed"), profile("c3")])
    assert [p["_id"] for p in existed] == ["c2"]
    assert profiles.find("c2")["name"] == "Asha Rao"  # the existing one is not overwritten
    assert profiles.find("c3")["_id"] == "c3"


def test_find_many_answers_every_id_asked_none_for_the_unknown(profiles):
    profiles.insert_new([profile("c1")])
    found = profiles.find_many(["c1", "missing"])
    assert set(found) == {"c1", "missing"}
    assert found["c1"]["_id"] == "c1" and found["missing"] is None


def test_replace_overwrites_whole_profiles(profiles):
    profiles.insert_new([profile("c1", total_spend=5.0)])
    profiles.replace([profile("c1", total_spend=7.5, name="New")])
    stored = profiles.find("c1")
    assert (stored["total_spend"], stored["name"]) == (7.5, "New")
