"""A saved segment's size over time: `GET /api/v1/segments/<id>/history` (its
sizes, oldest first: one a day and any taken on demand) and
`POST /api/v1/segments/<id>/history` (take one now). See history.py."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify
from marshmallow import Schema, fields, validate

from segments.audience.preview import IndexNotReady, ready_index
from segments.rules.language import parse_rules
from segments.saved.history import DAILY, MAX_SIZES_SHOWN, ON_DEMAND, SizeHistory
from shared.http import ApiError, error_response
from shared.openapi import Operation
from shared.times import UtcDateTime


class SizeSchema(Schema):
    at = UtcDateTime(required=True, metadata={"description": "When it was counted."})
    count = fields.Integer(required=True, metadata={"example": 1520})
    kind = fields.String(required=True, validate=validate.OneOf([DAILY, ON_DEMAND]),
                         metadata={"description": "`daily` (the day's size, once a day) or "
                                                  "`on_demand` (POST .../history)."})


class HistorySchema(Schema):
    segment_id = fields.String(required=True)
    items = fields.List(fields.Nested(SizeSchema), required=True, metadata={
        "description": f"Oldest first; the latest {MAX_SIZES_SHOWN}."})


_ONE = "/api/v1/segments/{segment_id}/history"
OPERATIONS = [
    Operation(_ONE, "get", "A saved segment's size over time", tags=("segments",),
              response_schema=HistorySchema,
              description="One size a day (counted by the segments API once a day for every "
                          "saved segment) and every size taken on demand, oldest first.",
              statuses={200: "The sizes", 404: "No such segment (SEGMENT_NOT_FOUND)"}),
    Operation(_ONE, "post", "Take a saved segment's size now", tags=("segments",),
              response_schema=SizeSchema,
              description="Counts the segment's rules now and adds the size to its history.",
              statuses={201: "The size taken", 404: "No such segment (SEGMENT_NOT_FOUND)",
                        503: "The audience index is still loading (INDEX_LOADING)"}),
]

sizes = Blueprint("segment_sizes", __name__)


@sizes.errorhandler(IndexNotReady)
def _index_not_ready(error: IndexNotReady):
    return error_response(503, "INDEX_LOADING", str(error), error.status)


def _database():
    return current_app.extensions["segments.database"]


def _segment(segment_id: str) -> dict:
    segment = _database().segments().find(segment_id)
    if segment is None:
        raise ApiError(404, "SEGMENT_NOT_FOUND", "No segment has this id.",
                       {"segment_id": segment_id})
    return segment


@sizes.get("/api/v1/segments/<segment_id>/history")
def size_history(segment_id: str):
    _segment(segment_id)
    items = SizeHistory(_database().database()).of(segment_id)
    return jsonify(HistorySchema().dump({"segment_id": segment_id, "items": items}))


@sizes.post("/api/v1/segments/<segment_id>/history")
def take_size(segment_id: str):
    segment = _segment(segment_id)
    now = current_app.extensions.get("segments.clock", lambda: datetime.now(UTC))()
    count = ready_index(current_app.extensions["segments.audience"]).count(
        parse_rules(segment["rules"]), now)
    size = SizeHistory(_database().database()).record(segment_id, now, count, ON_DEMAND)
    if size is None:  # the same microsecond twice: that size is already there
        size = {"at": now, "count": count, "kind": ON_DEMAND}
    return jsonify(SizeSchema().dump(size)), 201
