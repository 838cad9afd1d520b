"""Exclusions at launch: each customer counted once, for the first cause, and the stats add
up exactly (matched == audience_size + every exclusion; sent + failed + pending == audience)."""
from __future__ import annotations

from campaigns import handlers
from campaigns.delivery import fanout
from campaigns.recipients import exclusions
from campaigns.recipients.exclusions import CAUSES, decide

from shared.backbone.events import MESSAGES_QUEUED
from tests.support.fakes import NOW, FakeDeliveries, FakeEventLog, chunk
from tests.support.fakes import FakeCampaignStore as FakeStore


def member(n: int, consent="subscribed", suppressed=False) -> dict:
    return {"external_id": f"c{n}", "email": f"c{n}@x.in", "marketing_consent": consent,
            "suppressed": suppressed}


def shop(n: int = 40) -> list[dict]:
    """Every fourth unsubscribed, every third suppressed (some both), the rest eligible."""
    return [member(i, "unsubscribed" if i % 4 == 0 else "subscribed", i % 3 == 0)
            for i in range(n)]


def test_each_customer_is_counted_once_for_the_first_cause():
    campaign = {"_id": "cmp1", "message": "Hi", "holdout_percent": 20}
    decision = decide(campaign, shop(), at_cap=lambda ids: {i for i in ids if i.endswith("5")})
    counts = decision.counts()
    assert list(counts) == list(CAUSES)
    assert decision.excluded["unsubscribed"] == [f"c{i}" for i in range(0, 40, 4)]
    assert decision.excluded["suppressed"] == [f"c{i}" for i in range(40)
                                               if i % 3 == 0 and i % 4 != 0]
    assert decision.excluded["capped"] == [f"c{i}" for i in (5, 25, 35)]  # c15: suppressed
    all_ids = [id_ for ids in decision.excluded.values() for id_ in ids]
    all_ids += [recipient["external_id"] for recipient, _ in decision.messaged]
    assert sorted(all_ids) == sorted(f"c{i}" for i in range(40))  # once each
    assert counts["held_out"] == len(decision.held_out) > 0
    assert decide(campaign, shop()).counts()["capped"] == 0


def test_the_cap_is_asked_only_about_the_customers_still_eligible():
    asked = []
    decide({"_id": "cmp1", "message": "Hi"}, shop(8), at_cap=lambda ids: asked.extend(ids) or set())
    assert asked == ["c1", "c2", "c5", "c7"]


def test_a_launch_messages_only_the_eligible_and_the_stats_add_up():
    store, log, deliveries = FakeStore(), FakeEventLog(), FakeDeliveries()
    body = {"name": "Sale", "rules": {"field": "city", "op": "eq", "value": "x"},
            "message": "Hi"}
    cid = handlers.create_campaign(body, NOW, store=store, segment_rules=None, event_log=log)["id"]
    members = shop()
    first, second = chunk(cid, 0, 2, 40, members[:25]), chunk(cid, 1, 2, 40, members[25:])
    fanout.handle_events([first], NOW, store=store, event_log=log, deliveries=deliveries)
    halfway = handlers.get_campaign(cid, store=store, deliveries=deliveries)["stats"]
    assert halfway["matched"] == halfway["audience_size"] + exclusions.total(halfway["excluded"])
    for event in (second, first, second):  # redelivered: decided once
        fanout.handle_events([event], NOW, store=store, event_log=log, deliveries=deliveries)
    messaged = {m["customer_external_id"] for e in log.of_type(MESSAGES_QUEUED)
                for m in e["data"]["messages"]}
    eligible = {m["external_id"] for m in members
                if m["marketing_consent"] == "subscribed" and not m["suppressed"]}
    assert messaged == eligible
    stats = handlers.get_campaign(cid, store=store, deliveries=deliveries)["stats"]
    assert stats["excluded"] == {"unsubscribed": 10, "suppressed": 10, "capped": 0,
                                 "held_out": 0}
    assert stats["matched"] == 40 and stats["audience_size"] == len(eligible) == 20
    assert stats["sent"] + stats["failed"] + stats["pending"] == stats["audience_size"]
    assert store.find(cid)["excluded"]["unsubscribed"] == 10  # kept once every chunk is in
