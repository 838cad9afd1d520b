"""The event envelope: every state change in the suite travels and is logged in one."""
from __future__ import annotations

import functools
import json
import math
import uuid
from datetime import datetime, timezone

from marshmallow import EXCLUDE, Schema, ValidationError, fields, missing

from shared.backbone import events

# Defined where upcasting raises it; consumers know it as envelope.BadEvent.
from shared.backbone.events import BadEvent


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


def _json_text(value) -> str:
    """The JSON text of a publish; to_log writes a compact `data` with it too."""
    return json.dumps(value, separators=(",", ":"), default=str)


def encode(envelope: dict) -> bytes:
    return _json_text(envelope).encode()


def decode(body: bytes) -> dict:
    """Parse, validate and upcast a message body to the current event version."""
    try:
        raw = json.loads(body)
        envelope = _envelope_schema.load(raw)
    except (ValueError, RecursionError, ValidationError) as error:
        # RecursionError: absurdly nested JSON must be dead-lettered, not crash the consumer.
        raise BadEvent(f"malformed envelope: {error}") from error
    return _load_lists_fast(envelope) or events.upcast(envelope)


# -- a fast path for lists of flat records (audience.chunk, messages.queued) ----------
# marshmallow loads one audience recipient in ~0.1-0.2 ms: a 1,000-recipient chunk cost
# the campaigns dispatcher ~0.2 s of CPU under load, in the thread that also feeds it
# (~6.7 s of a 30,000-recipient campaign). A record whose values already have the types
# the schema returns loads to itself (defaults filled in), which a type check per value
# sees ~15x faster; anything else (a wrong type, an unknown key, an old version) goes
# through marshmallow as before, so errors and upcasting are unchanged.

def _plain_string(value):
    return value if type(value) is str else _SLOW


def _plain_integer(value):
    return value if type(value) is int else _SLOW


def _plain_float(value):
    if type(value) is float:
        return value if math.isfinite(value) else _SLOW
    return float(value) if type(value) is int else _SLOW


def _plain_strings(value):
    if type(value) is list and all(type(item) is str for item in value):
        return list(value)
    return _SLOW


def _plain_boolean(value):
    return value if type(value) is bool else _SLOW


_SLOW = object()
_CHECKS = {fields.String: _plain_string, fields.Integer: _plain_integer,
           fields.Float: _plain_float, fields.Boolean: _plain_boolean}


def _value_check(field):
    """The check of one field's value, or None when the field is not plain."""
    if field.validators or field.data_key or field.attribute:
        return None
    if type(field) is fields.List:
        inner = field.inner
        plain_inner = type(inner) is fields.String and not (
            inner.validators or inner.allow_none)
        return _plain_strings if plain_inner else None
    return _CHECKS.get(type(field))


@functools.cache
def _record_plan(schema_class) -> tuple | None:
    """(name, check, required, allow_none, default) per field of a flat schema, else None."""
    schema = schema_class()
    if schema._hooks and any(schema._hooks.values()):
        return None
    plan = []
    for name, field in schema.load_fields.items():
        check = _value_check(field)
        if check is None:
            return None
        plan.append((name, check, field.required, field.allow_none, field.load_default))
    return tuple(plan)


@functools.cache
def _list_plan(schema_class) -> tuple | None:
    """(outer schema, [(list field, record plan)]) when the schema has lists of flat records."""
    schema = schema_class()
    lists = []
    for name, field in schema.load_fields.items():
        if (type(field) is fields.List and type(field.inner) is fields.Nested
                and not field.validators and not field.data_key and not field.attribute
                and not field.inner.validators and not field.allow_none
                and field.inner.only is None and not field.inner.exclude):
            nested = field.inner.nested
            plan = _record_plan(nested) if isinstance(nested, type) else None
            if plan is not None:
                lists.append((name, plan))
    return (schema, tuple(lists)) if lists else None


def _plain_record(item, plan, names):
    if type(item) is not dict or not item.keys() <= names:
        return _SLOW
    record = {}
    for name, check, required, allow_none, default in plan:
        if name in item:
            value = item[name]
            if value is None:
                if not allow_none:
                    return _SLOW
                record[name] = None
                continue
            value = check(value)
            if value is _SLOW:
                return _SLOW
            record[name] = value
        elif required:
            return _SLOW
        elif default is not missing:
            record[name] = default() if callable(default) else default
    return record


def _load_lists_fast(envelope: dict) -> dict | None:
    """The envelope as events.upcast returns it, or None to let upcast do it."""
    event_type, data = envelope["event_type"], envelope["data"]
    try:
        if envelope["event_version"] != events.current_version(event_type):
            return None
    except KeyError:
        return None
    found = _list_plan(events.SCHEMAS[(event_type, envelope["event_version"])])
    if found is None:
        return None
    schema, lists = found
    loaded_lists = {}
    for name, plan in lists:
        items = data.get(name)
        if type(items) is not list:
            return None
        names = {entry[0] for entry in plan}
        records = [_plain_record(item, plan, names) for item in items]
        if any(record is _SLOW for record in records):
            return None
        loaded_lists[name] = records
    try:
        # The rest of the data, with each list empty: loading [] checks nothing per item.
        loaded = schema.load({**data, **{name: [] for name in loaded_lists}})
    except ValidationError:
        return None
    loaded.update(loaded_lists)
    return {**envelope, "data": loaded}


# A log document whose `data` holds a list this long (an audience chunk's recipients,
# a chunk's queued messages) keeps `data` as one JSON string: FerretDB converts every
# value of a document on insert and on read, so a 1,000-recipient chunk stored nested
# cost ~50 ms to insert and ~120 ms to read on an idle FerretDB (~250 ms to insert
# under a campaign's load), the same chunk as a string ~8 ms and ~12 ms.
COMPACT_LIST_LENGTH = 100
_COMPACT_MARK = "data_encoding"


def from_log(document: dict) -> dict:
    """An envelope as stored in an event log (`_id` is the event id), upcast."""
    return events.upcast(logged(document))


def logged(document: dict) -> dict:
    """An envelope exactly as it was logged (and so published): no upcasting."""
    envelope = {k: v for k, v in document.items()
                if k not in ("_id", "recorded_at", _COMPACT_MARK)}
    if document.get(_COMPACT_MARK) == "json":
        envelope["data"] = json.loads(envelope["data"])
    return envelope


def to_log(envelope: dict) -> dict:
    data = envelope["data"]
    if any(isinstance(value, list) and len(value) >= COMPACT_LIST_LENGTH
           for value in data.values()):
        # The same text a publish sends (encode), so a republish from the log is identical.
        return {"_id": envelope["event_id"], **envelope, _COMPACT_MARK: "json",
                "data": _json_text(data)}
    return {"_id": envelope["event_id"], **envelope}
