"""What the holdout, results and export endpoints accept and send (and their OpenAPI)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from campaigns.recipients.holdout import CURSOR_PATTERN as HOLDOUT_CURSOR_PATTERN
from shared.openapi import PageQuerySchema

MAX_WINDOW_DAYS = 90


class HeldOutSchema(Schema):
    customer_external_id = fields.String()
    held_out_at = fields.String(metadata={
        "format": "date-time",
        "description": "When their audience chunk was recorded (they got no message)"})


class HoldoutQuerySchema(PageQuerySchema):
    cursor = fields.String(load_default=None, allow_none=True, metadata={
        "description": "The previous page's `next_cursor` (empty: the first page).",
        "pattern": HOLDOUT_CURSOR_PATTERN})


class ResultsQuerySchema(Schema):
    window_days = fields.Integer(load_default=7, validate=validate.Range(min=1,
                                                                         max=MAX_WINDOW_DAYS),
                                 metadata={"description": "Orders placed within this many "
                                                          "days after launch count (1 to 90)."})


class LiftSchema(Schema):
    absolute = fields.Float(allow_none=True, metadata={
        "description": "The variant's value minus the holdout's"})
    relative = fields.Float(allow_none=True, metadata={
        "description": "absolute / the holdout's value (null when that is 0)"})
    ci95 = fields.List(fields.Float(), allow_none=True, metadata={
        "description": "[low, high], 95% interval of `absolute` (null: not enough data)"})
    enough_data = fields.Boolean()
    reason = fields.String(allow_none=True, metadata={
        "description": "Why there is no interval, when there is none"})
    method = fields.String(metadata={"description": "newcombe-wilson (hybrid score, "
                                                    "Newcombe 1998 method 10) or welch"})


class LiftVsHoldoutSchema(Schema):
    conversion_rate = fields.Nested(LiftSchema)
    revenue_per_customer = fields.Nested(LiftSchema)


class GroupResultSchema(Schema):
    name = fields.String(metadata={"description": "`holdout` or the variant's name"})
    customers = fields.Integer()
    converted = fields.Integer(metadata={"description": "Customers with an order placed "
                                                        "after launch, within the window"})
    conversion_rate = fields.Float(allow_none=True)
    orders = fields.Integer()
    revenue = fields.Float()
    revenue_per_customer = fields.Float(allow_none=True)
    converted_by_day = fields.List(fields.Integer(), metadata={
        "description": "Cumulative converted customers at the end of each day after launch"})
    lift_vs_holdout = fields.Nested(LiftVsHoldoutSchema, allow_none=True, metadata={
        "description": "Variants only (null for the holdout)"})


class CampaignResultsSchema(Schema):
    campaign_id = fields.String()
    launched_at = fields.String(metadata={"format": "date-time"})
    window_days = fields.Integer()
    window_ends_at = fields.String(metadata={"format": "date-time"})
    holdout_percent = fields.Float()
    holdout = fields.Nested(GroupResultSchema)
    variants = fields.List(fields.Nested(GroupResultSchema))
    orders_attributed_at = fields.String(allow_none=True, metadata={
        "format": "date-time",
        "description": "When the attribution read model last took in orders"})
