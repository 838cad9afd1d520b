"""Each service publishes ITS public paths as an OpenAPI 3 document at `GET /openapi.json`.

The gateway fetches these documents, keeps the operations its routing table
sends to that service, and merges them into the one document clients read.
A service describes its routes as a list of `Operation`s built from the same
marshmallow schemas its `api.py` loads and dumps with, so the spec cannot
drift from the code:

    from shared.openapi import Operation, openapi_blueprint, PageQuerySchema, page_schema

    OPERATIONS = [
        Operation("/api/v1/segments", "post", "Save a segment",
                  request_schema=NewSegmentSchema, response_schema=SegmentSchema,
                  statuses={201: "The saved segment", 400: "Bad rules"}),
        Operation("/api/v1/segments", "get", "List segments, newest first",
                  query_schema=PageQuerySchema, response_schema=page_schema(SegmentSchema)),
        Operation("/api/v1/segments/{segment_id}", "get", "One segment",
                  response_schema=SegmentSchema,
                  statuses={200: "The segment", 404: "No such segment"}),
    ]
    app.register_blueprint(openapi_blueprint("Segments", OPERATIONS))

Rules: paths are the public `/api/v1/...` paths with `{name}` placeholders
(each becomes a required string path parameter unless you pass your own in
`parameters`); `statuses` maps status -> description (default `{200: "OK"}`):
the first 2xx gets `response_schema`, every status >= 400 gets the shared
`Error` schema (the API.md error body). Schema components are named after
their classes without the `Schema` suffix; give them names that will not
clash with another service's (the gateway renames a clashing one).
"""
from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Flask, jsonify
from marshmallow import EXCLUDE, Schema, fields, post_load, validate

OPENAPI_VERSION = "3.0.3"
ERROR_COMPONENT = "Error"


class ErrorDetailSchema(Schema):
    code = fields.String(required=True, metadata={"example": "NOT_FOUND"})
    message = fields.String(required=True, metadata={"example": "No segment has this id."})
    details = fields.Dict(required=True)


class ErrorSchema(Schema):
    """Every error response: `{"error": {"code", "message", "details"}}`."""

    error = fields.Nested(ErrorDetailSchema, required=True)


class PageQuerySchema(Schema):
    """The query parameters every list endpoint takes (API.md, Lists). A parameter
    it does not know is ignored, and an empty cursor is the first page."""

    class Meta:
        unknown = EXCLUDE

    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500),
                           metadata={"description": "Items per page (at most 500)."})
    cursor = fields.String(load_default=None, allow_none=True,
                           metadata={"description": "The previous page's `next_cursor` "
                                                    "(empty: the first page)."})

    @post_load
    def _empty_cursor_is_first_page(self, data: dict, **_kwargs) -> dict:
        if data.get("cursor") == "":
            data["cursor"] = None
        return data


@functools.cache
def page_schema(item_schema: type[Schema]) -> type[Schema]:
    """A `{"items": [...], "next_cursor": ...}` schema class for one item schema
    (one class per item schema, so the spec names it once)."""
    name = item_schema.__name__.removesuffix("Schema") + "PageSchema"
    return Schema.from_dict({
        "items": fields.List(fields.Nested(item_schema), required=True),
        "next_cursor": fields.String(required=True, allow_none=True),
    }, name=name)


@dataclass(frozen=True)
class Operation:
    path: str
    method: str
    summary: str
    request_schema: Any = None
    response_schema: Any = None
    statuses: Mapping[int, str] = field(default_factory=lambda: {200: "OK"})
    query_schema: Any = None
    description: str = ""
    tags: tuple[str, ...] = ()
    parameters: tuple[dict, ...] = ()
    # Plain JSON Schema components the operation's schemas `$ref` (e.g. a recursive rule).
    components: Mapping[str, dict] = field(default_factory=dict)
    # The success answer's media type (a CSV export: "text/csv", response_schema a string).
    media_type: str = "application/json"


def _json(schema: Any) -> dict:
    return {"application/json": {"schema": schema}}


def _path_parameters(operation: Operation) -> list[dict]:
    given = {p.get("name") for p in operation.parameters if p.get("in") == "path"}
    names = [part[1:-1] for part in operation.path.split("/")
             if part.startswith("{") and part.endswith("}")]
    return [{"in": "path", "name": name, "required": True, "schema": {"type": "string"}}
            for name in names if name not in given]


def _responses(operation: Operation) -> dict:
    responses: dict[str, dict] = {}
    success_done = False
    for status, description in operation.statuses.items():
        entry: dict[str, Any] = {"description": description or HTTPStatus(status).phrase}
        if status >= 400:
            entry["content"] = _json(ErrorSchema)
        elif 200 <= status < 300 and not success_done:
            success_done = True
            if operation.response_schema is not None:
                entry["content"] = {operation.media_type: {"schema": operation.response_schema}}
        responses[str(status)] = entry
    return responses


def _operation_dict(operation: Operation) -> dict:
    spec: dict[str, Any] = {"summary": operation.summary, "responses": _responses(operation)}
    if operation.description:
        spec["description"] = operation.description
    if operation.tags:
        spec["tags"] = list(operation.tags)
    parameters = list(operation.parameters) + _path_parameters(operation)
    if operation.query_schema is not None:
        parameters.append({"in": "query", "schema": operation.query_schema})
    if parameters:
        spec["parameters"] = parameters
    if operation.request_schema is not None:
        spec["requestBody"] = {"required": True, "content": _json(operation.request_schema)}
    return spec


def spec_for(title: str, operations: Iterable[Operation], version: str = "1.0.0",
             description: str = "") -> dict:
    """The OpenAPI 3 document (a plain dict) describing `operations`."""
    spec = APISpec(title=title, version=version, openapi_version=OPENAPI_VERSION,
                   plugins=[MarshmallowPlugin()],
                   info={"description": description} if description else {})
    spec.components.schema(ERROR_COMPONENT, schema=ErrorSchema)
    by_path: dict[str, dict] = {}
    added: set[str] = set()
    for operation in operations:
        for name, component in operation.components.items():
            if name not in added:
                spec.components.schema(name, component=component)
                added.add(name)
        method = operation.method.lower()
        by_path.setdefault(operation.path, {})[method] = _operation_dict(operation)
    for path, methods in by_path.items():
        spec.path(path=path, operations=methods)
    return spec.to_dict()


def openapi_blueprint(title: str, operations: Iterable[Operation], version: str = "1.0.0",
                      description: str = "") -> Blueprint:
    """A blueprint serving `GET /openapi.json`; the document is built once, on first request."""
    blueprint = Blueprint("openapi", __name__)
    operations = list(operations)
    built: dict[str, dict] = {}

    @blueprint.get("/openapi.json")
    def openapi_json():
        if "spec" not in built:
            built["spec"] = spec_for(title, operations, version, description)
        return jsonify(built["spec"])

    return blueprint


def register_api(app: Flask, title: str, blueprints: Sequence[Blueprint],
                 operations: Iterable[Operation]) -> None:
    """A service's route blueprints, and `GET /openapi.json` describing their operations."""
    for blueprint in blueprints:
        app.register_blueprint(blueprint)
    app.register_blueprint(openapi_blueprint(title, operations))
