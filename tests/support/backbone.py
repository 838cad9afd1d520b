"""Isolated broker/database settings and small helpers for backbone integration tests.

Each `Sandbox` owns its own exchanges, queues (`t-<tag>.` prefix) and database
prefix, and deletes them all on `close()`, so tests never see each other's
messages even though they share one RabbitMQ vhost and one FerretDB.

A test module takes the `sandbox` and `proxy` fixtures by naming them at module
level (`sandbox = backbone.sandbox`, or `backbone.sandbox_fixture("vendor_sim")`):
pytest finds fixtures by module-level name, an assignment does not read to the
linter as an unused import, and a conftest would lend them to every integration
test, several of which build their own.
"""
from __future__ import annotations

import dataclasses
import threading
import time
import uuid
from urllib.parse import urlsplit, urlunsplit

import pika
import pytest
from pika.exceptions import AMQPError

from shared import mongo
from shared.backbone import broker
from shared.backbone.envelope import encode, new_event
from shared.backbone.events import ORDER_PLACED
from shared.config import Settings
from tests.support.faultproxy import FaultProxy


def order_events(count: int, prefix: str = "o") -> list[dict]:
    return [new_event(ORDER_PLACED, {"external_id": f"{prefix}-{i}", "customer_external_id": "c-1",
                                     "amount": 10.0 + i, "placed_at": "2024-05-01T10:00:00+00:00"},
                      producer="test")
            for i in range(count)]


def via(settings: Settings, port: int) -> Settings:
    """The same settings with the broker reached through a local port (a FaultProxy)."""
    parts = urlsplit(settings.amqp_url)
    credentials = parts.netloc.rpartition("@")[0]
    netloc = f"{credentials}@127.0.0.1:{port}" if credentials else f"127.0.0.1:{port}"
    return dataclasses.replace(settings, amqp_url=urlunsplit(parts._replace(netloc=netloc)))


def broker_address(settings: Settings) -> tuple[str, int]:
    parts = urlsplit(settings.amqp_url)
    return parts.hostname or "127.0.0.1", parts.port or 5672


class Sandbox:
    def __init__(self, *, also_drops: tuple[str, ...] = ()):
        """`also_drops`: services whose databases the code under test writes in this
        sandbox (its prefix), dropped on close with the sandbox's own."""
        self._also_drops = also_drops
        tag = uuid.uuid4().hex[:10]
        base = Settings.from_env()
        self.settings = dataclasses.replace(
            base, db_prefix=f"t_bb_{tag}", queue_prefix=f"t-{tag}.",
            exchange=f"t-{tag}.events", dead_letter_exchange=f"t-{tag}.dead")
        self._queues: set[str] = set()
        self._mongo = mongo.connect(self.settings)
        self._connection = broker.connect(self.settings, heartbeat=0)
        self.channel = self._connection.channel()
        broker.declare_exchanges(self.channel, self.settings)

    @property
    def db(self):
        return self._mongo[self.settings.database_name("backbone")]

    def queue(self, purpose: str, routing_keys: list[str]) -> str:
        """Declare `<prefix>test.<purpose>` (and its .dead) bound to `routing_keys`."""
        name = self.settings.queue_name("test", purpose)
        self.track(name)
        broker.declare_queue(self.channel, self.settings, name, routing_keys)
        return name

    def track(self, queue: str) -> None:
        self._queues.update({queue, f"{queue}.dead", f"{queue}.retry"})

    def publish_raw(self, routing_key: str, body: bytes, **properties) -> None:
        self._publish([(routing_key, body, properties)])

    def publish(self, events: list[dict]) -> None:
        self._publish([(event["event_type"], encode(event), {"message_id": event["event_id"]})
                       for event in events])

    def _publish(self, messages: list[tuple[str, bytes, dict]]) -> None:
        channel = self._connection.channel()
        channel.confirm_delivery()
        for routing_key, body, properties in messages:
            channel.basic_publish(self.settings.exchange, routing_key, body,
                                  pika.BasicProperties(delivery_mode=2, **properties),
                                  mandatory=True)
        channel.close()

    def ready_count(self, queue: str) -> int:
        return self.channel.queue_declare(queue, passive=True).method.message_count

    def take(self, queue: str, at_least: int, timeout: float = 5.0,
             settle: float = 0.3) -> list[tuple[pika.BasicProperties, bytes]]:
        """Remove and return the queue's messages: wait for `at_least`, then `settle`
        seconds more so that extra (duplicate) messages are seen too."""
        taken: list = []
        deadline = time.monotonic() + timeout
        quiet_until = None
        while True:
            method, props, body = self.channel.basic_get(queue, auto_ack=True)
            if method is not None:
                taken.append((props, body))
                continue
            now = time.monotonic()
            if len(taken) >= at_least:
                quiet_until = quiet_until or now + settle
                if now >= quiet_until:
                    return taken
            elif now >= deadline:
                return taken
            self._connection.sleep(0.02)

    def close(self) -> None:
        try:
            for queue in sorted(self._queues):
                self.channel.queue_delete(queue)
            self.channel.exchange_delete(self.settings.exchange)
            self.channel.exchange_delete(self.settings.dead_letter_exchange)
            self._connection.close()
        except AMQPError:
            pass
        # Only the databases tests use, by name: listing them takes FerretDB over a second.
        self._mongo.drop_database(self.db.name)
        for service in self._also_drops:
            self._mongo.drop_database(self.settings.database_name(service))
        self._mongo.close()


def sandbox_fixture(*also_drops: str):
    """A `sandbox` fixture; `also_drops` as for Sandbox."""
    @pytest.fixture(name="sandbox")
    def fresh_sandbox():
        box = Sandbox(also_drops=also_drops)
        yield box
        box.close()
    return fresh_sandbox


sandbox = sandbox_fixture()


@pytest.fixture
def proxy(sandbox):
    """A FaultProxy in front of the sandbox's broker: tests cut and stall connections with it."""
    with FaultProxy(*broker_address(sandbox.settings)) as fault_proxy:
        yield fault_proxy


class ConsumerThread:
    """Runs `Consumer.run()` in a thread and keeps whatever it raised."""

    def __init__(self, consumer):
        self.consumer = consumer
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="consumer-under-test")

    def _run(self) -> None:
        try:
            self.consumer.run()
        except Exception as error:  # noqa: BLE001 - reported by stop()
            self.error = error

    def start(self, timeout: float = 10.0) -> ConsumerThread:
        self._thread.start()
        assert self.consumer.wait_until_consuming(timeout), "consumer did not start consuming"
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self.consumer.stop()
        self._thread.join(timeout)
        assert not self._thread.is_alive(), "consumer did not stop"
        assert self.error is None, f"consumer crashed: {self.error!r}"

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()


def wait_for(predicate, timeout: float = 10.0, interval: float = 0.02):
    """Poll until `predicate()` is truthy; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)
