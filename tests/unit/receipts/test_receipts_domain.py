"""Receipts' pure logic: signatures, message ids, events, which status wins."""
from __future__ import annotations

import pytest
from marshmallow import ValidationError
from receipts import domain
from receipts.config import DEVELOPMENT_WEBHOOK_SECRET, InsecureConfig, ReceiptsConfig
from receipts.schemas import ReceiptBatchSchema

from shared.backbone import envelope
from shared.backbone.envelope import new_event
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


def test_one_event_per_callback_with_distinct_receipts_and_a_deterministic_id():
    receipts = [
        {"message_id": "c1.1.0", "status": "SENT", "reported_at": "2026-01-01T00:00:00+00:00",
         "metadata": {"customer_external_id": "cust-0"}},
        {"message_id": "c1.1.0", "status": "SENT", "reported_at": "2026-01-01T00:00:01+00:00"},
        {"message_id": "c1.1.0", "status": "FAILED", "reported_at": "2026-01-01T00:00:02+00:00"},
        {"message_id": "c2.1.7", "status": "FAILED", "reported_at": "2026-01-01T00:00:03+00:00",
         "reason": "UNREACHABLE"},
    ]
    event = domain.deliveries_reported(receipts, "corr")
    assert event["event_type"] == "deliveries.reported"
    items = event["data"]["receipts"]
    assert [(i["message_id"], i["status"]) for i in items] == [
        ("c1.1.0", "SENT"), ("c1.1.0", "FAILED"), ("c2.1.7", "FAILED")]
    assert items[0]["campaign_id"] == "c1" and items[2]["campaign_id"] == "c2"
    assert items[0]["customer_external_id"] == "cust-0"
    assert items[0]["reported_at"] == "2026-01-01T00:00:00+00:00"
    assert items[2]["reason"] == "UNREACHABLE"
    # A retried callback (any order, other correlation) is the same event; another set is not.
    again = domain.deliveries_reported(list(reversed(receipts)), "other")
    assert again["event_id"] == event["event_id"]
    assert domain.deliveries_reported(receipts[:1], "corr")["event_id"] != event["event_id"]
    # The event passes its own schema (what the consumer will load).
    loaded = envelope.decode(envelope.encode(event))
    assert [i["message_id"] for i in loaded["data"]["receipts"]] == ["c1.1.0", "c1.1.0", "c2.1.7"]


def test_a_callback_event_with_a_foreign_message_id_is_a_bad_event():
    good = {"message_id": "c1.1.0", "status": "SENT", "reported_at": "2026-01-01T00:00:00Z"}
    event = domain.deliveries_reported([good, {**good, "message_id": "c1.1.1"}], "corr")
    event["data"]["receipts"][1]["message_id"] = "not ours"
    with pytest.raises(envelope.BadEvent):
        envelope.decode(envelope.encode(event))
    event["data"]["receipts"] = []
    with pytest.raises(envelope.BadEvent):
        envelope.decode(envelope.encode(event))


def test_old_delivery_reported_events_are_still_read():
    old = new_event("delivery.reported", {
        "message_id": "c1.1.0", "campaign_id": "c1", "status": "SENT",
        "reported_at": "2026-01-01T00:00:00+00:00"}, producer="receipts",
        event_id=domain.delivery_event_id("c1.1.0", "SENT"))
    loaded = envelope.decode(envelope.encode(old))
    assert domain.deliveries_in([loaded])[0]["message_id"] == "c1.1.0"
    with pytest.raises(envelope.BadEvent):
        envelope.decode(envelope.encode({**old, "data": {**old["data"], "message_id": "x"}}))


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
