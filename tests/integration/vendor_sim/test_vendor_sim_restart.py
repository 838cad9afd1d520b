"""The vendor simulator on real FerretDB: accepted once, persisted, reported after a restart."""
from __future__ import annotations

import json
import threading
import time

import pytest
from flask import Flask, request
from receipts.domain import verify_signature
from vendor_sim import domain
from vendor_sim.app import create_app
from vendor_sim.config import VendorConfig

from shared import mongo
from tests.support.http_server import ServedApp

SECRET = "vendor-test-secret"


class Receiver:
    """A real HTTP webhook that checks signatures, records receipts, and can be told to fail."""

    def __init__(self):
        self.receipts: list[dict] = []
        self.available = False
        self.lock = threading.Lock()
        app = Flask(__name__)

        @app.post("/hook")
        def hook():
            body = request.get_data()
            verify_signature(SECRET, request.headers.get("X-Vendor-Signature"), body,
                             now=time.time(), freshness_seconds=60)
            if not self.available:
                return "down", 503
            with self.lock:
                self.receipts.extend(json.loads(body)["receipts"])
            return "", 200

        self._served = ServedApp(app)
        self.url = self._served.url + "/hook"

    def close(self):
        self._served.close()


@pytest.fixture
def receiver():
    receiver = Receiver()
    yield receiver
    receiver.close()


def _wait(predicate, timeout):
    deadline = time.monotonic() + timeout
    while not predicate() and time.monotonic() < deadline:
        time.sleep(0.05)
    return predicate()


def test_accepted_once_and_reported_after_a_restart(settings, receiver):
    config = VendorConfig(settings=settings, seed=3, min_delay_ms=0, max_delay_ms=50,
                          webhook_url=receiver.url, webhook_secret=SECRET,
                          callback_max_backoff_seconds=0.2)
    messages = [{"message_id": f"cX.1.{i}", "to": f"{i}@example.com", "text": "Hello"}
                for i in range(1500)]
    first_app = create_app(config)
    client = first_app.test_client()
    answers = [client.post("/v1/messages", json={"messages": messages[s:s + 1000]})
               for s in (0, 1000)]
    assert [a.status_code for a in answers] == [202, 202]
    again = client.post("/v1/messages", json={"messages": messages[:1000]})
    assert again.json == answers[0].json
    assert len({r["provider_message_id"] for a in answers for r in a.json["results"]}) == 1500
    first_app.extensions["vendor_sim"].close()  # the vendor dies before any callback got through

    db = mongo.connect(settings)[config.database_name]
    assert db.command("collStats", "messages")["count"] == 1500
    receiver.available = True
    second_app = create_app(config)
    try:
        second_app.test_client().get("/readyz")  # starts the courier, which reloads what is owed
        assert _wait(lambda: len(receiver.receipts) >= 1500, timeout=30)
        # A resend after the restart is still not sent again.
        resend = second_app.test_client().post("/v1/messages", json={"messages": messages[:10]})
        assert resend.status_code == 202
        store = second_app.extensions["vendor_sim"].store
        assert _wait(lambda: store.reported_count() == 1500, timeout=10)
    finally:
        second_app.extensions["vendor_sim"].close()
    by_id = {}
    for receipt in receiver.receipts:
        assert receipt["message_id"] not in by_id, "reported twice"
        by_id[receipt["message_id"]] = receipt
    assert set(by_id) == {m["message_id"] for m in messages}
    for message_id, receipt in by_id.items():
        expected = domain.outcome(message_id, seed=3, failure_rate=0.1, min_delay_ms=0,
                                  max_delay_ms=50)
        assert receipt["status"] == expected.status
        assert receipt["provider_message_id"] == domain.provider_message_id(message_id)
