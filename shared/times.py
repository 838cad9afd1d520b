"""How the API writes a time, in every answer of every service (API.md, Ingestion):
ISO-8601 in UTC, a four-digit year, milliseconds and a `Z`, e.g.
`2024-03-01T10:00:00.000Z`.

`strftime("%Y")` is not used: on glibc it drops the leading zeros of a year
before 1000 (`"295-01-26..."`), which no ISO-8601 reader takes.
"""
from __future__ import annotations

from datetime import UTC, datetime

from marshmallow import fields

# The JSON Schema of such a time, for a spec that wants to say more than `date-time`.
PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$"


def iso_utc(moment: datetime | None) -> str | None:
    """The API's form of `moment` (a naive datetime counts as UTC); None stays None."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}."
            f"{moment.microsecond // 1000:03d}Z")


class UtcDateTime(fields.DateTime):
    """A marshmallow field that dumps with `iso_utc` (and documents it in the spec)."""

    def __init__(self, **kwargs):
        metadata = {"pattern": PATTERN, **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _serialize(self, value, attr, obj, **kwargs):
        if isinstance(value, str):  # stored as text by an older writer
            value = datetime.fromisoformat(value)
        return iso_utc(value)
