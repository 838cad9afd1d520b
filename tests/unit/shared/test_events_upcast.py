"""Versioned event schemas: a test-registered v2 with an upcaster from v1."""
from __future__ import annotations

import json

import pytest
from marshmallow import fields

from shared.backbone import envelope, events
from shared.backbone.envelope import BadEvent
from shared.backbone.event_schemas import EventData

TYPE = "test.loyalty_earned"


class LoyaltyEarnedV1(EventData):
    customer_external_id = fields.String(required=True)
    points = fields.Integer(required=True)


class LoyaltyEarnedV2(EventData):
    """v2 renames `points` to `amount` and adds the unit (a breaking change)."""

    customer_external_id = fields.String(required=True)
    amount = fields.Integer(required=True)
    unit = fields.String(required=True)


def _v1_to_v2(data: dict) -> dict:
    return {"customer_external_id": data["customer_external_id"], "amount": data["points"],
            "unit": "points"}


@pytest.fixture
def registry():
    """Register the test type and restore the global tables afterwards."""
    schemas, upcasters = dict(events.SCHEMAS), dict(events.UPCASTERS)
    yield events
    events.SCHEMAS.clear()
    events.SCHEMAS.update(schemas)
    events.UPCASTERS.clear()
    events.UPCASTERS.update(upcasters)


def _v1_body(**data) -> bytes:
    return json.dumps({
        "event_id": "e-1", "event_type": TYPE, "event_version": 1,
        "occurred_at": "2024-01-01T00:00:00+00:00", "producer": "test",
        "correlation_id": "e-1", "causation_id": None,
        "data": {"customer_external_id": "c-1", "points": 40, **data},
    }).encode()


def test_current_version_is_the_highest_registered(registry):
    assert registry.current_version("order.placed") == 1
    with pytest.raises(KeyError):
        registry.current_version(TYPE)
    registry.register(TYPE, 1, LoyaltyEarnedV1)
    assert registry.current_version(TYPE) == 1
    registry.register(TYPE, 2, LoyaltyEarnedV2)
    registry.register_upcaster(TYPE, 1, _v1_to_v2)
    assert registry.current_version(TYPE) == 2
    assert envelope.new_event(TYPE, {}, producer="t")["event_version"] == 2


def test_v1_payload_is_read_as_v2(registry):
    registry.register(TYPE, 1, LoyaltyEarnedV1)
    registry.register(TYPE, 2, LoyaltyEarnedV2)
    registry.register_upcaster(TYPE, 1, _v1_to_v2)
    decoded = envelope.decode(_v1_body())
    assert decoded["event_version"] == 2
    assert decoded["data"] == {"customer_external_id": "c-1", "amount": 40, "unit": "points"}


def test_upcast_applies_from_log_too(registry):
    registry.register(TYPE, 1, LoyaltyEarnedV1)
    registry.register(TYPE, 2, LoyaltyEarnedV2)
    registry.register_upcaster(TYPE, 1, _v1_to_v2)
    stored = {"_id": "e-1", "recorded_at": "x", **json.loads(_v1_body())}
    assert envelope.from_log(stored)["data"]["amount"] == 40


def test_upcast_chains_step_by_step(registry):
    registry.register(TYPE, 1, LoyaltyEarnedV1)
    registry.register(TYPE, 2, LoyaltyEarnedV2)
    registry.register(TYPE, 3, LoyaltyEarnedV2)
    registry.register_upcaster(TYPE, 1, _v1_to_v2)
    registry.register_upcaster(TYPE, 2, lambda data: {**data, "amount": data["amount"] * 10})
    assert envelope.decode(_v1_body())["data"]["amount"] == 400


def test_a_missing_upcaster_is_a_bad_event_not_a_crash(registry):
    registry.register(TYPE, 1, LoyaltyEarnedV1)
    registry.register(TYPE, 2, LoyaltyEarnedV2)
    with pytest.raises(BadEvent, match="no upcaster"):
        envelope.decode(_v1_body())


def test_an_upcaster_failing_on_an_old_payload_is_a_bad_event(registry):
    registry.register(TYPE, 1, LoyaltyEarnedV1)
    registry.register(TYPE, 2, LoyaltyEarnedV2)
    registry.register_upcaster(TYPE, 1, _v1_to_v2)
    body = json.loads(_v1_body())
    del body["data"]["points"]  # the upcaster reads it: KeyError inside the upcaster
    with pytest.raises(BadEvent):
        envelope.decode(json.dumps(body).encode())


def test_upcast_result_is_validated_against_the_current_schema(registry):
    registry.register(TYPE, 1, LoyaltyEarnedV1)
    registry.register(TYPE, 2, LoyaltyEarnedV2)
    registry.register_upcaster(TYPE, 1, lambda data: {"customer_external_id": "c-1"})
    with pytest.raises(BadEvent, match="invalid"):
        envelope.decode(_v1_body())


def test_registry_fixture_cleans_up(registry):
    assert (TYPE, 1) not in events.SCHEMAS and (TYPE, 1) not in events.UPCASTERS
