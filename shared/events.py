"""One versioned schema per event type, and the upcasters between versions.

Additive changes keep the version; a breaking change adds a new schema with a
higher version and an upcaster from the previous one (v1 -> v2 -> ...), so
old payloads in logs and queues are read as the current version.
"""
from __future__ import annotations

from typing import Callable

from marshmallow import EXCLUDE, Schema, ValidationError, fields


class _EventData(Schema):
    class Meta:
        unknown = EXCLUDE


class CustomerUpsertedV1(_EventData):
    """A customer record was accepted (created or updated) by ingest."""

    external_id = fields.String(required=True)
    name = fields.String(required=True)
    email = fields.String(required=True)
    phone = fields.String(allow_none=True, load_default=None)
    city = fields.String(allow_none=True, load_default=None)
    tags = fields.List(fields.String(), load_default=list)
    signed_up_at = fields.String(allow_none=True, load_default=None)
    visits = fields.Integer(allow_none=True, load_default=None)
    last_visit_at = fields.String(allow_none=True, load_default=None)


class OrderPlacedV1(_EventData):
    """An order was accepted by ingest (once per order `external_id`)."""

    external_id = fields.String(required=True)
    customer_external_id = fields.String(required=True)
    amount = fields.Float(required=True)
    placed_at = fields.String(required=True)


CUSTOMER_UPSERTED = "customer.upserted"
ORDER_PLACED = "order.placed"

SCHEMAS: dict[tuple[str, int], type[Schema]] = {
    (CUSTOMER_UPSERTED, 1): CustomerUpsertedV1,
    (ORDER_PLACED, 1): OrderPlacedV1,
}

# (event_type, from_version) -> function turning that version's data into the next one's.
UPCASTERS: dict[tuple[str, int], Callable[[dict], dict]] = {}


def register(event_type: str, version: int, schema: type[Schema]) -> None:
    """Other event types (campaigns, deliveries) register their schemas here at import."""
    SCHEMAS[(event_type, version)] = schema


def register_upcaster(event_type: str, from_version: int, upcaster: Callable[[dict], dict]) -> None:
    """`upcaster` turns `from_version` data into `from_version + 1` data."""
    UPCASTERS[(event_type, from_version)] = upcaster


def current_version(event_type: str) -> int:
    versions = [v for (t, v) in SCHEMAS if t == event_type]
    if not versions:
        raise KeyError(f"unknown event type {event_type!r}")
    return max(versions)


def upcast(envelope: dict) -> dict:
    """Bring `envelope` to the current version of its type and validate its data.

    Anything that stops an event from being read raises BadEvent, never another
    error: a consumer dead-letters a BadEvent, but any other exception would
    crash it on the same message over and over.
    """
    from shared.envelope import BadEvent

    event_type, version = envelope["event_type"], envelope["event_version"]
    try:
        target = current_version(event_type)
    except KeyError as error:
        raise BadEvent(str(error)) from error
    if version > target:
        raise BadEvent(f"{event_type} v{version} is newer than this code knows (v{target})")
    data = envelope["data"]
    while version < target:
        upcaster = UPCASTERS.get((event_type, version))
        if upcaster is None:
            raise BadEvent(f"no upcaster for {event_type} v{version} (current is v{target})")
        try:
            data = upcaster(data)
        except Exception as error:  # an old payload the upcaster cannot read
            raise BadEvent(f"cannot upcast {event_type} v{version}: {error!r}") from error
        version += 1
    try:
        data = SCHEMAS[(event_type, version)]().load(data)
    except ValidationError as error:
        raise BadEvent(f"invalid {event_type} data: {error.messages}") from error
    return {**envelope, "event_version": version, "data": data}
