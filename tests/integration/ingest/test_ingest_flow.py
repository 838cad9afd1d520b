"""Ingest against the real document database and RabbitMQ.

Each test gets its own database prefix, queue prefix and exchanges (so it
never sees another test's events) and deletes them afterwards.
"""
from __future__ import annotations

import dataclasses
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from datetime import timedelta

import pytest
from ingest import domain
from ingest.app import create_app
from ingest.config import IngestConfig

from shared import mongo
from shared.backbone import broker
from shared.backbone.outbox import LOG_COLLECTION, OUTBOX_COLLECTION, EventLog
from shared.backbone.publisher import ThreadLocalPublisher

pytestmark = pytest.mark.integration
ROUTING_KEYS = ["customer.upserted", "order.placed"]


class Sandbox:
    """Unique settings, a test queue bound to ingest's events, and cleanup."""

    def __init__(self):
        tag = uuid.uuid4().hex[:10]
        base = IngestConfig.from_env()
        self.settings = dataclasses.replace(
            base.settings, db_prefix=f"t_ing_{tag}", queue_prefix=f"t-ing-{tag}.",
            exchange=f"t-ing-{tag}.events", dead_letter_exchange=f"t-ing-{tag}.dead")
        self.config = dataclasses.replace(base, settings=self.settings, publish_retry_seconds=0.5)
        self.mongo = mongo.connect(self.settings)
        self.db = self.mongo[self.config.database_name]
        self._connection = broker.connect(self.settings, heartbeat=0)
        self.channel = self._connection.channel()
        self.queue = self.settings.queue_name("test", "ingest")
        broker.declare_queue(self.channel, self.settings, self.queue, ROUTING_KEYS)
        self._apps = []

    def client(self, **overrides):
        config = dataclasses.replace(self.config, **overrides)
        app = create_app(config)
        self._apps.append(app)
        return app.test_client()

    def received(self, until_count: int, timeout: float = 10.0) -> list[dict]:
        """Envelopes from the test queue, waiting until `until_count` arrived (or timeout)."""
        envelopes, deadline = [], time.monotonic() + timeout
        while len(envelopes) < until_count and time.monotonic() < deadline:
            method, _properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                time.sleep(0.05)
                continue
            envelopes.append(json.loads(body))
        return envelopes

    def logged(self) -> dict[str, dict]:
        return {doc["_id"]: doc for doc in self.db[LOG_COLLECTION].find({})}

    def close(self):
        for app in self._apps:
            app.extensions["ingest"].dependencies.close()
        self.mongo.drop_database(self.config.database_name)
        self.mongo.close()
        for queue in (self.queue, f"{self.queue}.dead"):
            self.channel.queue_delete(queue)
        self.channel.exchange_delete(self.settings.exchange)
        self.channel.exchange_delete(self.settings.dead_letter_exchange)
        self._connection.close()


@pytest.fixture
def sandbox():
    box = Sandbox()
    yield box
    box.close()


def customer(external_id, **fields):
    return {"external_id": external_id, "name": "Meera Iyer", "email": f"{external_id}@example.com",
            **fields}


def order(external_id, customer_id, amount=120.0):
    return {"external_id": external_id, "customer_external_id": customer_id, "amount": amount,
            "placed_at": "2024-06-01T12:00:00+05:30"}


def post(client, path, records, correlation_id=None):
    headers = {"X-Correlation-Id": correlation_id} if correlation_id else {}
    return client.post(path, json={"records": records}, headers=headers)


def test_customers_and_orders_reach_the_log_and_the_broker(sandbox):
    client = sandbox.client()
    response = post(client, "/api/v1/customers", [customer("c-1", city="Mysuru"), customer("c-2")],
                    "corr-customers")
    assert response.status_code == 202 and response.json == {"accepted": 2, "rejected": []}
    response = post(client, "/api/v1/orders", [order("o-1", "c-1"), order("o-2", "c-2", 80)])
    assert response.status_code == 202 and response.json["accepted"] == 2

    envelopes = sandbox.received(4)
    assert [e["event_type"] for e in envelopes] == ROUTING_KEYS[:1] * 2 + ROUTING_KEYS[1:] * 2
    assert envelopes[0]["data"]["city"] == "Mysuru"
    assert envelopes[0]["correlation_id"] == "corr-customers"
    placed = envelopes[2]
    assert placed["event_id"] == domain.order_event_id("o-1")
    assert placed["data"] == {"external_id": "o-1", "customer_external_id": "c-1", "amount": 120.0,
                              "placed_at": "2024-06-01T06:30:00.000000+00:00"}
    assert set(sandbox.logged()) == {e["event_id"] for e in envelopes}
    assert sandbox.db[OUTBOX_COLLECTION].count_documents({}) == 0


def test_resent_order_emits_nothing_and_resent_customer_emits_again(sandbox):
    client = sandbox.client()
    post(client, "/api/v1/customers", [customer("c-1")])
    post(client, "/api/v1/orders", [order("o-1", "c-1")])
    # A second app has its own (empty) caches, like another gunicorn worker.
    other = sandbox.client()
    for worker in (client, other):
        response = post(worker, "/api/v1/orders", [order("o-1", "c-1", amount=999)])
        assert response.status_code == 202 and response.json == {"accepted": 1, "rejected": []}
    post(other, "/api/v1/customers", [customer("c-1", city="Hubli")])

    envelopes = sandbox.received(4, timeout=3)
    assert [e["event_type"] for e in envelopes] == [
        "customer.upserted", "order.placed", "customer.upserted"]
    first, _placed, second = envelopes
    assert first["event_id"] != second["event_id"] and second["data"]["city"] == "Hubli"
    assert len(sandbox.logged()) == 3


def test_orders_of_unknown_customers_are_rejected(sandbox):
    client = sandbox.client()
    response = post(client, "/api/v1/orders", [order("o-1", "ghost")])
    assert response.status_code == 422
    assert response.json["error"]["details"]["rejected"] == [
        {"index": 0, "errors": {"customer_external_id": ["unknown customer"]}}]
    assert sandbox.logged() == {}


def test_customer_accepted_by_another_worker_is_found(sandbox):
    post(sandbox.client(), "/api/v1/customers", [customer(f"c-{i}") for i in range(5)])
    orders = [order(f"o-{i}", f"c-{i}") for i in range(5)]
    one_by_one = sandbox.client(customer_preload_misses=0)
    assert post(one_by_one, "/api/v1/orders", orders[:2]).json["accepted"] == 2
    preloading = sandbox.client(customer_preload_misses=1)
    assert post(preloading, "/api/v1/orders", orders[2:] + [order("o-x", "ghost")]).json == {
        "accepted": 3,
        "rejected": [{"index": 3, "errors": {"customer_external_id": ["unknown customer"]}}]}
    assert len(sandbox.received(10, timeout=3)) == 10


def test_claimed_order_whose_event_never_reached_the_log_is_emitted_on_resend(sandbox):
    client = sandbox.client()
    post(client, "/api/v1/customers", [customer("c-1")])
    # A request that died after claiming o-1 and before appending its event.
    sandbox.db["orders"].insert_one({"_id": "o-1", "event_id": domain.order_event_id("o-1")})
    assert post(client, "/api/v1/orders", [order("o-1", "c-1")]).status_code == 202
    envelopes = sandbox.received(2)
    assert [e["event_type"] for e in envelopes] == ["customer.upserted", "order.placed"]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_broker_down_still_202_and_the_relay_publishes_later(sandbox):
    down = dataclasses.replace(sandbox.settings,
                               amqp_url=f"amqp://guest:guest@127.0.0.1:{closed_port()}/%2F")
    client = sandbox.client(settings=down)
    response = post(client, "/api/v1/customers", [customer("c-1"), customer("c-2")])
    assert response.status_code == 202
    response = post(client, "/api/v1/orders", [order("o-1", "c-1")])
    assert response.status_code == 202 and response.json["accepted"] == 1
    assert len(sandbox.logged()) == 3
    assert sandbox.db[OUTBOX_COLLECTION].count_documents({}) == 2
    assert sandbox.received(1, timeout=0.5) == []

    relay = EventLog(sandbox.db, ThreadLocalPublisher(sandbox.settings))
    assert relay.relay_pending(older_than=timedelta(0)) == 3
    envelopes = sandbox.received(3)
    assert sorted(e["event_type"] for e in envelopes) == [
        "customer.upserted", "customer.upserted", "order.placed"]
    assert sandbox.db[OUTBOX_COLLECTION].count_documents({}) == 0
    assert relay.relay_pending(older_than=timedelta(0)) == 0


def test_relay_process_publishes_the_outbox_and_stops_on_sigterm(sandbox):
    down = dataclasses.replace(sandbox.settings,
                               amqp_url=f"amqp://guest:guest@127.0.0.1:{closed_port()}/%2F")
    assert post(sandbox.client(settings=down), "/api/v1/customers",
                [customer("c-1")]).status_code == 202
    env = {**os.environ, "CRM_DB_PREFIX": sandbox.settings.db_prefix,
           "CRM_EXCHANGE": sandbox.settings.exchange,
           "CRM_DEAD_LETTER_EXCHANGE": sandbox.settings.dead_letter_exchange,
           "AMQP_URL": sandbox.settings.amqp_url, "INGEST_RELAY_OLDER_THAN_SECONDS": "0",
           "INGEST_RELAY_INTERVAL_SECONDS": "0.2"}
    process = subprocess.Popen([sys.executable, "-m", "ingest.relay"], env=env,
                               stderr=subprocess.PIPE, text=True)
    try:
        [envelope] = sandbox.received(1, timeout=20)
        assert envelope["event_type"] == "customer.upserted"
    finally:
        process.send_signal(signal.SIGTERM)
        _out, errors = process.communicate(timeout=20)
    assert process.returncode == 0, errors
    assert "outbox relay stopped" in errors
    assert sandbox.db[OUTBOX_COLLECTION].count_documents({}) == 0
