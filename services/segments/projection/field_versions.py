"""Which event a profile field last came from, so partial updates fold in any order.

An update keeps the fields it omits (API.md, Ingestion), and consent or a
suppression can change without a customer record. A whole-profile "last
writer wins" would let an older full record, replayed or redelivered after
a newer partial one, overwrite the newer fields. So every field has its own
version, the `(occurred_at, event_id)` of the event that wrote it, and an
event writes only the fields it carries whose version is older.

To keep profiles small, a field's version is stored only where it differs from
`projection.customer_event` (the newest customer record folded in):
`projection.field_events[name]` is `{"occurred_at", "event_id"}`, or None for
a field no event has written yet. Profiles written before partial updates have
no `field_events`: every field of theirs came from `customer_event`.

Pure logic, no I/O; versions are `(aware datetime, event_id)` tuples.
"""
from __future__ import annotations

from datetime import UTC, datetime

NEVER = (datetime.min.replace(tzinfo=UTC), "")


def event_version(occurred_at, event_id: str) -> tuple[datetime, str]:
    # Full precision (not parse_time's milliseconds): two updates within a millisecond still order.
    moment = occurred_at if isinstance(occurred_at, datetime) else \
        datetime.fromisoformat(str(occurred_at).replace("z", "Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment, event_id


def stamp(version: tuple[datetime, str], occurred_at) -> dict:
    return {"occurred_at": str(occurred_at), "event_id": version[1]}


def _version_of(stamped: dict | None) -> tuple[datetime, str]:
    return NEVER if stamped is None else event_version(stamped["occurred_at"], stamped["event_id"])


def field_version(bookkeeping: dict, name: str) -> tuple[datetime, str]:
    field_events = bookkeeping.get("field_events") or {}
    if name in field_events:
        return _version_of(field_events[name])
    return _version_of(bookkeeping.get("customer_event"))


def newer_fields(bookkeeping: dict, names, version: tuple[datetime, str]) -> list[str]:
    """The fields among `names` that an event at `version` overwrites."""
    return [name for name in names if field_version(bookkeeping, name) < version]


def record_fields(bookkeeping: dict, written: list[str], all_names, version, occurred_at, *,
                  becomes_customer_event: bool) -> dict:
    """The bookkeeping after writing `written` at `version`. When the event is the
    newest customer record (`becomes_customer_event`), it becomes `customer_event`
    and every field it did not write keeps its own version explicitly."""
    field_events = dict(bookkeeping.get("field_events") or {})
    if becomes_customer_event:
        previous = bookkeeping.get("customer_event")
        for name in all_names:
            if name not in written and name not in field_events:
                field_events[name] = previous
        for name in written:
            field_events.pop(name, None)
        return {**bookkeeping, "customer_event": stamp(version, occurred_at),
                "field_events": field_events}
    for name in written:
        field_events[name] = stamp(version, occurred_at)
    return {**bookkeeping, "field_events": field_events}
