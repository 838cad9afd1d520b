"""The `orders` collection against real RabbitMQ and FerretDB: projected once per order,
unchanged by redelivery, listed by the API, rebuilt by `crm replay profiles`."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from click.testing import CliRunner
from segments.app import create_app
from segments.projection.order_store import ORDERS, ORDERS_REBUILD, ORDERS_RETIRED, OrderStore
from segments.projection.profile_store import ProfileStore
from segments.projection.profiles import BOOKKEEPING, parse_time
from segments.projection.replay import replay

from shared.backbone.outbox import EventLog
from shared.backbone.publisher import Publisher
from tests.support.profiles import (
    BASE,
    customer_upserted,
    environment,
    order_placed,
    running_projector,
    wait_for,
)

pytestmark = pytest.mark.integration



def shop(customers: int = 12, orders: int = 60, seed: int = 5):
    """Customer and order events (one order of a customer never ingested: a stub),
    and the order documents they must leave."""
    rng = random.Random(seed)
    events = [customer_upserted(f"c{i:02d}") for i in range(customers)]
    for n in range(orders):
        placed_at = BASE + timedelta(days=rng.randrange(20), milliseconds=rng.randrange(3))
        events.append(order_placed(f"o{n:03d}", f"c{rng.randrange(customers):02d}",
                                   round(rng.uniform(1, 5000), 2), placed_at))
    events.append(order_placed("o-stub", "not-yet", 12.5, BASE))
    expected = {e["data"]["external_id"]: {
        "_id": e["data"]["external_id"], "customer_external_id": e["data"]["customer_external_id"],
        "amount": e["data"]["amount"], "placed_at": parse_time(e["data"]["placed_at"])}
        for e in events if e["event_type"] == "order.placed"}
    return events, expected


def all_orders(store: OrderStore) -> dict[str, dict]:
    return {order["_id"]: order for order in store.all_orders()}


def listed_ids(profiles: ProfileStore) -> set[str]:
    return {order_id for profile in profiles.all_profiles()
            for order_id in profile[BOOKKEEPING]["order_ids"]}


def test_the_projector_writes_each_order_once_and_redelivery_changes_nothing(config, client):
    events, expected = shop()
    database = client[config.database_name]
    orders, profiles = OrderStore(database), ProfileStore(database)
    publisher = Publisher(config.settings)
    try:
        with running_projector(config):
            publisher.publish(events)
            wait_for(lambda: len(listed_ids(profiles)) == len(expected), "every order counted")
            assert all_orders(orders) == expected
            assert listed_ids(profiles) == set(expected)

            publisher.publish(events)  # redelivered: every event again
            publisher.publish([customer_upserted("sentinel")])
            wait_for(lambda: profiles.find("sentinel"), "the events after the duplicates")
            assert all_orders(orders) == expected
    finally:
        publisher.close()

    http = create_app(config).test_client()
    mine = sorted((o for o in expected.values() if o["customer_external_id"] == "c03"),
                  key=lambda o: (-o["placed_at"].timestamp(), o["_id"]))
    seen, cursor = [], None
    for _ in range(len(mine) + 2):
        page = http.get("/api/v1/customers/c03/orders", query_string={
            "limit": 2, **({"cursor": cursor} if cursor else {})}).get_json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert [item["external_id"] for item in seen] == [o["_id"] for o in mine] and mine
    assert seen[0]["amount"] == mine[0]["amount"]
    assert http.get("/api/v1/customers/not-yet/orders").status_code == 404  # a stub


def test_replay_rebuilds_the_orders_the_projector_wrote(config, client):
    events, expected = shop(seed=9)
    database = client[config.database_name]
    orders, profiles = OrderStore(database), ProfileStore(database)
    publisher = Publisher(config.settings)
    log = EventLog(client[config.settings.database_name("ingest")], publisher)
    try:
        with running_projector(config):
            log.append(events[:40])
            log.append(events[40:])
            log.append(events[50:60])  # re-sent orders: the same events logged again
            log.append([customer_upserted("sentinel")])
            wait_for(lambda: profiles.find("sentinel"), "the live projection to catch up")
    finally:
        publisher.close()
    live = all_orders(orders)
    assert live == expected

    database[ORDERS].delete_many({"_id": {"$in": ["o000", "o001"]}})  # lost, or never written
    database[ORDERS].insert_one({"_id": "bogus", "customer_external_id": "c00", "amount": 1})
    result = CliRunner().invoke(replay, ["profiles"], env=environment(config))
    assert result.exit_code == 0, result.output
    assert f"{len(expected)} orders" in result.output
    assert all_orders(orders) == live
    assert listed_ids(profiles) == set(live)
    names = database.list_collection_names()
    assert ORDERS in names and ORDERS_REBUILD not in names and ORDERS_RETIRED not in names
