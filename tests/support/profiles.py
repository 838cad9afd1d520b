"""Helpers for the profile projector's integration tests.

Each test gets its own database prefix, queue prefix and exchanges, so it can
neither see nor disturb anyone else's events; everything is deleted afterwards.
Needs the real RabbitMQ and FerretDB/MongoDB (AMQP_URL / MONGO_URL).

The fixtures over these helpers live in tests/integration/segments/conftest.py
(`config`, `client`, `publisher`, `store`) and projection/conftest.py (the
projector's own `config`).
"""
from __future__ import annotations

import dataclasses
import os
import threading
import time
import uuid
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from pika.exceptions import AMQPError
from segments.config import SegmentsConfig
from segments.projection.consumer import build_projector
from segments.projection.profiles import BOOKKEEPING

from shared import mongo
from shared.backbone import broker
from shared.backbone.envelope import new_event
from shared.backbone.events import CUSTOMER_UPSERTED, ORDER_PLACED
from shared.config import Settings

POLL_SECONDS = 30.0


def isolated_config(**overrides) -> SegmentsConfig:
    tag = f"tprof{uuid.uuid4().hex[:10]}"
    env = {**os.environ, "CRM_DB_PREFIX": tag, "CRM_QUEUE_PREFIX": f"{tag}.",
           "CRM_EXCHANGE": f"{tag}.events", "CRM_DEAD_LETTER_EXCHANGE": f"{tag}.dead"}
    return SegmentsConfig(settings=Settings.from_env(env), projector_batch_wait=0.05, **overrides)


def clean_up(config: SegmentsConfig) -> None:
    settings = config.settings
    client = mongo.connect(settings)
    for service in ("segments", "ingest"):
        client.drop_database(settings.database_name(service))
    client.close()
    connection = broker.connect(settings)
    channel = connection.channel()
    queue = config.profiles_queue
    for name in (queue, f"{queue}.retry", f"{queue}.dead"):
        channel.queue_delete(name)
    channel.exchange_delete(settings.exchange)
    channel.exchange_delete(settings.dead_letter_exchange)
    connection.close()


@contextmanager
def running_projector(config: SegmentsConfig):
    """The real projector (shared Consumer + our handler) in a thread, until the block ends."""
    client = mongo.connect(config.settings)
    projector = build_projector(config, client)
    thread = threading.Thread(target=projector.run, name="projector", daemon=True)
    thread.start()
    try:
        wait_for(lambda: queue_consumers(config) == 1, "the projector to start consuming")
        yield projector
    finally:
        projector.stop()
        thread.join(timeout=30)
        client.close()
        assert not thread.is_alive(), "the projector did not stop"


def environment(config: SegmentsConfig) -> dict[str, str]:
    """The process environment pointing at this config's database and broker (for the CLI)."""
    settings = config.settings
    return {**os.environ, "CRM_DB_PREFIX": settings.db_prefix,
            "CRM_QUEUE_PREFIX": settings.queue_prefix, "CRM_EXCHANGE": settings.exchange,
            "CRM_DEAD_LETTER_EXCHANGE": settings.dead_letter_exchange}


def through(proxy, config: SegmentsConfig) -> SegmentsConfig:
    """The same config, its broker connection going through `proxy` (a FaultProxy)."""
    url = urlsplit(config.settings.amqp_url)
    proxied = url._replace(netloc=f"{url.username}:{url.password}@{proxy.host}:{proxy.port}")
    return dataclasses.replace(config, settings=dataclasses.replace(
        config.settings, amqp_url=proxied.geturl()))


def queue_consumers(config: SegmentsConfig) -> int:
    try:
        connection = broker.connect(config.settings, heartbeat=0)
    except (AMQPError, OSError):
        return 0
    try:
        return connection.channel().queue_declare(config.profiles_queue,
                                                  passive=True).method.consumer_count
    except AMQPError:
        return 0
    finally:
        if connection.is_open:
            connection.close()


def wait_for(condition, what: str, timeout: float = POLL_SECONDS):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


BASE = datetime(2024, 3, 1, tzinfo=UTC)


def customer_upserted(external_id: str, **fields) -> dict:
    data = {"external_id": external_id, "name": f"Customer {external_id}",
            "email": f"{external_id}@example.com", "phone": None, "city": "Pune", "tags": ["new"],
            "signed_up_at": iso(BASE - timedelta(days=100)), "visits": 2,
            "last_visit_at": iso(BASE + timedelta(days=3)), **fields}
    return new_event(CUSTOMER_UPSERTED, data, producer="ingest")


def order_placed(order_id: str, customer_id: str, amount: float, placed_at: datetime) -> dict:
    data = {"external_id": order_id, "customer_external_id": customer_id, "amount": amount,
            "placed_at": iso(placed_at)}
    return new_event(ORDER_PLACED, data, producer="ingest", event_id=f"order-{order_id}")


def comparable(profile: dict) -> dict:
    """A profile with its bookkeeping reduced to what must match between two projections
    (the order ids as a set: live and replay may count them in a different order)."""
    bookkeeping = profile[BOOKKEEPING]
    return {**{k: v for k, v in profile.items() if k != BOOKKEEPING},
            "order_ids": sorted(bookkeeping["order_ids"]),
            "spend_exact": bookkeeping["spend_exact"],
            "orders": bookkeeping.get("orders"),
            "customer_event": bookkeeping["customer_event"]}
