"""What the customer endpoints send and accept (also the source of their OpenAPI spec)."""
from __future__ import annotations

import base64
import re

from marshmallow import EXCLUDE, Schema, ValidationError, fields

from shared.http import ApiError
from shared.openapi import PageQuerySchema
from shared.times import UtcDateTime


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
    marketing_consent = fields.String(metadata={
        "enum": ["subscribed", "unsubscribed"],
        "description": "Whether the customer may get campaigns (API.md, Consent)."})
    marketing_consent_at = UtcDateTime(allow_none=True, metadata={
        "description": "When the consent last changed (null: never stated, subscribed by "
                       "default)."})
    suppressed = fields.Boolean(metadata={
        "description": "On the suppression list: the vendor reported a permanent failure."})
    suppression_reason = fields.String(allow_none=True, metadata={"example": "INVALID_NUMBER"})
    suppressed_since = UtcDateTime(allow_none=True)
    suppression_campaign_id = fields.String(allow_none=True)


# Unpadded base64url of any length base64 can have (never one more than a multiple of 4).
CURSOR_PATTERN = r"^([A-Za-z0-9_-]{4})*([A-Za-z0-9_-]{2,3})?$"
# "<sort time>.<base64url of the external_id>" of a customer's last order on the page.
ORDER_CURSOR_PATTERN = r"^(-?[0-9]{1,19}\.([A-Za-z0-9_-]{4})*([A-Za-z0-9_-]{2,3})?)?$"


def cursor_field(pattern: str) -> fields.String:
    return fields.String(load_default=None, allow_none=True, metadata={
        "description": "The previous page's `next_cursor` (empty: the first page); any value "
                       "of this pattern is a place in the list, another is a 400 INVALID_CURSOR.",
        "pattern": pattern})


class CustomerPageQuerySchema(PageQuerySchema):
    class Meta:
        unknown = EXCLUDE

    cursor = cursor_field(CURSOR_PATTERN)


class CustomerOrderPageQuerySchema(PageQuerySchema):
    """The spec of a customer's order list query (loaded as CustomerPageQuerySchema;
    decode_order_cursor checks the cursor)."""

    class Meta:
        unknown = EXCLUDE

    cursor = cursor_field(ORDER_CURSOR_PATTERN)


customer_profile_schema = CustomerProfileSchema()
customer_page_query_schema = CustomerPageQuerySchema()


def load_page_query(args) -> dict:
    """A page of customers' `limit` and `cursor` from a query string, or 400 INVALID_QUERY."""
    try:
        return customer_page_query_schema.load(args)
    except ValidationError as error:
        raise ApiError(400, "INVALID_QUERY", "The query parameters are not valid.",
                       {"fields": error.messages}) from error


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> str:
    """The text a CURSOR_PATTERN string encodes (bytes that are not UTF-8 become U+FFFD:
    still a place in an ordered list, just not an id anyone has)."""
    raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    return raw.decode("utf-8", "replace")


def _bad_cursor(cursor: str) -> ApiError:
    return ApiError(400, "INVALID_CURSOR", "The cursor is not one this API gave out.",
                    {"cursor": cursor})


def encode_cursor(external_id: str) -> str:
    """Opaque to clients; today the base64url of the last external_id of the page."""
    return _b64(external_id.encode())


def decode_cursor(cursor: str | None) -> str | None:
    """The external_id to list after: None for no (or an empty) cursor."""
    if not cursor:
        return None
    if re.fullmatch(CURSOR_PATTERN, cursor) is None:
        raise _bad_cursor(cursor)
    return _unb64(cursor) or None


class CustomerOrderSchema(Schema):
    """One order of a customer, as ingested."""

    external_id = fields.String(required=True, metadata={"example": "ord-9001"})
    amount = fields.Float(required=True, metadata={"description": "INR.", "example": 1499.0})
    placed_at = UtcDateTime(allow_none=True)


class BusinessOverviewSchema(Schema):
    """The business at a glance, over customers (profiles with a customer record;
    orders of customers not yet ingested are not counted)."""

    customers = fields.Integer(required=True, metadata={"example": 5000})
    customers_with_orders = fields.Integer(required=True, metadata={"example": 3120})
    orders = fields.Integer(required=True, metadata={"description": "Sum of order_count.",
                                                     "example": 14800})
    revenue = fields.Float(required=True, metadata={
        "description": "Sum of total_spend, rounded to 2 decimals.", "example": 18450210.75})
    currency = fields.String(required=True, metadata={"example": "INR"})


customer_order_schema = CustomerOrderSchema()
business_overview_schema = BusinessOverviewSchema()


def encode_order_cursor(position: tuple[int, str]) -> str:
    """Opaque to clients; today `<sort time>.<base64url external_id>` of the page's last
    order (reads.order_position)."""
    sort_time, external_id = position
    return f"{sort_time}.{_b64(external_id.encode())}"


def decode_order_cursor(cursor: str | None) -> tuple[int, str] | None:
    if not cursor:
        return None
    if re.fullmatch(ORDER_CURSOR_PATTERN, cursor) is None:
        raise _bad_cursor(cursor)
    sort_time, _, external_id = cursor.partition(".")
    return int(sort_time), _unb64(external_id)
