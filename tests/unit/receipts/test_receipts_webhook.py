"""The receipt webhook over Flask's test client, with a fake event log."""
from __future__ import annotations

import json
import time

from receipts import domain
from receipts.app import create_app
from receipts.config import ReceiptsConfig

SECRET = "unit-secret"


class FakeDependencies:
    def __init__(self):
        self.event_log = self
        self.batches = []

    def append(self, batch):
        self.batches.append(batch)

    def readiness(self):
        return {"database": True, "broker": True}


def _client():
    dependencies = FakeDependencies()
    app = create_app(ReceiptsConfig(webhook_secret=SECRET), dependencies=dependencies)
    return app.test_client(), dependencies


def _post(client, payload, secret=SECRET, timestamp=None):
    body = json.dumps(payload).encode()
    header = domain.sign(secret, int(timestamp or time.time()), body)
    return client.post("/webhooks/vendor/receipts", data=body,
                       headers={"X-Vendor-Signature": header, "Content-Type": "application/json"})


RECEIPT = {"message_id": "c9.1.0", "provider_message_id": "pm_1", "status": "SENT",
           "reported_at": "2026-01-01T00:00:00Z", "reason": None}


def test_signed_receipts_become_events():
    client, dependencies = _client()
    response = _post(client, {"receipts": [RECEIPT, {**RECEIPT, "message_id": "c9.1.1",
                                                     "status": "FAILED", "reason": "UNREACHABLE"}]})
    assert response.status_code == 200, response.json
    (batch,) = dependencies.batches
    (event,) = batch  # one event per callback
    assert event["event_type"] == "deliveries.reported"
    assert [item["status"] for item in event["data"]["receipts"]] == ["SENT", "FAILED"]
    assert event["data"]["receipts"][1]["reason"] == "UNREACHABLE"


def test_bad_signature_is_401_and_logs_nothing():
    client, dependencies = _client()
    assert _post(client, {"receipts": [RECEIPT]}, secret="wrong").status_code == 401
    stale = _post(client, {"receipts": [RECEIPT]}, timestamp=time.time() - 3600)
    assert stale.status_code == 401
    assert stale.json["error"]["code"] == "BAD_SIGNATURE"
    unsigned = client.post("/webhooks/vendor/receipts", json={"receipts": [RECEIPT]})
    assert unsigned.status_code == 401
    assert dependencies.batches == []


def test_invalid_body_is_400():
    client, dependencies = _client()
    response = _post(client, {"receipts": [{**RECEIPT, "status": "MAYBE"}]})
    assert response.status_code == 400
    assert response.json["error"]["code"] == "INVALID_REQUEST"
    assert _post(client, {"nothing": 1}).status_code == 400
    assert dependencies.batches == []


def test_too_many_receipts_is_413():
    client, _ = _client()
    receipts = [{**RECEIPT, "message_id": f"c9.1.{i}"} for i in range(1001)]
    assert _post(client, {"receipts": receipts}).status_code == 413
