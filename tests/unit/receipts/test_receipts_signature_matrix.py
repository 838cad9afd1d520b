"""The receipt webhook's signature matrix over HTTP (Flask's test client, a fake event log):
only a callback signed with our secret over exactly this body, with a timestamp inside the
freshness window, is accepted; every other one is 401 BAD_SIGNATURE and records nothing."""
from __future__ import annotations

import json
import time

import pytest
from receipts import domain
from receipts.app import create_app
from receipts.config import ReceiptsConfig

SECRET = "matrix-secret"
FRESHNESS = 300
BODY = json.dumps({"receipts": [{
    "message_id": "c9.1.0", "provider_message_id": "pm_1", "status": "SENT",
    "reported_at": "2026-01-01T00:00:00Z", "reason": None}]}).encode()


class FakeEventLog:
    def __init__(self):
        self.event_log = self
        self.batches = []

    def append(self, batch):
        self.batches.append(batch)

    def readiness(self):
        return {"database": True, "broker": True}


def post(header, body=BODY):
    dependencies = FakeEventLog()
    app = create_app(ReceiptsConfig(webhook_secret=SECRET, freshness_seconds=FRESHNESS),
                     dependencies=dependencies)
    headers = {"Content-Type": "application/json"}
    if header is not None:
        headers["X-Vendor-Signature"] = header
    return app.test_client().post("/webhooks/vendor/receipts", data=body, headers=headers), \
        dependencies.batches


def signed(secret=SECRET, age=0.0, body=BODY):
    return domain.sign(secret, int(time.time() - age), body)


def digest_of(header):
    return header.split("v1=", 1)[1]


# Headers are made when each test runs (a long test run must not age them).
REFUSED = {
    "missing": lambda: None,
    "empty": lambda: "",
    "no timestamp": lambda: f"v1={digest_of(signed())}",
    "no digest": lambda: f"t={int(time.time())}",
    "timestamp not a number": lambda: f"t=soon,v1={digest_of(signed())}",
    "wrong secret": lambda: signed(secret="not-our-secret"),
    "empty secret": lambda: signed(secret=""),
    "stale": lambda: signed(age=FRESHNESS + 60),
    "from the future": lambda: signed(age=-(FRESHNESS + 60)),
    "digest of another body": lambda: signed(body=b'{"receipts": []}'),
    "timestamp changed after signing": lambda: f"t={int(time.time()) - 1},"
                                               f"v1={digest_of(signed())}",
    "digest truncated": lambda: signed()[:-2],
    "another scheme": lambda: signed().replace("v1=", "v0="),
}
ACCEPTED = {
    "fresh": lambda: signed(),
    "old, but inside the window": lambda: signed(age=FRESHNESS - 30),
    "the vendor's clock a little ahead": lambda: signed(age=-(FRESHNESS - 30)),
    "a second digest (key rotation), one matching": lambda: f"{signed()},v1={'0' * 64}",
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_callback_not_validly_signed_is_401_and_records_nothing(case):
    response, batches = post(REFUSED[case]())
    assert response.status_code == 401, case
    assert response.get_json()["error"]["code"] == "BAD_SIGNATURE"
    assert batches == []


def test_a_changed_body_under_a_valid_signature_is_refused():
    response, batches = post(signed(), body=BODY.replace(b"SENT", b"FAILED"))
    assert response.status_code == 401 and batches == []


@pytest.mark.parametrize("case", ACCEPTED)
def test_a_validly_signed_callback_is_accepted(case):
    response, batches = post(ACCEPTED[case]())
    assert response.status_code == 200, response.get_json()
    assert len(batches) == 1
