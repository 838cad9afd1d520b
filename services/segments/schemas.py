"""What the customer endpoints send and accept (also the source of their OpenAPI spec)."""
from __future__ import annotations

import base64
import binascii

from marshmallow import EXCLUDE, Schema, fields

from segments.profiles import iso_utc
from shared.http import ApiError
from shared.openapi import PageQuerySchema


class UtcDateTime(fields.DateTime):
    """ISO-8601 in UTC with millisecond precision and a `Z`: `2024-03-01T10:00:00.000Z`."""

    def _serialize(self, value, attr, obj, **kwargs):
        return iso_utc(value)


class CustomerProfileSchema(Schema):
    """A customer as ingested, plus what their orders add up to."""

    external_id = fields.String(required=True, metadata={"example": "cust-1042"})
    name = fields.String(allow_none=True, metadata={"example": "Asha Rao"})
    email = fields.String(allow_none=True, metadata={"example": "asha@example.com"})
    phone = fields.String(allow_none=True)
    city = fields.String(allow_none=True, metadata={"example": "Pune"})
    tags = fields.List(fields.String(), metadata={"example": ["vip"]})
    signed_up_at = UtcDateTime(allow_none=True)
    visits = fields.Integer(allow_none=True, metadata={"example": 12})
    last_visit_at = UtcDateTime(allow_none=True)
    total_spend = fields.Float(metadata={"description": "Sum of order amounts, INR.",
                                         "example": 12500.5})
    order_count = fields.Integer(metadata={"example": 4})
    last_order_at = UtcDateTime(allow_none=True)
    last_active_at = UtcDateTime(allow_none=True, metadata={
        "description": "The later of last_visit_at and last_order_at."})


class CustomerPageQuerySchema(PageQuerySchema):
    class Meta:
        unknown = EXCLUDE


customer_profile_schema = CustomerProfileSchema()
customer_page_query_schema = CustomerPageQuerySchema()


def encode_cursor(external_id: str) -> str:
    """Opaque to clients; today the base64url of the last external_id of the page."""
    return base64.urlsafe_b64encode(external_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if cursor is None or cursor == "":
        return None
    try:
        external_id = base64.b64decode(cursor + "=" * (-len(cursor) % 4), altchars=b"-_",
                                       validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        external_id = None
    if not external_id or encode_cursor(external_id) != cursor:
        raise ApiError(400, "INVALID_CURSOR", "The cursor is not one this API gave out.",
                       {"cursor": cursor})
    return external_id
