"""The frequency cap: GET/PUT of the setting, and launches decided one after another through
the dispatcher's send ledger, so nobody goes over the cap whatever order launches land in."""
from __future__ import annotations

import itertools
from datetime import timedelta

import pytest
from campaigns import handlers
from campaigns.app import create_app
from campaigns.delivery import fanout
from campaigns.recipients.frequency_cap import Cap, LedgerOwner

from shared.backbone.events import MESSAGES_QUEUED
from tests.support.campaign_fakes import FakeDependencies
from tests.support.fakes import NOW, FakeCapStore, FakeDeliveries, FakeEventLog, chunk
from tests.support.fakes import FakeCampaignStore as FakeStore

MEMBERS = [{"external_id": f"c{n}", "email": f"c{n}@x.in"} for n in range(6)]


class Shop:
    def __init__(self, cap: Cap):
        self.store, self.log, self.deliveries = FakeStore(), FakeEventLog(), FakeDeliveries()
        self.caps = FakeCapStore(self.store, cap)
        self.ledger = LedgerOwner(self.caps)

    def create(self, at=NOW, **options) -> str:
        body = {"name": "Sale", "rules": {"field": "city", "op": "eq", "value": "x"},
                "message": "Hi", **options}
        return handlers.create_campaign(body, at, store=self.store, segment_rules=None,
                                        event_log=self.log)["id"]

    def deliver(self, cid, members=MEMBERS, index=0, count=1):
        event = chunk(cid, index, count, len(members) * count, members)
        fanout.handle_events([event], NOW, store=self.store, event_log=self.log,
                             deliveries=self.deliveries, ledger=self.ledger)

    def messaged(self, cid) -> set[str]:
        return {m["customer_external_id"] for e in self.log.of_type(MESSAGES_QUEUED)
                if e["data"]["campaign_id"] == cid for m in e["data"]["messages"]}

    def stats(self, cid) -> dict:
        return handlers.get_campaign(cid, store=self.store, deliveries=self.deliveries)["stats"]


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_three_simultaneous_launches_under_a_cap_of_two_give_nobody_three(order):
    shop = Shop(Cap(2, 7))
    campaigns = [shop.create() for _ in range(3)]
    for n in order:  # chunks of launches made in the same second, decided in any order
        shop.deliver(campaigns[n])
    for member in MEMBERS:
        got = sum(member["external_id"] in shop.messaged(cid) for cid in campaigns)
        assert got == 2
    last = campaigns[order[-1]]
    assert shop.stats(last)["excluded"]["capped"] == len(MEMBERS)
    assert shop.stats(last)["audience_size"] == 0 and shop.stats(last)["matched"] == 6


def test_only_campaigns_within_the_window_count_and_ignoring_still_counts():
    shop = Shop(Cap(1, 7))
    old = shop.create(at=NOW - timedelta(days=8))
    shop.deliver(old)
    recent = shop.create(ignore_frequency_cap=True)
    shop.deliver(recent, MEMBERS[:3])
    assert shop.messaged(recent) == {"c0", "c1", "c2"}
    third = shop.create()
    shop.deliver(third)
    assert shop.messaged(third) == {"c3", "c4", "c5"}  # the old one is out of the window
    assert shop.stats(third)["excluded"]["capped"] == 3


def test_no_cap_reads_no_ledger_and_a_redelivered_chunk_keeps_its_decision():
    shop = Shop(Cap(None, 7))
    first = shop.create()
    shop.deliver(first)
    assert shop.caps.loads == 0
    shop.caps.cap = Cap(1, 7)
    second = shop.create()
    shop.deliver(second, MEMBERS[:3])  # loads the ledger from the logs: everyone has 1
    assert shop.messaged(second) == set() and shop.caps.loads == 1
    third = shop.create(ignore_frequency_cap=True)
    shop.deliver(third, MEMBERS[:2], index=0, count=2)
    shop.store.collections[f"chunks_{third}"].clear()  # crashed before its chunk record
    shop.deliver(third, MEMBERS[:2], index=0, count=2)
    assert shop.messaged(third) == {"c0", "c1"}


@pytest.fixture
def client():
    deps = FakeDependencies()
    deps.cap_store = FakeCapStore(deps.store)
    return create_app(deps.config, dependencies=deps).test_client()


def test_the_setting_is_none_by_default_and_put_replaces_it(client):
    assert client.get("/api/v1/settings/frequency-cap").get_json() == {
        "max_messages": None, "per_days": 7}
    answer = client.put("/api/v1/settings/frequency-cap", json={"max_messages": 2, "per_days": 7})
    assert answer.status_code == 200 and answer.get_json() == {"max_messages": 2, "per_days": 7}
    assert client.put("/api/v1/settings/frequency-cap",
                      json={"max_messages": None}).get_json()["max_messages"] is None


@pytest.mark.parametrize("body", [{"max_messages": 0, "per_days": 7},
                                  {"max_messages": 2, "per_days": 0},
                                  {"max_messages": 2, "per_days": 91},
                                  {"max_messages": 2.5, "per_days": 7},
                                  {"max_messages": True, "per_days": 7},
                                  {"max_messages": "2", "per_days": 7},
                                  {"max_messages": 2, "per_days": None},
                                  {"per_days": 7}, {"max_messages": 2, "extra": 1}, [], "x"])
def test_out_of_range_is_a_400_and_changes_nothing(client, body):
    client.put("/api/v1/settings/frequency-cap", json={"max_messages": 3, "per_days": 30})
    answer = client.put("/api/v1/settings/frequency-cap", json=body)
    assert answer.status_code == 400 and answer.get_json()["error"]["code"] in (
        "INVALID_BODY", "MALFORMED_JSON")
    assert client.get("/api/v1/settings/frequency-cap").get_json() == {
        "max_messages": 3, "per_days": 30}
