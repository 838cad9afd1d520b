"""`GET /api/v1/suppressions`: the customers the vendor reported permanently unreachable.

Answered from the in-memory audience index (its `suppressed` column and the
suppression fields kept to be shown), so the list is exactly what a launch
leaves out as `suppressed`, a feed's latency behind the profiles. Suppressing
and lifting are events (profiles.py); lifting is `DELETE
/api/v1/suppressions/<id>` on ingest, which logs `customer.suppression_lifted`.
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request
from marshmallow import Schema, fields

from segments.audience.preview import IndexNotReady, ready_index
from segments.customers.schemas import (
    CustomerPageQuerySchema,
    UtcDateTime,
    decode_cursor,
    encode_cursor,
    load_page_query,
)
from shared.http import error_response
from shared.openapi import Operation, page_schema

suppressions = Blueprint("suppressions", __name__)


class SuppressionSchema(Schema):
    customer_external_id = fields.String(required=True, attribute="external_id")
    reason = fields.String(allow_none=True, attribute="suppression_reason", metadata={
        "description": "The vendor's reason for the permanent failure.",
        "example": "INVALID_NUMBER"})
    since = UtcDateTime(allow_none=True, attribute="suppressed_since", metadata={
        "description": "When the vendor reported it."})
    campaign_id = fields.String(allow_none=True, attribute="suppression_campaign_id", metadata={
        "description": "The campaign whose message failed."})


_schema = SuppressionSchema()
OPERATIONS = [
    Operation("/api/v1/suppressions", "get", "List suppressed customers",
              query_schema=CustomerPageQuerySchema, response_schema=page_schema(SuppressionSchema),
              tags=("customers",),
              description="Customers a vendor reported a permanent failure for (INVALID_NUMBER): "
                          "campaigns leave them out (`excluded.suppressed`) until the suppression "
                          "is deleted. In customer_external_id order; follow `next_cursor`.",
              statuses={200: "One page of suppressions", 400: "Bad limit or cursor",
                        503: "The audience index is still loading (INDEX_LOADING)"}),
]


@suppressions.errorhandler(IndexNotReady)
def _index_not_ready(error: IndexNotReady):
    return error_response(503, "INDEX_LOADING", str(error), error.status)


@suppressions.get("/api/v1/suppressions")
def list_suppressions():
    query = load_page_query(request.args)
    index = ready_index(current_app.extensions["segments.audience"])
    page = index.suppressed_page(decode_cursor(query["cursor"]), query["limit"] + 1)
    items = page[:query["limit"]]
    more = len(page) > query["limit"]
    return jsonify({"items": _schema.dump(items, many=True),
                    "next_cursor": encode_cursor(items[-1]["external_id"]) if more else None})
