"""Helpers for the segments integration tests.

Builds on tests/support/profiles.py (own database prefix, queue prefix and
exchanges per test) and adds a running audience index (the API process's
AudienceHolder with its replica queue and audience consumer), a queue to
watch events on, and the clean-up of every queue these tests declare.
Needs the real RabbitMQ and FerretDB/MongoDB.

The fixture `config` (segments_config, cleaned up with clean_up_segments) is in
tests/integration/segments/conftest.py.
"""
from __future__ import annotations

import dataclasses
import random
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import timedelta

from segments.app import create_app
from segments import bootstrap
from segments.config import SegmentsConfig
from segments.database import SegmentsDatabase
from segments.projection.profile_store import ProfileStore

from shared.backbone import broker
from tests.support.profiles import (
    BASE,
    clean_up,
    customer_upserted,
    iso,
    isolated_config,
    order_placed,
    wait_for,
)
from tests.support.reference_rules import matches


def segments_config(**overrides) -> SegmentsConfig:
    config = isolated_config()
    return dataclasses.replace(config, replica_id=f"r{uuid.uuid4().hex[:6]}",
                               index_load_batch=50, **overrides)


def clean_up_segments(config: SegmentsConfig, extra_queues=()) -> None:
    audiences = config.audiences_queue
    queues = [config.index_queue, audiences, f"{audiences}.retry", f"{audiences}.dead",
              *extra_queues]
    connection = broker.connect(config.settings)
    channel = connection.channel()
    for queue in queues:
        channel.queue_delete(queue)
    connection.close()
    clean_up(config)


@contextmanager
def running_index(config: SegmentsConfig, database=None, ready_timeout: float = 30.0):
    """An AudienceHolder started as the API process starts it, and a test client of
    the app around it; yields (holder, client) once the index is loaded."""
    database = database or SegmentsDatabase(config.settings, config.database_name)
    holder = bootstrap.audience_holder(config, database)
    app = create_app(config, database=database, audience=holder)
    holder.ensure_started()
    try:
        wait_for(lambda: holder.serving, "the audience index to load and consume", ready_timeout)
        yield holder, app.test_client()
    finally:
        holder.stop()


def count(http, rules) -> int:
    response = http.post("/api/v1/segments/preview", json={"rules": rules})
    assert response.status_code == 200, response.get_json()
    return response.get_json()["count"]


def waiting(config) -> int:
    connection = broker.connect(config.settings)
    try:
        return connection.channel().queue_declare(config.index_queue,
                                                  passive=True).method.message_count
    finally:
        connection.close()


class PausingProfiles(ProfileStore):
    """The real store, pausing a full read after its first batch until `resume` is set."""

    def __init__(self, db, paused: threading.Event, resume: threading.Event):
        super().__init__(db)
        self._paused, self._resume = paused, resume

    def scan(self, batch_size=5000):
        for n, batch in enumerate(super().scan(batch_size)):
            yield batch
            if n == 0:
                self._paused.set()
                assert self._resume.wait(60), "the test never resumed the load"


class PausingDatabase(SegmentsDatabase):
    def __init__(self, config, paused, resume):
        super().__init__(config.settings, config.database_name)
        self._events = paused, resume

    def profiles(self):
        return PausingProfiles(self.database(), *self._events)


class EventWatcher:
    """A queue of our own bound to some event types, read with basic_get."""

    def __init__(self, config: SegmentsConfig, *event_types: str):
        self.queue = config.settings.queue_name("test", f"watch-{uuid.uuid4().hex[:6]}")
        self._connection = broker.connect(config.settings, heartbeat=0)
        self._channel = self._connection.channel()
        broker.declare_exchanges(self._channel, config.settings)
        self._channel.queue_declare(self.queue, durable=False, exclusive=True,
                                    arguments={"x-queue-type": "classic"})
        for event_type in event_types:
            self._channel.queue_bind(self.queue, config.settings.exchange, routing_key=event_type)

    def take(self, at_least: int, timeout: float = 30.0, settle: float = 0.5) -> list[bytes]:
        """Every message there is once `at_least` arrived and `settle` seconds passed quietly."""
        taken, deadline, quiet_until = [], time.monotonic() + timeout, None
        while True:
            method, _props, body = self._channel.basic_get(self.queue, auto_ack=True)
            if method is not None:
                taken.append(body)
                quiet_until = None
                continue
            now = time.monotonic()
            if len(taken) >= at_least:
                quiet_until = quiet_until or now + settle
                if now >= quiet_until:
                    return taken
            elif now >= deadline:
                return taken
            self._connection.sleep(0.05)

    def close(self) -> None:
        if self._connection.is_open:
            self._connection.close()  # the exclusive queue goes with it


# -- a shop of random customers and orders, and rules checked against the reference --

RULES = {
    "pune": {"field": "city", "op": "eq", "value": "pune"},
    "not pune": {"field": "city", "op": "ne", "value": "PUNE"},
    "city in": {"field": "city", "op": "in", "value": ["delhi", "Mumbai"]},
    "city not in": {"field": "city", "op": "not_in", "value": ["delhi", "Mumbai"]},
    "city starts": {"field": "city", "op": "starts_with", "value": "pU"},
    "email contains": {"field": "email", "op": "contains", "value": "1@"},
    "name contains": {"field": "name", "op": "contains", "value": "RAO"},
    "vip": {"field": "tags", "op": "eq", "value": "VIP"},
    "not vip": {"field": "tags", "op": "ne", "value": "vip"},
    "tags in": {"field": "tags", "op": "in", "value": ["gold", "new"]},
    "spend gt": {"field": "total_spend", "op": "gt", "value": 2000},
    "spend between": {"field": "total_spend", "op": "between", "value": [500, 3000.5]},
    "no orders": {"field": "order_count", "op": "eq", "value": 0},
    "few visits": {"field": "visits", "op": "lte", "value": 3},
    "visits in": {"field": "visits", "op": "in", "value": [0, 2, 4]},
    "inactive": {"field": "last_active_at", "op": "older_than", "value": "30d"},
    "active": {"field": "last_active_at", "op": "within", "value": "2w"},
    "never ordered": {"field": "last_order_at", "op": "exists", "value": False},
    "early signup": {"field": "signed_up_at", "op": "before", "value": "2023-06-01"},
    "recent visit": {"field": "last_visit_at", "op": "after", "value": "2024-03-10T12:00:00Z"},
    "seed example": {"all": [{"field": "total_spend", "op": "gt", "value": 1000},
                             {"field": "visits", "op": "lte", "value": 3}]},
    "nested": {"any": [{"all": [{"field": "city", "op": "eq", "value": "delhi"},
                                {"not": {"field": "tags", "op": "eq", "value": "vip"}}]},
                       {"all": [{"field": "order_count", "op": "gte", "value": 3},
                                {"any": [{"field": "last_active_at", "op": "older_than",
                                          "value": "1mo"},
                                         {"field": "visits", "op": "gt", "value": 5}]}]}]},
}


def shop_events(seed: int, customers: int, orders: int) -> tuple[list[dict], list[str]]:
    """Customer and order events (orders last), and the customer ids."""
    rng = random.Random(seed)
    ids = [f"c{i:04d}" for i in range(customers)]
    events = []
    for n, external_id in enumerate(ids):
        visit = BASE + timedelta(hours=rng.randrange(-24 * 90, 24 * 30))
        events.append(customer_upserted(
            external_id, name=rng.choice(["Asha Rao", "Ravi Kumar", "Meera rao", "Zoya"]),
            email=f"{external_id}.{n % 3}@example.com",
            city=rng.choice(["Pune", "pune", "PUNE", "Delhi", "Mumbai", "Chennai", None]),
            tags=rng.sample(["vip", "new", "Gold", "VIP"], rng.randrange(3)),
            visits=rng.choice([None, 0, 1, 2, 3, 4, 5, 8, 13]),
            signed_up_at=iso(BASE - timedelta(days=rng.randrange(1, 700))),
            last_visit_at=rng.choice([None, iso(visit)])))
    for n in range(orders):
        placed = BASE + timedelta(hours=rng.randrange(-24 * 120, 24 * 40))
        events.append(order_placed(f"o{n:05d}", rng.choice(ids),
                                   round(rng.uniform(10, 2500), 2), placed))
    return events, ids


def reference_counts(profiles: list[dict], now) -> dict[str, int]:
    """How many of `profiles` each of RULES matches, by the plain reference evaluator."""
    return {name: sum(1 for profile in profiles if matches(profile, rule, now))
            for name, rule in RULES.items()}
