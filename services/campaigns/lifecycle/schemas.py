"""What PATCH, launch and test-send of a campaign accept and answer (and their spec)."""
from __future__ import annotations

from marshmallow import RAISE, Schema, ValidationError, fields, missing, validate, validates_schema

from campaigns import rules_check
from campaigns.domain import MAX_TEMPLATE_LENGTH
from campaigns.recipients.groups import (
    MAX_HOLDOUT_PERCENT,
    MAX_VARIANTS,
    MIN_VARIANTS,
    variant_problems,
)
from campaigns.schemas import SendAt, VariantSchema, _rule_shaped

MAX_TEST_RECIPIENTS = 10


class EditCampaignSchema(Schema):
    """The create body's editable fields, each optional: what is omitted is kept."""

    class Meta:
        unknown = RAISE

    name = fields.String(validate=validate.Length(min=1, max=200))
    segment_id = fields.String(metadata={"description": "A saved segment instead of the "
                                                        "audience so far"})
    rules = fields.Dict(validate=_rule_shaped,
                        metadata={"description": "Inline audience rules instead of the "
                                                 "audience so far",
                                  **rules_check.spec_rules()})
    message = fields.String(validate=validate.Length(min=1, max=MAX_TEMPLATE_LENGTH),
                            metadata={"description": "Instead of the message or variants"})
    variants = fields.List(fields.Nested(VariantSchema),
                           validate=validate.Length(min=MIN_VARIANTS, max=MAX_VARIANTS))
    holdout_percent = fields.Float(validate=validate.Range(min=0, max=MAX_HOLDOUT_PERCENT))
    send_at = SendAt(load_default=missing, metadata={
        "description": "A new launch time (status `scheduled`); null makes it a draft again"})

    @validates_schema
    def _one_of_each(self, data: dict, **_kwargs) -> None:
        if not data:
            raise ValidationError("give at least one field to change", "_schema")
        if "segment_id" in data and "rules" in data:
            raise ValidationError("give segment_id or rules, not both", "_schema")
        if "message" in data and "variants" in data:
            raise ValidationError("give message or variants, not both", "_schema")
        problems = variant_problems(data["variants"]) if data.get("variants") else {}
        if problems:
            raise ValidationError(problems, "variants")


def edit_campaign_body() -> dict:
    """The PATCH body's JSON Schema: EditCampaignSchema with what `_one_of_each` checks."""
    return {"allOf": [EditCampaignSchema, {"minProperties": 1},
                      {"not": {"required": ["segment_id", "rules"]}},
                      {"not": {"required": ["message", "variants"]}}]}


class TestSendSchema(Schema):
    class Meta:
        unknown = RAISE

    to = fields.List(fields.String(validate=validate.Length(min=1, max=200)), required=True,
                     validate=validate.Length(min=1, max=MAX_TEST_RECIPIENTS),
                     metadata={"description": "External ids of customers whose profile "
                                              f"renders the message (1 to {MAX_TEST_RECIPIENTS})"})


class TestMessageSchema(Schema):
    customer_external_id = fields.String()
    to = fields.String(allow_none=True)
    variant = fields.String()
    text = fields.String()
    message_id = fields.String(metadata={"description": "The test message's id at the vendor"})


class TestSendResultSchema(Schema):
    campaign_id = fields.String()
    messages = fields.List(fields.Nested(TestMessageSchema))
    not_found = fields.List(fields.String(), metadata={
        "description": "Given external ids that match no customer (nothing sent to them)"})
