"""The event envelope: encode/decode round trip and what counts as a BadEvent."""
from __future__ import annotations

import json
import uuid

import pytest

from shared.backbone import envelope, events
from shared.backbone.envelope import BadEvent

CUSTOMER = {"external_id": "c-1", "name": "Asha Rao", "email": "asha@example.com",
            "city": "Pune", "tags": ["vip"], "visits": 3}
ORDER = {"external_id": "o-1", "customer_external_id": "c-1", "amount": 1250.5,
         "placed_at": "2024-05-01T10:00:00+00:00"}


def test_new_event_fills_the_envelope():
    event = envelope.new_event(events.ORDER_PLACED, ORDER, producer="ingest")
    uuid.UUID(event["event_id"], version=4)
    assert event["event_type"] == "order.placed"
    assert event["event_version"] == events.current_version("order.placed")
    assert event["correlation_id"] == event["event_id"]  # a new chain starts at itself
    assert event["causation_id"] is None
    assert event["occurred_at"].endswith("+00:00")


def test_round_trip_keeps_every_field():
    event = envelope.new_event(events.CUSTOMER_UPSERTED, CUSTOMER, producer="ingest",
                               correlation_id="corr-1", causation_id="cause-1")
    decoded = envelope.decode(envelope.encode(event))
    # A customer record carries only its fields: what it omits, the profile keeps.
    assert decoded == event


def test_decode_drops_unknown_envelope_and_data_keys():
    event = envelope.new_event(events.ORDER_PLACED, {**ORDER, "coupon": "X"}, producer="ingest")
    body = json.dumps({**event, "trace": "abc"}).encode()
    decoded = envelope.decode(body)
    assert "trace" not in decoded and "coupon" not in decoded["data"]


def test_log_document_round_trip():
    event = envelope.new_event(events.ORDER_PLACED, ORDER, producer="ingest")
    document = {**envelope.to_log(event), "recorded_at": "2024-05-01T10:00:01+00:00"}
    assert document["_id"] == event["event_id"]
    assert envelope.from_log(document) == event


def _body(**overrides) -> bytes:
    event = envelope.new_event(events.ORDER_PLACED, ORDER, producer="ingest")
    event.update(overrides)
    return json.dumps({k: v for k, v in event.items() if v is not ...}).encode()


@pytest.mark.parametrize("body", [
    b"not json",
    b"\xff\xfe\x00",                      # not UTF-8
    b"[1, 2, 3]",                          # JSON, but not an object
    b"{}",
    b"[" * 100_000 + b"]" * 100_000,       # nesting deep enough to blow the parser's stack
    _body(event_id=...),                   # a required envelope field missing
    _body(event_version="1"),             # a version that is not an integer
    _body(data="amount=5"),                # data that is not an object
])
def test_malformed_bodies_are_bad_events(body):
    with pytest.raises(BadEvent):
        envelope.decode(body)


def test_unknown_event_type_is_a_bad_event():
    with pytest.raises(BadEvent, match="unknown event type"):
        envelope.decode(_body(event_type="order.teleported"))


@pytest.mark.parametrize("data", [
    {k: v for k, v in ORDER.items() if k != "amount"},
    {**ORDER, "amount": "lots"},
    {**ORDER, "customer_external_id": None},
])
def test_invalid_data_is_a_bad_event(data):
    with pytest.raises(BadEvent, match="invalid order.placed data"):
        envelope.decode(_body(data=data))


@pytest.mark.parametrize("version", [0, -1, 99])
def test_versions_this_code_cannot_read_are_bad_events(version):
    with pytest.raises(BadEvent):
        envelope.decode(_body(event_version=version))
