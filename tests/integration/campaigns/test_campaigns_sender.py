"""The sender worker on real RabbitMQ: `messages.queued` reaches the real vendor
simulator (its own FerretDB database) exactly once per message id, in batches;
a vendor answering 503 is retried with backoff until it takes them."""
from __future__ import annotations

import dataclasses
import time

import pytest
from campaigns.config import CampaignsConfig
from campaigns.delivery.sender import build_sender
from flask import Flask, jsonify, request
from vendor_sim.app import create_app as vendor_app
from vendor_sim.bootstrap import VendorContext
from vendor_sim.config import VendorConfig

from shared import mongo
from shared.backbone.envelope import new_event
from shared.backbone.events import MESSAGES_QUEUED
from tests.support import backbone
from tests.support.backbone import ConsumerThread
from tests.support.http_server import ServedApp

pytestmark = pytest.mark.integration
# fixture: pytest finds fixtures by module-level name
sandbox = backbone.sandbox_fixture("vendor_sim")


def with_vendor(settings, url: str):
    return dataclasses.replace(settings, service_urls={**settings.service_urls, "vendor_sim": url})


def queued(campaign_id: str, count: int, start: int = 0, rate: float = 0.0) -> dict:
    return new_event(MESSAGES_QUEUED, {
        "campaign_id": campaign_id, "attempt": 1, "send_rate": rate,
        "messages": [{"message_id": f"{campaign_id}.1.{n}", "customer_external_id": f"c{n}",
                      "to": f"c{n}@example.com", "text": f"Hi {n}"}
                     for n in range(start, start + count)]}, producer="campaigns")


def run_sender(config, sandbox):
    sandbox.track(config.sends_queue)
    consumer, pool = build_sender(config)
    return ConsumerThread(consumer).start(), pool


def wait_until(predicate, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def test_queued_messages_reach_the_real_vendor_once(sandbox):
    vendor_config = dataclasses.replace(VendorConfig.from_env(), settings=sandbox.settings,
                                        webhook_url="http://127.0.0.1:9/unreachable")
    context = VendorContext(vendor_config)
    server = ServedApp(vendor_app(vendor_config, context=context))
    config = CampaignsConfig(settings=with_vendor(sandbox.settings, server.url),
                             send_batch_size=300)
    sender, pool = run_sender(config, sandbox)
    try:
        first = queued("0abc", 1000)
        sandbox.publish([first, queued("0abc", 500, start=1000), first])  # one redelivered
        vendor_db = mongo.connect(sandbox.settings)[vendor_config.database_name]
        wait_until(lambda: sandbox.ready_count(config.sends_queue) == 0 and
                   vendor_db.command("collStats", "messages")["count"] >= 1500)
        time.sleep(0.5)  # the redelivered event's calls, if any, land too
        ids = [document["_id"] for document in vendor_db["messages"].find({}, {"_id": 1})]
        assert len(ids) == len(set(ids)) == 1500
        assert set(ids) == {f"0abc.1.{n}" for n in range(1500)}
    finally:
        sender.stop()
        pool.shutdown()
        server.close()
        context.close()


def test_a_failing_vendor_is_retried_until_it_accepts(sandbox):
    calls, accepted = [], {}
    flaky = Flask(__name__)

    @flaky.post("/v1/messages")
    def take():
        messages = request.get_json()["messages"]
        calls.append(len(messages))
        if len(calls) <= 2:
            return jsonify({"error": {"code": "UNAVAILABLE"}}), 503
        for message in messages:
            accepted.setdefault(message["message_id"], message)
        return jsonify({"results": [{"message_id": m["message_id"], "status": "ACCEPTED",
                                     "provider_message_id": "p"} for m in messages]}), 202

    server = ServedApp(flaky)
    config = CampaignsConfig(settings=with_vendor(sandbox.settings, server.url),
                             send_batch_size=200, sender_threads=1)
    sender, pool = run_sender(config, sandbox)
    try:
        sandbox.publish([queued("0def", 450)])
        wait_until(lambda: len(accepted) == 450)
        assert calls[:2] == [200, 200]  # refused, then the same batch again
        assert sorted(calls[2:]) == [50, 200, 200]
        assert accepted["0def.1.7"]["metadata"] == {"campaign_id": "0def",
                                                    "customer_external_id": "c7"}
    finally:
        sender.stop()
        pool.shutdown()
        server.close()
