"""What a customer or an order must look like to be accepted, and the answer's shape.

Times: any ISO-8601 date or date-time is accepted and normalised to UTC as
`YYYY-MM-DDTHH:MM:SS.ffffff+00:00` (the envelope's own format, fixed width,
so the strings also sort in time order). A time without an offset is taken
as UTC; a bare date means midnight UTC. Times are facts that already
happened, so a time more than the clock-skew allowance in the future is rejected,
and so is a year written before 1900 (API.md: times are real instants).

Numbers must be JSON numbers: `true` is not 1 and `"12.5"` is not 12.5.
Unknown fields are ignored, so clients may send more than we store.
"""
from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared.backbone.event_schemas import CONSENT_VALUES

DEFAULT_CLOCK_SKEW = timedelta(minutes=5)
MAX_ID_LENGTH = 200
MAX_TEXT_LENGTH = 200
MAX_TAGS = 50
MAX_TAG_LENGTH = 100
MAX_AMOUNT = 1e12  # far above any real order; keeps sums of spend finite and exact enough
MIN_YEAR = 1900
YEAR_PATTERN = r"^(19|[2-9][0-9])[0-9]{2}"  # the written year is MIN_YEAR or later


def _not_blank(value: str) -> None:
    if not value.strip():
        raise ValidationError("Must not be blank.")


def _text(required: bool, max_length: int = MAX_TEXT_LENGTH, **kwargs) -> fields.String:
    checks = [validate.Length(min=1, max=max_length)]
    if required:
        checks.append(_not_blank)
        return fields.String(required=True, validate=checks, **kwargs)
    # No load_default: an omitted optional field stays out of the record, so an
    # update keeps what the customer had (API.md); an explicit null clears it.
    return fields.String(allow_none=True, validate=checks, **kwargs)


class PastTime(fields.String):
    """An ISO-8601 time, normalised to UTC, not later than now plus the allowed clock skew,
    written with a year from 1900 on (earlier ones are typos or placeholders, not facts)."""

    default_error_messages: ClassVar[dict[str, str]] = {
        "invalid": "Not a valid ISO-8601 date-time.",
        "future": "Must not be in the future.",
        "too_early": f"Must be in {MIN_YEAR} or later.",
    }

    def __init__(self, **kwargs):
        metadata = {"format": "date-time", "pattern": YEAR_PATTERN,
                    "description": f"ISO-8601, from {MIN_YEAR} up to now (a few minutes of "
                                   "clock skew allowed); without an offset it is UTC.",
                    **kwargs.pop("metadata", {})}
        super().__init__(metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs) -> str:
        if not isinstance(value, str) or len(value) > 64:
            raise self.make_error("invalid")
        try:
            moment = datetime.fromisoformat(value)
            if moment.year < MIN_YEAR:
                raise self.make_error("too_early")
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=UTC)
            moment = moment.astimezone(UTC)
        except (ValueError, OverflowError) as error:
            raise self.make_error("invalid") from error
        skew = getattr(self.parent, "clock_skew", DEFAULT_CLOCK_SKEW)
        if moment > datetime.now(UTC) + skew:
            raise self.make_error("future")
        return moment.isoformat(timespec="microseconds")


class Count(fields.Integer):
    """A JSON integer (not a bool, not a float, not a string)."""

    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "Not a valid integer."}

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return value


class Money(fields.Float):
    """A finite JSON number (not a bool, not a string), as a float."""

    default_error_messages: ClassVar[dict[str, str]] = {"invalid": "Not a valid number."}

    def _deserialize(self, value, attr, data, **kwargs) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self.make_error("invalid")
        try:
            amount = float(value)
        except OverflowError as error:
            raise self.make_error("invalid") from error
        if not math.isfinite(amount):
            raise self.make_error("invalid")
        return amount


class _RecordSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    def __init__(self, *, clock_skew: timedelta = DEFAULT_CLOCK_SKEW, **kwargs):
        super().__init__(**kwargs)
        self.clock_skew = clock_skew


class CustomerRecordSchema(_RecordSchema):
    """A customer as the client's own systems know it (API.md, Ingestion). Optional
    fields a record omits are not in the loaded record: an update keeps them."""

    external_id = _text(True, MAX_ID_LENGTH, metadata={"description": "The client's own id."})
    name = _text(True)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    phone = _text(False, 40)
    city = _text(False)
    tags = fields.List(fields.String(validate=validate.Length(min=1, max=MAX_TAG_LENGTH)),
                       allow_none=True, validate=validate.Length(max=MAX_TAGS))
    signed_up_at = PastTime(allow_none=True)
    visits = Count(allow_none=True,
                   validate=validate.Range(min=0, max=10**9,
                                           error="Must be a whole number from 0 to 1,000,000,000."),
                   metadata={"description": "Visits as counted by the client's systems."})
    last_visit_at = PastTime(allow_none=True)
    marketing_consent = fields.String(
        validate=validate.OneOf(CONSENT_VALUES),
        metadata={"description": "subscribed (the default for a new customer) or "
                                 "unsubscribed; kept as it was when omitted."})


class OrderRecordSchema(_RecordSchema):
    """An order of an already accepted customer; amounts are in INR."""

    external_id = _text(True, MAX_ID_LENGTH)
    customer_external_id = _text(True, MAX_ID_LENGTH)
    amount = Money(required=True, metadata={"exclusiveMinimum": True},
                   validate=validate.Range(min=0, max=MAX_AMOUNT, min_inclusive=False,
                                           error="Must be more than 0 and at most "
                                                 "1,000,000,000,000 (INR)."))
    placed_at = PastTime(required=True)


class CustomerBatchSchema(Schema):
    class Meta:
        unknown = EXCLUDE  # keys next to `records` are ignored, as in a record

    records = fields.List(fields.Nested(CustomerRecordSchema), required=True,
                          validate=validate.Length(min=1, max=1000))


class OrderBatchSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    records = fields.List(fields.Nested(OrderRecordSchema), required=True,
                          validate=validate.Length(min=1, max=1000))


class RejectedRecordSchema(Schema):
    index = fields.Integer(required=True, metadata={
        "description": "Position in `records` (0 for a single object)."})
    errors = fields.Dict(required=True, metadata={"description": "Field name -> list of messages."})


class IngestResultSchema(Schema):
    accepted = fields.Integer(required=True)
    rejected = fields.List(fields.Nested(RejectedRecordSchema), required=True)


def load_each(schema: Schema, records: list) -> tuple[list[tuple[int, dict]], list[dict]]:
    """Validate every record on its own: (index, record) pairs that passed, and the rejections."""
    valid: list[tuple[int, dict]] = []
    rejected: list[dict] = []
    load = schema.load
    for index, record in enumerate(records):
        try:
            valid.append((index, load(record)))
        except ValidationError as error:
            rejected.append({"index": index, "errors": error.normalized_messages()})
    return valid, rejected


def record_schemas(clock_skew: timedelta = DEFAULT_CLOCK_SKEW) -> tuple[Schema, Schema]:
    """(customer, order) schema instances; build once per app, reuse for every record."""
    return CustomerRecordSchema(clock_skew=clock_skew), OrderRecordSchema(clock_skew=clock_skew)
