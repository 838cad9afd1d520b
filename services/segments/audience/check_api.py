"""`POST /internal/v1/segments/audience-check`: the counts of a campaign's preflight
(audience/check.py). Internal: campaigns calls it at its segments URL; it is
under /internal/, which the gateway never routes (it proxies /api/v1 only), so
member ids (with_ids) do not reach API keys."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify
from marshmallow import RAISE, Schema, fields, validate

from segments.audience.check import NEVER_EMPTY, check
from segments.audience.columns import SHOWN_ONLY
from segments.audience.preview import IndexNotReady, ready_index
from segments.rules.language import FIELDS
from segments.rules.schema import DESCRIPTION as RULES_DESCRIPTION
from segments.rules.schema import rule_components, rule_ref
from segments.saved.schemas import load_with_rules
from shared.http import error_response
from shared.openapi import Operation
from shared.times import UtcDateTime, iso_utc

# The template fields (campaigns.domain.TEMPLATE_FIELDS) the index can tell empty.
CHECKED_FIELDS = sorted({*FIELDS, *SHOWN_ONLY, "visits", "order_count", "first_name",
                         *NEVER_EMPTY} - {"marketing_consent", "suppressed",
                                          "suppression_reason", "suppression_campaign_id"})


class AudienceCheckRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    rules = fields.Raw(required=True, metadata={"allOf": [rule_ref()],
                                                "description": RULES_DESCRIPTION})
    template_fields = fields.List(
        fields.String(validate=validate.OneOf(CHECKED_FIELDS)), data_key="fields",
        load_default=list, validate=validate.Length(max=50),
        metadata={"description": "Template fields to count empty ones of."})
    with_ids = fields.Boolean(load_default=False, metadata={
        "description": "Also answer eligible_ids and empty_ids (campaigns' cap and holdout)."})


class AudienceCheckSchema(Schema):
    matched = fields.Integer(required=True)
    excluded = fields.Dict(required=True, metadata={
        "description": "unsubscribed, then suppressed among the rest (launch order)."})
    eligible = fields.Integer(required=True, metadata={"description": "matched - excluded"})
    empty = fields.Dict(required=True, metadata={
        "description": "Per field, how many eligible members have it empty."})
    eligible_ids = fields.List(fields.String(), metadata={"description": "With with_ids."})
    empty_ids = fields.Dict(metadata={"description": "With with_ids: per field, the ids."})
    evaluated_at = UtcDateTime(required=True)


OPERATIONS = [
    Operation("/internal/v1/segments/audience-check", "post",
              "Count an audience's exclusions and empty template fields (preflight)",
              tags=("segments",), request_schema=AudienceCheckRequestSchema,
              response_schema=AudienceCheckSchema, components=rule_components(),
              description="Internal: campaigns' preflight calls it; the gateway does not "
                          "route /internal/. "
                          "Counted over the audience index now, in the launch's order.",
              statuses={200: "The counts", 400: "Invalid rules or fields (INVALID_RULES, "
                                                "INVALID_REQUEST)",
                        503: "The index is loading (INDEX_LOADING)"}),
]

audience_check = Blueprint("audience_check", __name__)


@audience_check.errorhandler(IndexNotReady)
def _index_not_ready(error: IndexNotReady):
    return error_response(503, "INDEX_LOADING", str(error), error.status)


@audience_check.post("/internal/v1/segments/audience-check")
def check_audience():
    body, rule = load_with_rules(AudienceCheckRequestSchema())
    index = ready_index(current_app.extensions["segments.audience"])
    now = current_app.extensions.get("segments.clock", lambda: datetime.now(UTC))()
    answer = check(index, rule, now, body["template_fields"], body["with_ids"])
    return jsonify({**answer, "evaluated_at": iso_utc(now)})
