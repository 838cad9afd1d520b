"""Why a customer is in an audience: `GET /api/v1/segments/<id>/explain/<external_id>`
for a saved segment, `POST /api/v1/segments/explain {"rules", "external_id"}` for
rules being built. Every node answers `matched`; every condition also the
customer's value (membership.py). Read from the customer's stored profile, at
the same `now` a preview would use."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify
from marshmallow import RAISE, Schema, fields, validate

from segments.audience.membership import explain
from segments.projection.order_fold import window_orders
from segments.projection.profiles import BOOKKEEPING
from segments.rules.language import parse_rules
from segments.rules.schema import DESCRIPTION as RULES_DESCRIPTION
from segments.rules.schema import rule_components, rule_ref
from segments.saved.schemas import load_with_rules
from shared.http import ApiError
from shared.openapi import Operation
from shared.times import UtcDateTime, iso_utc

_NODE_DESCRIPTION = (
    "The rule as saved or sent, each group and condition with `matched` (true or false "
    "for this customer) and each condition with `customer_value` (the profile's value, as "
    "GET /api/v1/customers/<external_id> shows it; null when the customer has none; for an "
    "order window (`in_last`) the spend or number of orders in that window, 0 without any).")


class ExplainRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    rules = fields.Raw(required=True, metadata={"allOf": [rule_ref()],
                                                "description": RULES_DESCRIPTION})
    external_id = fields.String(required=True, validate=validate.Length(min=1, max=200),
                                metadata={"example": "cust-1001"})


class ExplanationSchema(Schema):
    external_id = fields.String(required=True)
    segment_id = fields.String(metadata={"description": "Only for a saved segment."})
    matched = fields.Boolean(required=True, metadata={"description": "In the audience now."})
    rules = fields.Dict(required=True, metadata={"description": _NODE_DESCRIPTION, "example": {
        "all": [{"field": "total_spend", "op": "gt", "value": 10000, "matched": True,
                 "customer_value": 12500.0},
                {"field": "visits", "op": "lte", "value": 3, "matched": False,
                 "customer_value": 7}], "matched": False}})
    evaluated_at = UtcDateTime(required=True, metadata={
        "description": "The `now` of relative rules (older_than, within)."})


_TAGS = ("segments",)
_FOUND = {200: "Every node with matched, every condition with the customer's value"}
OPERATIONS = [
    Operation("/api/v1/segments/{segment_id}/explain/{external_id}", "get",
              "Why a customer is in a saved segment, or not", tags=_TAGS,
              response_schema=ExplanationSchema,
              description="Evaluated now on the customer's profile with the audience "
                          "index's semantics. Needs scope customers:read: it shows the "
                          "customer's values.",
              statuses={**_FOUND, 404: "No such segment (SEGMENT_NOT_FOUND) or customer "
                                       "(CUSTOMER_NOT_FOUND)"}),
    Operation("/api/v1/segments/explain", "post", "Why a customer matches rules, or not",
              tags=_TAGS, request_schema=ExplainRequestSchema, response_schema=ExplanationSchema,
              components=rule_components(),
              description="As the GET for a saved segment, for rules not saved (the builder). "
                          "Needs scope customers:read.",
              statuses={**_FOUND, 400: "Malformed body or invalid rules (INVALID_RULES)",
                        404: "No such customer (CUSTOMER_NOT_FOUND)"}),
]

membership = Blueprint("audience_membership", __name__)


@membership.get("/api/v1/segments/<segment_id>/explain/<external_id>")
def explain_saved(segment_id: str, external_id: str):
    segment = current_app.extensions["segments.database"].segments().find(segment_id)
    if segment is None:
        raise ApiError(404, "SEGMENT_NOT_FOUND", "No segment has this id.",
                       {"segment_id": segment_id})
    return _explained(parse_rules(segment["rules"]), external_id, {"segment_id": segment_id})


@membership.post("/api/v1/segments/explain")
def explain_rules():
    body, rule = load_with_rules(ExplainRequestSchema())
    return _explained(rule, body["external_id"], {})


def _explained(rule, external_id: str, extra: dict):
    profile = current_app.extensions["segments.database"].profiles().shown(external_id)
    if profile is None:
        raise ApiError(404, "CUSTOMER_NOT_FOUND", "No customer has this external_id (yet).",
                       {"external_id": external_id})
    now = current_app.extensions.get("segments.clock", lambda: datetime.now(UTC))()
    profile = {**profile, "orders": window_orders(profile[BOOKKEEPING])}
    tree = explain(rule, profile, now)
    return jsonify({"external_id": external_id, **extra, "matched": tree["matched"],
                    "rules": tree, "evaluated_at": iso_utc(now)})
