"""profile.updated from the real projector into a running audience index (RabbitMQ + FerretDB)."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest

from shared.backbone.events import PROFILE_UPDATED
from tests.support.audiences import (
    RULES,
    EventWatcher,
    PausingDatabase,
    count,
    reference_counts,
    running_index,
    shop_events,
)
from tests.support.profiles import (
    BASE,
    customer_upserted,
    order_placed,
    running_projector,
    wait_for,
)

pytestmark = pytest.mark.integration


PUNE = {"field": "city", "op": "eq", "value": "pune"}
BIG_SPENDERS = {"field": "total_spend", "op": "gte", "value": 1000}


def test_customer_and_order_events_change_the_preview_count(config, publisher):
    with running_projector(config), running_index(config) as (_holder, http):
        assert count(http, PUNE) == 0
        publisher.publish([customer_upserted(f"c{i}", city="Pune" if i < 3 else "Delhi")
                           for i in range(5)])
        wait_for(lambda: count(http, PUNE) == 3, "three customers in Pune")
        publisher.publish([order_placed("o1", "c0", 600, BASE), order_placed("o2", "c0", 400, BASE),
                           order_placed("o3", "c4", 999, BASE)])
        wait_for(lambda: count(http, BIG_SPENDERS) == 1, "one big spender")
        publisher.publish([customer_upserted("c1", city="Mumbai")])
        wait_for(lambda: count(http, PUNE) == 2, "c1 moving to Mumbai")
        body = http.post("/api/v1/segments/preview",
                         json={"rules": {"all": [PUNE, BIG_SPENDERS]}}).get_json()
        assert [p["external_id"] for p in body["sample"]] == ["c0"]
        assert body["sample"][0]["total_spend"] == 1000.0
        assert [step["cumulative"] for step in body["breakdown"]] == [2, 1]


def test_every_touched_profile_is_announced_again_on_redelivery(config, publisher):
    watcher = EventWatcher(config, PROFILE_UPDATED)
    try:
        events = [customer_upserted("c1"), order_placed("o1", "c1", 10, BASE),
                  order_placed("o2", "stub", 5, BASE)]
        with running_projector(config):
            publisher.publish(events)
            first = [json.loads(body) for body in watcher.take(2)]
            publisher.publish(events)  # a redelivery: nothing changes, both are announced again
            again = [json.loads(body) for body in watcher.take(2)]
    finally:
        watcher.close()
    latest = {}
    for event in sorted(first, key=lambda e: e["data"]["version"]):
        latest[event["data"]["external_id"]] = event["data"]
    assert (latest["c1"]["order_count"], latest["c1"]["total_spend"]) == (1, 10.0)
    assert latest["c1"]["name"] == "Customer c1" and latest["c1"]["stub"] is False
    assert latest["c1"]["last_order_at"] == "2024-03-01T00:00:00.000Z"
    assert latest["stub"]["stub"] is True and latest["stub"]["version"] == 1
    assert {(e["event_id"], e["data"]["version"]) for e in again} <= \
        {(e["event_id"], e["data"]["version"]) for e in first}
    assert {e["data"]["external_id"] for e in again} == {"c1", "stub"}


def test_an_update_written_during_the_load_is_not_lost(config, publisher, store):
    """The replica declares its queue before it reads the database: a customer read
    early in the load and changed before it ends is updated from the queue."""
    ids = [f"c{i:02d}" for i in range(120)]
    paused, resume = threading.Event(), threading.Event()
    with running_projector(config):
        publisher.publish([customer_upserted(i, city="Delhi") for i in ids])
        wait_for(lambda: all(store.find(i) for i in ids), "the customers")
        database = PausingDatabase(config, paused, resume)
        result: dict = {}
        loading = threading.Thread(target=_load_and_count, args=(config, database, ids, result))
        loading.start()
        assert paused.wait(30), "the load never started"
        publisher.publish([customer_upserted(i, city="Pune") for i in ids])  # all of them
        wait_for(lambda: all(store.find(i)["city"] == "Pune" for i in ids), "the moves")
        resume.set()
        loading.join(60)
    assert not loading.is_alive() and result["pune"] == len(ids)


def _load_and_count(config, database, ids, result: dict) -> None:
    with running_index(config, database=database, ready_timeout=60) as (_holder, http):
        wait_for(lambda: count(http, PUNE) == len(ids), "every move in the index")
        result["pune"] = count(http, PUNE)


def test_preview_counts_equal_the_reference_evaluator_on_projected_profiles(config, publisher,
                                                                            store):
    events, ids = shop_events(seed=11, customers=150, orders=400)
    now = BASE + timedelta(days=60)
    with running_projector(config):
        publisher.publish(events)
        last = events[-1]["data"]
        wait_for(lambda: (p := store.find(last["customer_external_id"])) and
                 last["external_id"] in p["projection"]["order_ids"], "the last order")
        wait_for(lambda: all(store.find(i) for i in ids), "every customer")
        with running_index(config) as (_holder, http):
            http.application.extensions["segments.clock"] = lambda: now
            expected = reference_counts([store.find(i) for i in ids], now)
            got = {name: count(http, rule) for name, rule in RULES.items()}
    assert got == expected
    assert len({c for c in expected.values()}) > 5  # the rules tell customers apart
