"""The event envelope: every state change in the suite travels and is logged in one."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from shared import events


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    event_id = fields.String(required=True)
    event_type = fields.String(required=True)
    event_version = fields.Integer(required=True, strict=True)
    occurred_at = fields.String(required=True)
    producer = fields.String(required=True)
    correlation_id = fields.String(required=True)
    causation_id = fields.String(load_default=None, allow_none=True)
    data = fields.Dict(required=True)


_envelope_schema = EnvelopeSchema()


class BadEvent(ValueError):
    """A message that can never be handled (malformed, unknown type): dead-letter it."""


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def new_event(event_type: str, data: dict, *, producer: str, correlation_id: str | None = None,
              causation_id: str | None = None, event_id: str | None = None) -> dict:
    event_id = event_id or str(uuid.uuid4())
    return {
        "event_id": event_id,
        "event_type": event_type,
        "event_version": events.current_version(event_type),
        "occurred_at": utc_now_iso(),
        "producer": producer,
        "correlation_id": correlation_id or event_id,
        "causation_id": causation_id,
        "data": data,
    }


def encode(envelope: dict) -> bytes:
    return json.dumps(envelope, separators=(",", ":"), default=str).encode()


def decode(body: bytes) -> dict:
    """Parse, validate and upcast a message body to the current event version."""
    try:
        raw = json.loads(body)
        envelope = _envelope_schema.load(raw)
    except (ValueError, RecursionError, ValidationError) as error:
        # RecursionError: absurdly nested JSON must be dead-lettered, not crash the consumer.
        raise BadEvent(f"malformed envelope: {error}") from error
    return events.upcast(envelope)


def from_log(document: dict) -> dict:
    """An envelope as stored in an event log (`_id` is the event id)."""
    envelope = {k: v for k, v in document.items() if k not in ("_id", "recorded_at")}
    return events.upcast(envelope)


def to_log(envelope: dict) -> dict:
    return {"_id": envelope["event_id"], **envelope}
