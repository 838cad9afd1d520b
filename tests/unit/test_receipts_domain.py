"""Receipts' pure logic: signatures, message ids, events, which status wins."""
from __future__ import annotations

import pytest
from marshmallow import ValidationError
from receipts import domain
from receipts.config import DEVELOPMENT_WEBHOOK_SECRET, InsecureConfig, ReceiptsConfig
from receipts.schemas import ReceiptBatchSchema

from shared import envelope
from shared.config import Settings

SECRET = "s3cret"
BODY = b'{"receipts":[]}'


def test_a_fresh_signature_with_our_secret_verifies():
    header = domain.sign(SECRET, 1_000_000, BODY)
    domain.verify_signature(SECRET, header, BODY, now=1_000_010, freshness_seconds=300)


@pytest.mark.parametrize("header, now", [
    (None, 1_000_000),
    ("", 1_000_000),
    ("t=abc,v1=00", 1_000_000),
    (domain.sign("other", 1_000_000, BODY), 1_000_000),  # wrong secret
    (domain.sign(SECRET, 1_000_000, BODY), 1_000_301),  # too old
    (domain.sign(SECRET, 1_000_000, BODY), 999_600),  # from the future
    (domain.sign(SECRET, 1_000_000, BODY).replace("t=1000000", "t=1000001"), 1_000_000),
])
def test_bad_or_stale_signatures_are_refused(header, now):
    with pytest.raises(domain.BadSignature):
        domain.verify_signature(SECRET, header, BODY, now=now, freshness_seconds=300)


def test_a_changed_body_breaks_the_signature():
    header = domain.sign(SECRET, 1_000_000, BODY)
    with pytest.raises(domain.BadSignature):
        domain.verify_signature(SECRET, header, b'{"receipts":[1]}', now=1_000_000,
                                freshness_seconds=300)


def test_campaign_is_the_part_before_the_first_dot():
    assert domain.campaign_of("cmp_1a.1.42") == "cmp_1a"
    assert domain.campaign_of("no-dot") is None
    assert domain.campaign_of("bad$id.1.2") is None


def test_one_event_per_message_and_status_with_deterministic_ids():
    receipts = [
        {"message_id": "c1.1.0", "status": "SENT", "reported_at": "2026-01-01T00:00:00+00:00",
         "metadata": {"customer_external_id": "cust-0"}},
        {"message_id": "c1.1.0", "status": "SENT", "reported_at": "2026-01-01T00:00:01+00:00"},
        {"message_id": "c1.1.0", "status": "FAILED", "reported_at": "2026-01-01T00:00:02+00:00"},
    ]
    events = domain.deliveries_reported(receipts, "corr")
    assert [e["data"]["status"] for e in events] == ["SENT", "FAILED"]
    assert events[0]["event_id"] == domain.delivery_event_id("c1.1.0", "SENT")
    assert events[0]["data"]["campaign_id"] == "c1"
    assert events[0]["data"]["customer_external_id"] == "cust-0"
    again = domain.deliveries_reported(receipts[:1], "other")
    assert again[0]["event_id"] == events[0]["event_id"]
    # The events pass their own schema (what the consumer will load).
    for event in events:
        assert envelope.decode(envelope.encode(event))["data"]["message_id"] == "c1.1.0"


def test_first_status_in_a_batch_wins_per_campaign():
    deliveries = [{"campaign_id": "a", "message_id": "a.1.0", "status": "FAILED"},
                  {"campaign_id": "b", "message_id": "b.1.0", "status": "SENT"},
                  {"campaign_id": "a", "message_id": "a.1.0", "status": "SENT"}]
    first = domain.first_statuses(deliveries)
    assert first["a"]["a.1.0"]["status"] == "FAILED"
    assert set(first) == {"a", "b"}


def test_receipt_batch_schema_rejects_foreign_ids_and_statuses():
    schema = ReceiptBatchSchema()
    good = {"message_id": "c1.1.0", "status": "SENT", "reported_at": "2026-01-01T00:00:00Z"}
    assert schema.load({"receipts": [good]})["receipts"][0]["status"] == "SENT"
    for bad in ({**good, "message_id": "nodot"}, {**good, "status": "PENDING"},
                {**good, "reported_at": "yesterday"}):
        with pytest.raises(ValidationError):
            schema.load({"receipts": [bad]})
    with pytest.raises(ValidationError):
        schema.load({"receipts": []})


def test_production_refuses_the_development_secret():
    production = Settings(production=True)
    with pytest.raises(InsecureConfig):
        ReceiptsConfig(settings=production)
    with pytest.raises(InsecureConfig):
        ReceiptsConfig.from_env({"CRM_ENV": "production"})
    assert ReceiptsConfig.from_env({"CRM_ENV": "production", "CRM_WEBHOOK_SECRET": "real"})
    assert ReceiptsConfig().webhook_secret == DEVELOPMENT_WEBHOOK_SECRET
