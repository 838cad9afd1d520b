"""Routes: `POST /api/v1/customers` and `POST /api/v1/orders` (API.md, Ingestion).

A body is one record (an object) or `{"records": [...]}`. Every record is
validated on its own; the answer is 202 when at least one was accepted and
422 (API.md error format, the same rejections in `details.rejected`) when
none was.
"""
from __future__ import annotations

import logging

from flask import Blueprint, current_app, g, jsonify

from ingest import handlers
from ingest.schemas import (
    CustomerBatchSchema,
    CustomerRecordSchema,
    IngestResultSchema,
    OrderBatchSchema,
    OrderRecordSchema,
    load_each,
)
from shared.http import ApiError, json_body
from shared.logs import log_context
from shared.openapi import Operation

log = logging.getLogger(__name__)
blueprint = Blueprint("ingest_api", __name__, url_prefix="/api/v1")
_result_schema = IngestResultSchema()


@blueprint.post("/customers")
def post_customers():
    return _ingest("customers", handlers.ingest_customers)


@blueprint.post("/orders")
def post_orders():
    return _ingest("orders", handlers.ingest_orders)


def _ingest(kind: str, handler):
    context = current_app.extensions["ingest"]
    records = _records(json_body(), context.config.max_records)
    valid, rejected = load_each(context.schemas[kind], records)
    outcome = handlers.Outcome()
    if valid:
        outcome = handler(valid, store=context.dependencies.store,
                          event_log=context.dependencies.event_log,
                          correlation_id=g.correlation_id)
    rejected = sorted(rejected + outcome.rejected, key=lambda rejection: rejection["index"])
    with log_context(correlation_id=g.correlation_id):
        log.info("%s ingested", kind,
                 extra={"accepted": outcome.accepted, "rejected": len(rejected)})
    if not outcome.accepted:
        raise ApiError(422, "NO_RECORD_ACCEPTED", "No record was accepted; see details.rejected.",
                       {"rejected": rejected})
    return jsonify(_result_schema.dump({"accepted": outcome.accepted, "rejected": rejected})), 202


def _records(body, max_records: int) -> list:
    if not isinstance(body, dict):
        raise ApiError(400, "INVALID_BODY",
                       'The body must be one record (an object) or {"records": [...]}.')
    if "records" not in body:
        return [body]
    records = body["records"]
    if not isinstance(records, list):
        raise ApiError(400, "INVALID_BODY", "`records` must be a list of records.")
    if not records:
        raise ApiError(400, "EMPTY_BATCH", "`records` must hold at least one record.")
    if len(records) > max_records:
        raise ApiError(413, "BATCH_TOO_LARGE",
                       f"A batch holds at most {max_records} records; split it.",
                       {"max_records": max_records, "received": len(records)})
    return records


_STATUSES = {
    202: "Accepted records are durably logged; their events follow asynchronously.",
    400: "Malformed body, or `records` not a non-empty list.",
    413: "More records (or bytes) than one batch may hold.",
    422: "No record was accepted; `details.rejected` says why for each.",
    503: "The database is not reachable.",
}

OPERATIONS = [
    Operation("/api/v1/customers", "post", "Add or update customers",
              request_schema={"oneOf": [CustomerRecordSchema, CustomerBatchSchema]},
              response_schema=IngestResultSchema, statuses=_STATUSES, tags=("ingest",),
              description="One customer, or up to 1,000 as `records`. Re-sending a customer "
                          "(same `external_id`) updates it; within one batch the last wins."),
    Operation("/api/v1/orders", "post", "Add orders",
              request_schema={"oneOf": [OrderRecordSchema, OrderBatchSchema]},
              response_schema=IngestResultSchema, statuses=_STATUSES, tags=("ingest",),
              description="One order, or up to 1,000 as `records`, each of a customer accepted "
                          "earlier. Re-sending an order (same `external_id`) changes nothing "
                          "and still counts as accepted; within one batch the first wins."),
]
