"""Audience preview and saved segment routes (`/api/v1/segments...`)."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify, request
from marshmallow import ValidationError

from segments.audience.preview import IndexNotReady, preview
from segments.customers.schemas import decode_cursor, encode_cursor
from segments.rules.language import RuleError, parse_rules
from segments.rules.schema import rule_components
from segments.saved.handlers import (
    SegmentNotFound,
    delete_segment,
    get_segment,
    list_segments,
    rename_segment,
    save_segment,
)
from segments.saved.schemas import (
    NewSegmentSchema,
    PreviewRequestSchema,
    PreviewSchema,
    RenameSegmentSchema,
    SegmentDetailSchema,
    SegmentPageQuerySchema,
    SegmentSchema,
    flat_errors,
    new_segment_schema,
    preview_request_schema,
    preview_schema,
    rename_segment_schema,
    segment_detail_schema,
    segment_page_query_schema,
    segment_schema,
)
from shared.http import ApiError, error_response, json_body
from shared.openapi import Operation, page_schema

segments = Blueprint("segments", __name__)

_ONE = "/api/v1/segments/{segment_id}"
_TAGS = ("segments",)
OPERATIONS = [
    Operation("/api/v1/segments/preview", "post", "Preview an audience", tags=_TAGS,
              request_schema=PreviewRequestSchema, response_schema=PreviewSchema,
              components=rule_components(),
              description="How many customers match the rules now, up to 10 of them, and "
                          "how each top-level condition narrows the count. Instant at any "
                          "size: counted on the service's in-memory audience index.",
              statuses={200: "The audience size, sample and breakdown",
                        400: "Malformed body or invalid rules (details name each path)",
                        503: "The audience index is still loading (INDEX_LOADING)"}),
    Operation("/api/v1/segments", "post", "Save a segment", tags=_TAGS,
              request_schema=NewSegmentSchema, response_schema=SegmentSchema,
              components=rule_components(),
              description="Saves the rules (in canonical form) and the audience size now. "
                          "Names need not be unique.",
              statuses={201: "The saved segment", 400: "Bad name or rules",
                        503: "The audience index is still loading (INDEX_LOADING)"}),
    Operation("/api/v1/segments", "get", "List segments, newest first", tags=_TAGS,
              query_schema=SegmentPageQuerySchema, response_schema=page_schema(SegmentSchema),
              description="Follow `next_cursor` until it is null.",
              statuses={200: "One page of segments", 400: "Bad limit or cursor"}),
    Operation(_ONE, "get", "One segment", tags=_TAGS, response_schema=SegmentDetailSchema,
              description="The saved segment plus `current_count`, its audience size now.",
              statuses={200: "The segment", 404: "No such segment"}),
    Operation(_ONE, "patch", "Rename a segment", tags=_TAGS, request_schema=RenameSegmentSchema,
              response_schema=SegmentSchema,
              statuses={200: "The renamed segment", 400: "Bad name", 404: "No such segment"}),
    Operation(_ONE, "delete", "Delete a segment", tags=_TAGS,
              statuses={204: "Deleted", 404: "No such segment"}),
]


def _database():
    return current_app.extensions["segments.database"]


def _audience():
    return current_app.extensions["segments.audience"]


def _now() -> datetime:
    return current_app.extensions.get("segments.clock", lambda: datetime.now(UTC))()


@segments.errorhandler(IndexNotReady)
def _index_not_ready(error: IndexNotReady):
    return error_response(503, "INDEX_LOADING", str(error), error.status)


@segments.errorhandler(SegmentNotFound)
def _segment_not_found(error: SegmentNotFound):
    return error_response(404, "SEGMENT_NOT_FOUND", "No segment has this id.",
                          {"segment_id": str(error)})


def _load_body(schema) -> tuple[dict, object]:
    """The body loaded by `schema` and its parsed rules (None when it has none), or a
    400 naming every problem: INVALID_RULES when the rules are among them."""
    raw = json_body()
    if not isinstance(raw, dict):
        raise ApiError(400, "INVALID_REQUEST", "The request body must be a JSON object.")
    problems: dict[str, str] = {}
    body: dict = {}
    try:
        body = schema.load(raw)
    except ValidationError as error:
        problems = flat_errors(error.messages)
    rule = None
    if "rules" in schema.fields and raw.get("rules") is not None:
        try:
            rule = parse_rules(raw["rules"])
        except RuleError as error:
            problems.update(error.details)
    if problems:
        if any(path == "rules" or path.startswith("rules.") for path in problems):
            raise ApiError(400, "INVALID_RULES", "The audience rules are not valid.", problems)
        raise ApiError(400, "INVALID_REQUEST", "The request body is not valid.", problems)
    return body, rule


@segments.post("/api/v1/segments/preview")
def preview_audience():
    _body, rule = _load_body(preview_request_schema)
    result = preview(rule, _now(), audience=_audience(), profiles=_database().profiles())
    return jsonify(preview_schema.dump(result))


@segments.post("/api/v1/segments")
def create_segment():
    body, rule = _load_body(new_segment_schema)
    segment = save_segment(body["name"].strip(), rule, _now(), audience=_audience(),
                           segments=_database().segments())
    return jsonify(segment_schema.dump(segment)), 201


@segments.get("/api/v1/segments")
def list_saved_segments():
    try:
        query = segment_page_query_schema.load(request.args)
    except ValidationError as error:
        raise ApiError(400, "INVALID_QUERY", "The query parameters are not valid.",
                       flat_errors(error.messages)) from error
    items, last = list_segments(query["limit"], decode_cursor(query["cursor"]),
                                segments=_database().segments())
    return jsonify({"items": segment_schema.dump(items, many=True),
                    "next_cursor": encode_cursor(last) if last is not None else None})


@segments.get("/api/v1/segments/<segment_id>")
def get_one_segment(segment_id: str):
    segment = get_segment(segment_id, _now(), audience=_audience(),
                          segments=_database().segments(), parse=parse_rules)
    return jsonify(segment_detail_schema.dump(segment))


@segments.patch("/api/v1/segments/<segment_id>")
def rename_one_segment(segment_id: str):
    body, _rule = _load_body(rename_segment_schema)
    segment = rename_segment(segment_id, body["name"].strip(), _now(),
                             segments=_database().segments())
    return jsonify(segment_schema.dump(segment))


@segments.delete("/api/v1/segments/<segment_id>")
def delete_one_segment(segment_id: str):
    delete_segment(segment_id, segments=_database().segments())
    return "", 204
