"""`crm replay profiles` rebuilds exactly what the live projector built."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest
from click.testing import CliRunner
from segments.projection.profile_store import PROFILES, REBUILD, RETIRED, ProfileStore
from segments.projection.profiles import version_of
from segments.projection.replay import replay

from shared import mongo
from shared.backbone.outbox import EventLog
from shared.backbone.publisher import Publisher
from tests.support.profiles import (
    BASE,
    comparable,
    customer_upserted,
    environment,
    iso,
    order_placed,
    running_projector,
    wait_for,
)

pytestmark = pytest.mark.integration



def history(customers: int = 40, orders: int = 150) -> list[list[dict]]:
    """Ingest-like requests: customers, orders (some before their customer's update),
    customer updates, a re-sent batch of orders, and an update older than its predecessor."""
    rng = random.Random(11)
    requests = [[customer_upserted(f"c{i:03d}") for i in range(customers)]]
    order_events = [order_placed(f"o{n:04d}", f"c{rng.randrange(customers):03d}",
                                 round(rng.uniform(1, 9000), 2),
                                 BASE + timedelta(hours=rng.randrange(2000)))
                    for n in range(orders)]
    requests += [order_events[i:i + 25] for i in range(0, orders, 25)]
    requests.append([customer_upserted(f"c{i:03d}", city="Delhi", visits=7,
                                       last_visit_at=iso(BASE + timedelta(days=120)))
                     for i in range(0, customers, 3)])
    requests.append(order_events[:30])  # re-sent: same order events again
    requests.append([{**customer_upserted("c003", city="Stale"), "occurred_at": iso(BASE)}])
    return requests


def test_replay_equals_the_live_projection(config):
    client = mongo.connect(config.settings)
    publisher = Publisher(config.settings)
    log = EventLog(client[config.settings.database_name("ingest")], publisher)
    segments_db = client[config.database_name]
    store = ProfileStore(segments_db)
    runner = CliRunner()
    try:
        with running_projector(config):
            for request in history():
                log.append(request)
            log.append([customer_upserted("sentinel")])
            wait_for(lambda: store.find("sentinel"), "the live projection to catch up")
            refused = runner.invoke(replay, ["profiles"], env=environment(config))
            assert refused.exit_code != 0 and "stop the profile projector" in refused.output
        live = {p["_id"]: comparable(p) for p in store.all_profiles()}
        assert live["c003"]["city"] == "Delhi" and len(live) == 41
        live_versions = {p["_id"]: version_of(p) for p in store.all_profiles()}

        result = runner.invoke(replay, ["profiles", "--progress-every", "100"],
                               env=environment(config))
        assert result.exit_code == 0, result.output
        assert "events read" in result.output and "swapped them in" in result.output
        rebuilt = {p["_id"]: comparable(p) for p in store.all_profiles()}
        assert rebuilt == live
        # One above the replaced version, so audience indexes take later announcements.
        assert {p["_id"]: version_of(p) for p in store.all_profiles()} == \
            {external_id: version + 1 for external_id, version in live_versions.items()}
        names = segments_db.list_collection_names()
        assert PROFILES in names and REBUILD not in names and RETIRED not in names
    finally:
        publisher.close()
        client.close()


def test_an_empty_log_empties_the_profiles_only_when_forced(config):
    client = mongo.connect(config.settings)
    try:
        store = ProfileStore(client[config.database_name])
        store.insert_new([{"_id": "left-over", "projection": {"customer_event": None}}])
        refused = CliRunner().invoke(replay, ["profiles"], env=environment(config))
        assert refused.exit_code != 0 and "--force" in refused.output
        assert store.find("left-over") is not None
        result = CliRunner().invoke(replay, ["profiles", "--force"], env=environment(config))
        assert result.exit_code == 0, result.output
        assert list(store.all_profiles()) == []
    finally:
        client.close()
