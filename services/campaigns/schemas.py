"""What the campaign endpoints accept and send (also the source of their OpenAPI spec)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from marshmallow import (
    RAISE,
    Schema,
    ValidationError,
    fields,
    validate,
    validates,
    validates_schema,
)

from campaigns import rules_check
from campaigns.delivery.message_log import CURSOR_PATTERN
from campaigns.domain import MAX_TEMPLATE_LENGTH, template_pattern
from campaigns.recipients.groups import (
    MAX_HOLDOUT_PERCENT,
    MAX_VARIANTS,
    MIN_VARIANTS,
    variant_problems,
)
from campaigns.rule_shape import is_rule_shaped
from shared.openapi import PageQuerySchema
from shared.times import UtcDateTime

MAX_PREVIEW_RECIPIENTS = 20
TEMPLATE_PATTERN = template_pattern()
MAX_SCHEDULE_DAYS = 90
ASSIGNMENT_KEY_PATTERN = r"^[0-9a-f]{32}$"  # recipients/assignment.py: seeds the groups

MESSAGE_DESCRIPTION = (
    "The message template: profile fields in braces with an optional fallback after a bar, "
    "e.g. \"Hi {first_name|there}, here's 10% off!\". Fields: external_id, name, first_name, "
    "email, phone, city, tags, visits, total_spend, order_count, last_order_at, "
    "last_visit_at, last_active_at, signed_up_at. Write {{ and }} for literal braces. "
    "An unknown placeholder is a 400 INVALID_TEMPLATE.")


class VariantSchema(Schema):
    class Meta:
        unknown = RAISE

    # Letters, digits, space, _ and -: a name is a key of stored documents (no dots, no $).
    name = fields.String(required=True, validate=[
        validate.Length(min=1, max=40), validate.Regexp(r"^[A-Za-z0-9][A-Za-z0-9 _-]*$")],
        metadata={"example": "B"})
    message = fields.String(required=True,
                            validate=validate.Length(min=1, max=MAX_TEMPLATE_LENGTH),
                            metadata={"pattern": TEMPLATE_PATTERN,
                                      "description": MESSAGE_DESCRIPTION})
    weight = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=99),
                            metadata={"description": "Share of the messaged customers, in "
                                                     "percent; the weights sum to 100."})


def _rule_shaped(rules: dict) -> None:
    if not is_rule_shaped(rules):
        raise ValidationError("must be shaped as audience rules: {\"all\": [...]}, "
                              "{\"any\": [...]}, {\"not\": ...} or {\"field\", \"op\", "
                              "\"value\"}, at most 8 levels")


class SendAt(fields.AwareDateTime):
    """A launch time: ISO-8601 (a time without an offset counts as UTC), in the future
    and at most MAX_SCHEDULE_DAYS ahead."""

    def __init__(self, **kwargs):
        metadata = {"description": "Launch at this time instead of now (status `scheduled`): "
                                   f"in the future, at most {MAX_SCHEDULE_DAYS} days ahead.",
                    **kwargs.pop("metadata", {})}
        kwargs.setdefault("load_default", None)
        super().__init__(format="iso", default_timezone=UTC, allow_none=True,
                         metadata=metadata, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs).astimezone(UTC)
        now = datetime.now(UTC)
        if moment <= now:
            raise ValidationError("must be in the future")
        if moment > now + timedelta(days=MAX_SCHEDULE_DAYS):
            raise ValidationError(f"must be at most {MAX_SCHEDULE_DAYS} days ahead")
        return moment


class NewCampaignSchema(Schema):
    class Meta:
        unknown = RAISE

    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    segment_id = fields.String(load_default=None, allow_none=True,
                               metadata={"description": "A saved segment (or give `rules`)."})
    rules = fields.Dict(load_default=None, allow_none=True, validate=_rule_shaped,
                        metadata={"description": "Inline audience rules (API.md, Audience "
                                                 "rules), instead of `segment_id`.",
                                  # segments' grammar, which create checks (rules_check)
                                  **rules_check.spec_rules()})
    message = fields.String(load_default=None,
                            validate=validate.Length(min=1, max=MAX_TEMPLATE_LENGTH),
                            metadata={"pattern": TEMPLATE_PATTERN,
                                      "description": MESSAGE_DESCRIPTION + " Or give `variants`.",
                                      "example": "Hi {first_name|there}, here's 10% off!"})
    variants = fields.List(fields.Nested(VariantSchema), load_default=None,
                           validate=validate.Length(min=MIN_VARIANTS, max=MAX_VARIANTS),
                           metadata={"description": "Instead of `message`: 2 to 4 messages, "
                                                    "each sent to `weight` percent of the "
                                                    "messaged customers (weights sum to 100)."})
    holdout_percent = fields.Float(load_default=0.0,
                                   validate=validate.Range(min=0, max=MAX_HOLDOUT_PERCENT),
                                   metadata={"description": "Percent of the audience held out: "
                                                            "recorded, never messaged, compared "
                                                            "with in the results (0 to 50)."})
    send_rate = fields.Float(load_default=None, allow_none=True,
                             validate=validate.Range(min=0, max=100_000),
                             metadata={"description": "Messages per second per sender "
                                                      "process (0 or absent: the default)."})
    ignore_frequency_cap = fields.Boolean(load_default=False, metadata={
        "description": "Send to customers at the frequency cap too (their messages still count)."})
    draft = fields.Boolean(load_default=False, metadata={
        "description": "Save it as a draft (status `draft`): nothing is sent until "
                       "POST .../launch."})
    send_at = SendAt()
    assignment_key = fields.String(load_default=None, validate=validate.Regexp(
        ASSIGNMENT_KEY_PATTERN), metadata={"pattern": ASSIGNMENT_KEY_PATTERN, "description":
        "The `assignment_key` a POST /api/v1/campaigns/preflight answered: the campaign then "
        "holds out and splits exactly the customers that preflight counted. Absent: its id."})

    @validates_schema
    def _draft_or_schedule(self, data: dict, **_kwargs) -> None:
        if data.get("draft") and data.get("send_at") is not None:
            raise ValidationError("give draft or send_at, not both", "_schema")

    @validates("name")
    def _not_blank(self, value: str, **_kwargs) -> None:
        if not value.strip():
            raise ValidationError("must not be blank")

    @validates_schema
    def _one_audience(self, data: dict, **_kwargs) -> None:
        if (data.get("segment_id") is None) == (data.get("rules") is None):
            raise ValidationError("give exactly one of segment_id and rules", "_schema")

    @validates_schema
    def _one_message(self, data: dict, **_kwargs) -> None:
        if (data.get("message") is None) == (data.get("variants") is None):
            raise ValidationError("give exactly one of message and variants", "_schema")
        problems = variant_problems(data["variants"]) if data.get("variants") else {}
        if problems:
            raise ValidationError(problems, "variants")


def new_campaign_body() -> dict:
    """The create body's JSON Schema: NewCampaignSchema and, as `_one_audience` checks,
    exactly one of segment_id and rules given and not null (and not a draft with a
    send_at, as `_draft_or_schedule` checks)."""
    return {"allOf": [NewCampaignSchema, {"oneOf": [
        {"required": ["segment_id"], "properties": {"segment_id": {"type": "string"}}},
        {"required": ["rules"], "properties": {"rules": {"type": "object"}}},
    ]}, {"oneOf": [
        {"required": ["message"], "properties": {"message": {"type": "string"}}},
        {"required": ["variants"], "properties": {"variants": {"type": "array"}}},
    ]}, {"not": {"required": ["draft", "send_at"],
                 "properties": {"draft": {"const": True}, "send_at": {"type": "string"}}}}]}


class MessagePreviewSchema(Schema):
    class Meta:
        unknown = RAISE

    message = fields.String(required=True,
                            validate=validate.Length(min=1, max=MAX_TEMPLATE_LENGTH),
                            metadata={"pattern": TEMPLATE_PATTERN,
                                      "description": MESSAGE_DESCRIPTION})
    recipients = fields.List(fields.Dict(), load_default=list,
                             validate=validate.Length(max=MAX_PREVIEW_RECIPIENTS),
                             metadata={"description": "Customers to render the message for, "
                                                      "as profiles (e.g. a segment preview's "
                                                      "sample); at most 20."})


class RenderedMessageSchema(Schema):
    external_id = fields.String(allow_none=True)
    text = fields.String()


class ExcludedSchema(Schema):
    unsubscribed = fields.Integer(metadata={"description": "marketing_consent unsubscribed"})
    suppressed = fields.Integer(metadata={"description": "on the suppression list"})
    capped = fields.Integer(metadata={"description": "at the frequency cap"})
    held_out = fields.Integer(metadata={"description": "in the holdout group"})


class StatsSchema(Schema):
    audience_size = fields.Integer()
    sent = fields.Integer()
    failed = fields.Integer()
    pending = fields.Integer()
    matched = fields.Integer(metadata={"description": "The rules' count at launch (so far, "
                                                      "while the audience arrives)"})
    excluded = fields.Nested(ExcludedSchema, metadata={
        "description": "Customers matched but not messaged, by cause (each counted once, for "
                       "the first cause in this order); audience_size = matched minus every "
                       "exclusion"})


class LintEntrySchema(Schema):
    placeholder = fields.String()
    field = fields.String()
    fallback = fields.String(allow_none=True)
    fallback_used = fields.Integer(metadata={"description": "Recipients given the fallback."})
    empty = fields.Integer(metadata={"description": "Recipients with an empty value."})


class LintSchema(Schema):
    recipients = fields.Integer()
    placeholders = fields.List(fields.Nested(LintEntrySchema))


class CampaignSchema(Schema):
    id = fields.String()
    name = fields.String()
    status = fields.String(metadata={"description": "draft, scheduled, launching, sending, "
                                                    "paused, completed, cancelled or failed"})
    control = fields.String(metadata={"description": "active, paused or cancelled: whether its "
                                                     "messages may be sent (pause, resume, "
                                                     "cancel change it)"})
    control_changed_at = UtcDateTime(allow_none=True, metadata={
        "description": "When control last changed (null: never)"})
    actions = fields.List(fields.String(), metadata={
        "description": "What POST .../pause, .../resume, .../cancel accept now "
                       "(a subset of pause, resume, cancel)"})
    message = fields.String(allow_none=True, metadata={"description": "null with variants"})
    variants = fields.List(fields.Nested(VariantSchema), allow_none=True)
    holdout_percent = fields.Float()
    rules = fields.Dict(allow_none=True)
    segment_id = fields.String(allow_none=True)
    send_rate = fields.Float(allow_none=True)
    ignore_frequency_cap = fields.Boolean()
    attempt = fields.Integer(metadata={"description": "1, plus one per retry-failed"})
    created_at = UtcDateTime()
    send_at = UtcDateTime(allow_none=True, metadata={
        "description": "When a scheduled campaign launches (null: not scheduled)"})
    launched_at = UtcDateTime(allow_none=True, metadata={
        "description": "When a draft or scheduled campaign was launched (null: at creation, "
                       "or not yet)"})
    stats = fields.Nested(StatsSchema)
    lint = fields.Nested(LintSchema, allow_none=True,
                         metadata={"description": "null until the audience has arrived"})
    error = fields.Dict(allow_none=True)


class MessagesQuerySchema(PageQuerySchema):
    cursor = fields.String(load_default=None, allow_none=True, metadata={
        "description": "The previous page's `next_cursor` (empty: the first page). A cursor "
                       "of a listing with another `status` starts at the same place in this "
                       "one's order.",
        "pattern": CURSOR_PATTERN})
    status = fields.String(load_default=None, validate=validate.OneOf(
        ["SENT", "FAILED", "PENDING"]))


class MessageEntrySchema(Schema):
    customer_external_id = fields.String()
    message_id = fields.String()
    attempt = fields.Integer()
    to = fields.String(allow_none=True)
    text = fields.String()
    variant = fields.String(metadata={"description": "The variant the customer got "
                                                     "(`default` without variants)"})
    status = fields.String()
    reason = fields.String(allow_none=True, metadata={
        "description": "The vendor's reason for a FAILED message (INVALID_NUMBER is permanent: "
                       "the customer is suppressed)", "example": "INVALID_NUMBER"})
    queued_at = UtcDateTime()
    reported_at = UtcDateTime(allow_none=True)
    unsubscribed_at = fields.DateTime(allow_none=True, metadata={
        "description": "When the customer used this message's unsubscribe link"})


class RetryAttemptSchema(Schema):
    campaign_id = fields.String()
    attempt = fields.Integer()
    failed_to_retry = fields.Integer()


class MessagePreviewResultSchema(Schema):
    messages = fields.List(fields.Nested(RenderedMessageSchema))
    lint = fields.Nested(LintSchema)
