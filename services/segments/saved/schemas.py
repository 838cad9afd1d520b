"""What the segment endpoints accept and send (also the source of their OpenAPI spec).

Bodies are checked in two steps: the body's shape here (marshmallow), then
`rules` by rules.parse_rules. Both report problems as `{path: message}` so a
400 always names what to fix (`name`, `rules.all[1].op`).
"""
from __future__ import annotations

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError, fields, validate, validates

from segments.customers.schemas import CURSOR_PATTERN, CustomerProfileSchema, cursor_field
from segments.rules.language import Rule, RuleError, parse_rules
from segments.rules.schema import DESCRIPTION as RULES_DESCRIPTION
from segments.rules.schema import rule_ref
from shared.http import ApiError, json_body
from shared.openapi import PageQuerySchema
from shared.times import UtcDateTime

MAX_NAME_LENGTH = 200

RULE_EXAMPLE = {"all": [{"field": "total_spend", "op": "gt", "value": 10000},
                        {"field": "visits", "op": "lte", "value": 3}]}


def _rules_field(**options) -> fields.Raw:
    return fields.Raw(metadata={"allOf": [rule_ref()], "description": RULES_DESCRIPTION,
                                "example": RULE_EXAMPLE}, **options)


class _StrictBody(Schema):
    class Meta:
        unknown = RAISE


class PreviewRequestSchema(_StrictBody):
    rules = _rules_field(required=True)


class _NamedBody(_StrictBody):
    name = fields.String(required=True, validate=validate.Length(min=1, max=MAX_NAME_LENGTH),
                         metadata={"description": "1 to 200 characters; need not be unique.",
                                   "example": "Big spenders, few visits"})

    @validates("name")
    def _not_blank(self, value: str, **_kwargs) -> None:
        if not value.strip():
            raise ValidationError("must not be blank")


class NewSegmentSchema(_NamedBody):
    rules = _rules_field(required=True)


class RenameSegmentSchema(_NamedBody):
    """Only the name changes: a segment's rules and saved count are a record of
    what was saved; save a new segment for new rules."""


class BreakdownStepSchema(Schema):
    rule = fields.Dict(metadata={"description": "One top-level part of the rule."})
    count = fields.Integer(metadata={"description": "Customers this part matches on its own."})
    cumulative = fields.Integer(metadata={
        "description": "Customers matching this part and the parts before it, combined as "
                       "the rule combines them (all: and, any: or)."})


class PreviewSchema(Schema):
    count = fields.Integer(required=True, metadata={"example": 1520})
    sample = fields.List(fields.Nested(CustomerProfileSchema), required=True,
                         metadata={"description": "Up to 10 matching customers, spread over "
                                                  "the audience."})
    breakdown = fields.List(fields.Nested(BreakdownStepSchema), required=True)
    evaluated_at = UtcDateTime(required=True, metadata={
        "description": "The `now` of relative rules (older_than, within)."})
    index_size = fields.Integer(required=True, metadata={
        "description": "Customers the count was taken over."})


class SegmentSchema(Schema):
    id = fields.String(attribute="_id", required=True,
                       metadata={"example": "0190f1a2b3c4d5e6f708192a3b4c5d6e"})
    name = fields.String(required=True)
    rules = fields.Dict(required=True, metadata={"description": "The rules, in canonical form."})
    count = fields.Integer(required=True, metadata={"description": "Audience size when saved."})
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)


class SegmentDetailSchema(SegmentSchema):
    current_count = fields.Integer(allow_none=True, metadata={
        "description": "Audience size now (null while the audience index is loading)."})
    evaluated_at = UtcDateTime(allow_none=True)


class SegmentPageQuerySchema(PageQuerySchema):
    class Meta:
        unknown = EXCLUDE

    cursor = cursor_field(CURSOR_PATTERN)


def flat_errors(messages: dict, prefix: str = "") -> dict[str, str]:
    """marshmallow's nested error messages as `{path: first message}`."""
    flat: dict[str, str] = {}
    for key, value in messages.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(value, dict):
            flat.update(flat_errors(value, path))
        else:
            text = value[0] if isinstance(value, list) and value else str(value)
            flat[path] = {"Unknown field.": "unknown key",
                          "Missing data for required field.": "required"}.get(text, text)
    return flat


preview_request_schema = PreviewRequestSchema()
new_segment_schema = NewSegmentSchema()
rename_segment_schema = RenameSegmentSchema()
preview_schema = PreviewSchema()
segment_schema = SegmentSchema()
segment_detail_schema = SegmentDetailSchema()
segment_page_query_schema = SegmentPageQuerySchema()


def load_with_rules(schema: Schema) -> tuple[dict, Rule | None]:
    """The JSON body loaded by `schema` and its parsed `rules` (None when it has none), or
    one 400 naming every problem: INVALID_RULES when the rules are among them."""
    raw = json_body()
    if not isinstance(raw, dict):
        raise ApiError(400, "INVALID_REQUEST", "The request body must be a JSON object.")
    problems, body, rule = {}, {}, None
    try:
        body = schema.load(raw)
    except ValidationError as error:
        problems = flat_errors(error.messages)
    if isinstance(raw.get("rules"), dict):
        try:
            rule = parse_rules(raw["rules"])
        except RuleError as error:
            problems.update(error.details)
    if problems:
        code = "INVALID_RULES" if any(p.startswith("rules") for p in problems) else \
            "INVALID_REQUEST"
        raise ApiError(400, code, "The request body is not valid.", problems)
    return body, rule
