"""Receipts against real FerretDB and RabbitMQ: the webhook on a real HTTP server,
the consumer applying batches, and the vendor simulator calling them."""
from __future__ import annotations

import dataclasses
import json
import time

import pytest
import requests
from receipts import deliveries_view, domain
from receipts.app import create_app
from receipts.config import ReceiptsConfig
from receipts.consumer import build_consumer
from receipts.store import CAMPAIGNS_COLLECTION, STATS_COLLECTION

from shared import mongo
from shared.backbone import broker
from shared.backbone.envelope import new_event
from shared.backbone.events import CAMPAIGN_LAUNCHED
from shared.backbone.publisher import Publisher
from tests.support.backbone import ConsumerThread, broker_address, via, wait_for
from tests.support.faultproxy import FaultProxy
from tests.support.http_server import ServedApp

SECRET = "integration-secret"


@dataclasses.dataclass
class ReceiptsHarness:
    config: ReceiptsConfig
    url: str
    db: object
    client: object

    def post(self, receipts, secret=SECRET, timestamp=None):
        body = json.dumps({"receipts": receipts}).encode()
        header = domain.sign(secret, int(timestamp or time.time()), body)
        return requests.post(self.url + "/webhooks/vendor/receipts", data=body, timeout=30,
                             headers={"X-Vendor-Signature": header,
                                      "Content-Type": "application/json"})

    def counts(self, campaign_id):
        return deliveries_view.campaign_counts(self.db, campaign_id)

    def launch(self, *campaign_ids):
        """Publish `campaign.launched` as campaigns does, and wait until receipts knows them."""
        events = [new_event(CAMPAIGN_LAUNCHED, {"campaign_id": c, "attempt": 1},
                            producer="campaigns") for c in campaign_ids]
        publisher = Publisher(self.config.settings)
        try:
            publisher.publish(events)
        finally:
            publisher.close()
        known = self.db[CAMPAIGNS_COLLECTION]
        assert wait_for(lambda: all(known.find_one({"_id": c}) for c in campaign_ids), timeout=20)

    def consumer(self, settings=None) -> ConsumerThread:
        config = dataclasses.replace(self.config, settings=settings or self.config.settings)
        return ConsumerThread(build_consumer(config, self.client)).start()


@pytest.fixture
def harness(settings):
    config = ReceiptsConfig(settings=settings, webhook_secret=SECRET, batch_wait_ms=100)
    client = mongo.connect(settings)
    app = create_app(config)
    server = ServedApp(app)
    yield ReceiptsHarness(config, server.url + "", client[config.database_name], client)
    server.close()
    client.close()


def receipt(message_id, status, **extra):
    return {"message_id": message_id, "provider_message_id": "pm_" + message_id, "status": status,
            "reported_at": "2026-01-01T00:00:00+00:00", "reason": None, **extra}


def test_unsigned_or_wrongly_signed_callbacks_get_401(harness):
    assert harness.post([receipt("c1.1.0", "SENT")], secret="guess").status_code == 401
    stale = harness.post([receipt("c1.1.0", "SENT")], timestamp=time.time() - 3600)
    assert stale.status_code == 401
    response = requests.post(harness.url + "/webhooks/vendor/receipts", timeout=10,
                             json={"receipts": [receipt("c1.1.0", "SENT")]})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "BAD_SIGNATURE"
    assert harness.post([receipt("not-ours", "SENT")]).status_code == 400


def test_duplicate_and_out_of_order_receipts_change_nothing(harness):
    consumer = harness.consumer()
    try:
        harness.launch("cA")
        assert harness.post([receipt("cA.1.0", "SENT"), receipt("cA.1.1", "FAILED")]).ok
        assert wait_for(lambda: harness.counts("cA") == {"sent": 1, "failed": 1}, timeout=20)
        assert harness.post([receipt("cA.1.0", "FAILED"), receipt("cA.1.1", "SENT"),
                             receipt("cA.1.0", "SENT"), receipt("cA.1.2", "SENT",
                             metadata={"customer_external_id": "cust-2"})]).ok
        assert wait_for(lambda: harness.counts("cA")["sent"] == 2, timeout=20)
        time.sleep(0.5)  # any late duplicate would be applied by now
    finally:
        consumer.stop()
    assert harness.counts("cA") == {"sent": 2, "failed": 1}
    asked = ["cA.1.0", "cA.1.1", "cA.1.2", "cA.1.3"]
    assert deliveries_view.statuses_for(harness.db, "cA", asked) == {
        "cA.1.0": "SENT", "cA.1.1": "FAILED", "cA.1.2": "SENT"}
    assert deliveries_view.page_by_status(harness.db, "cA", "SENT", None, 1) == ["cA.1.0"]
    assert deliveries_view.page_by_status(harness.db, "cA", "SENT", "cA.1.0", 5) == ["cA.1.2"]
    stored = harness.db[deliveries_view.statuses("cA")].find_one({"_id": "cA.1.2"})
    assert stored["customer_external_id"] == "cust-2"
    stats = harness.db[STATS_COLLECTION].find_one({"_id": "cA"})
    assert (stats["sent"], stats["failed"]) == (2, 1)


def test_a_crash_between_status_and_outcome_inserts_is_repaired(harness):
    # As left by a consumer killed after inserting statuses but before the outcomes.
    harness.db[deliveries_view.statuses("cR")].insert_many(
        [{"_id": f"cR.1.{i}", "status": "FAILED" if i < 3 else "SENT"} for i in range(10)])
    consumer = harness.consumer()
    try:
        harness.launch("cR")
        # The vendor reports them again (its callback was never acknowledged), some differently.
        assert harness.post([receipt(f"cR.1.{i}", "SENT") for i in range(10)]).ok
        assert wait_for(lambda: harness.counts("cR") == {"sent": 7, "failed": 3}, timeout=20)
    finally:
        consumer.stop()


def test_consumer_cut_and_restarted_mid_stream_gives_exact_counts(harness):
    expected = {"sent": 0, "failed": 0}
    batches = []
    for b in range(6):
        batch = []
        for i in range(1000):
            status = "FAILED" if (b * 1000 + i) % 7 == 0 else "SENT"
            expected["sent" if status == "SENT" else "failed"] += 1
            batch.append(receipt(f"cK.1.{b * 1000 + i}", status))
        batches.append(batch)
    with FaultProxy(*broker_address(harness.config.settings)) as proxy:
        proxied = via(harness.config.settings, proxy.port)
        consumer = harness.consumer(proxied)
        harness.launch("cK")
        for batch in batches[:3]:
            assert harness.post(batch).ok
        wait_for(lambda: sum(harness.counts("cK").values()) > 0, timeout=20, interval=0.01)
        assert proxy.cut() >= 1  # the consumer's connection dies mid-stream: unacked ones return
        for batch in batches[3:]:
            assert harness.post(batch).ok
        wait_for(lambda: sum(harness.counts("cK").values()) > 3000, timeout=30, interval=0.01)
        consumer.stop()  # stopped mid-stream, then a new consumer process takes over
        consumer = harness.consumer(proxied)
        try:
            assert wait_for(lambda: harness.counts("cK") == expected, timeout=60), \
                harness.counts("cK")
        finally:
            consumer.stop()
    assert harness.counts("cK") == expected


def test_vendor_reports_every_message_once_with_seeded_outcomes(harness, settings):
    from vendor_sim import domain as vendor_domain
    from vendor_sim.app import create_app as vendor_app
    from vendor_sim.config import VendorConfig
    from vendor_sim.store import VendorStore

    vendor_config = VendorConfig(settings=settings, seed=42, failure_rate=0.1, min_delay_ms=0,
                                 max_delay_ms=300,
                                 webhook_url=harness.url + "/webhooks/vendor/receipts",
                                 webhook_secret=SECRET)
    app = vendor_app(vendor_config)
    vendor = ServedApp(app)
    consumer = harness.consumer()
    harness.launch("cV")
    ids = [f"cV.1.{i}" for i in range(3000)]
    try:
        for start in range(0, len(ids), 1000):
            messages = [{"message_id": i, "to": f"{i}@example.com", "text": "Hi",
                         "metadata": {"customer_external_id": f"cust-{i}"}}
                        for i in ids[start:start + 1000]]
            send = vendor.url + "/v1/messages"
            first = requests.post(send, json={"messages": messages}, timeout=30)
            again = requests.post(send, json={"messages": messages}, timeout=30)
            assert first.status_code == again.status_code == 202
            assert first.json() == again.json()
        failed = sum(vendor_domain.outcome(i, seed=42, failure_rate=0.1, min_delay_ms=0,
                                           max_delay_ms=300).status == "FAILED" for i in ids)
        assert 240 <= failed <= 360
        expected = {"sent": len(ids) - failed, "failed": failed}
        assert wait_for(lambda: harness.counts("cV") == expected, timeout=60), harness.counts("cV")
        courier = app.extensions["vendor_sim"].courier
        # A callback whose answer came too late for the courier (a loaded machine) is
        # retried after a backoff; the receipts are already counted, the retry is a no-op.
        assert wait_for(lambda: courier.reported == len(ids), timeout=60), courier.reported
    finally:
        app.extensions["vendor_sim"].close()
        vendor.close()
        consumer.stop()
    time.sleep(0.3)
    assert harness.counts("cV") == expected
    vendor_db = harness.client[vendor_config.database_name]
    assert vendor_db.command("collStats", "messages")["count"] == len(ids)
    assert VendorStore(vendor_db).reported_count() == len(ids)


def test_receipts_of_unknown_campaigns_are_dead_lettered(harness):
    consumer = harness.consumer()
    try:
        harness.launch("cD")
        assert harness.post([receipt("cD.1.0", "SENT"), receipt("cU.1.0", "SENT")]).ok
        assert wait_for(lambda: harness.counts("cD") == {"sent": 1, "failed": 0}, timeout=20)
        dead = harness.config.deliveries_queue + ".dead"
        connection = broker.connect(harness.config.settings)
        try:
            channel = connection.channel()
            assert wait_for(lambda: channel.queue_declare(dead, passive=True).method.message_count
                            == 1, timeout=30)
        finally:
            connection.close()
    finally:
        consumer.stop()
    assert harness.counts("cU") == {"sent": 0, "failed": 0}
