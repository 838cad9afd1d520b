"""The profile projector against real RabbitMQ and FerretDB: publish, project, redeliver, read."""
from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal

import pytest
from segments.app import create_app
from segments.projection.profile_store import ProfileStore

from shared.backbone.outbox import EventLog
from tests.support.profiles import (
    BASE,
    customer_upserted,
    iso,
    order_placed,
    running_projector,
    wait_for,
)

pytestmark = pytest.mark.integration



def shop(customers: int, orders: int, seed: int = 7) -> tuple[list[dict], dict[str, dict]]:
    """Customer and order events, and the totals each customer must end with."""
    rng = random.Random(seed)
    events = [customer_upserted(f"c{i:03d}") for i in range(customers)]
    expected = {f"c{i:03d}": {"spend": Decimal(0), "count": 0, "last": None}
                for i in range(customers)}
    for n in range(orders):
        customer = f"c{rng.randrange(customers):03d}"
        amount = round(rng.uniform(1, 5000), 2)
        placed_at = BASE + timedelta(days=rng.randrange(30), seconds=n)
        events.append(order_placed(f"o{n:05d}", customer, amount, placed_at))
        totals = expected[customer]
        totals["spend"] += Decimal(str(amount))
        totals["count"] += 1
        totals["last"] = max(filter(None, [totals["last"], placed_at]))
    return events, expected


def projected(store: ProfileStore, expected: dict[str, dict]) -> dict[str, dict] | None:
    """Every expected profile once all its orders are counted, else None."""
    found = {}
    for customer_id, totals in expected.items():
        profile = store.find(customer_id)
        if profile is None or profile["order_count"] != totals["count"] or profile["name"] is None:
            return None
        found[customer_id] = profile
    return found


def test_published_events_become_profiles_and_redelivery_changes_nothing(config, client,
                                                                         publisher):
    events, expected = shop(customers=20, orders=80)
    store = ProfileStore(client[config.database_name])
    with running_projector(config):
        publisher.publish(events)
        profiles = wait_for(lambda: projected(store, expected), "the profiles")
        for customer_id, totals in expected.items():
            profile = profiles[customer_id]
            assert profile["total_spend"] == float(totals["spend"])
            assert profile["last_order_at"] == totals["last"]
            assert profile["last_active_at"] == max(totals["last"] or BASE,
                                                    BASE + timedelta(days=3))

        publisher.publish(events)  # redelivered: every one of them again
        publisher.publish([customer_upserted("sentinel")])
        wait_for(lambda: store.find("sentinel"), "the events published after the duplicates")
        assert {cid: store.find(cid) for cid in expected} == profiles


def test_events_appended_to_the_event_log_are_projected(config, client, publisher):
    log = EventLog(client[config.settings.database_name("ingest")], publisher)
    store = ProfileStore(client[config.database_name])
    with running_projector(config):
        log.append([customer_upserted("c1"),
                    order_placed("o1", "c1", 120.25, BASE + timedelta(days=10))])
        log.append([order_placed("o2", "c1", 79.75, BASE + timedelta(days=5))])
        profile = wait_for(lambda: (p := store.find("c1")) and p["order_count"] == 2 and p,
                           "c1's two orders")
    assert profile["total_spend"] == 200.0
    assert profile["last_order_at"] == BASE + timedelta(days=10)
    assert profile["last_active_at"] == BASE + timedelta(days=10)


def test_an_older_customer_update_arriving_later_does_not_revert_a_newer_one(config, client,
                                                                            publisher):
    store = ProfileStore(client[config.database_name])
    newer = customer_upserted("c1", city="Mumbai", visits=9)
    older = {**customer_upserted("c1", city="Pune", visits=1),
             "occurred_at": iso(BASE)}  # created long before `newer`
    with running_projector(config):
        publisher.publish([order_placed("o1", "c1", 10, BASE), newer])
        wait_for(lambda: (p := store.find("c1")) and p["city"] == "Mumbai", "the newer update")
        publisher.publish([older, customer_upserted("sentinel")])
        wait_for(lambda: store.find("sentinel"), "the older update to be handled")
    profile = store.find("c1")
    assert (profile["city"], profile["visits"], profile["order_count"]) == ("Mumbai", 9, 1)


def test_the_api_shows_projected_profiles_and_pages_through_each_once(config, client,
                                                                      publisher):
    events, expected = shop(customers=23, orders=40, seed=3)
    events.append(order_placed("o-stub", "no-customer-yet", 5, BASE))
    store = ProfileStore(client[config.database_name])
    with running_projector(config):
        publisher.publish(events)
        wait_for(lambda: projected(store, expected) and store.find("no-customer-yet"),
                 "the profiles")
    http = create_app(config).test_client()

    one = http.get("/api/v1/customers/c001")
    assert one.status_code == 200
    body = one.get_json()
    assert body["external_id"] == "c001" and body["order_count"] == expected["c001"]["count"]
    assert body["last_visit_at"] == "2024-03-04T00:00:00.000Z"
    assert "projection" not in body and "_id" not in body
    missing = http.get("/api/v1/customers/nobody")
    assert missing.status_code == 404
    assert missing.get_json()["error"]["code"] == "CUSTOMER_NOT_FOUND"
    assert http.get("/api/v1/customers/no-customer-yet").status_code == 404  # a stub

    seen, cursor = [], None
    for _ in range(10):
        page = http.get("/api/v1/customers", query_string={"limit": 7, **(
            {"cursor": cursor} if cursor else {})}).get_json()
        seen += [item["external_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == sorted(expected)
    assert http.get("/api/v1/customers", query_string={"cursor": "%%"}).status_code == 400
