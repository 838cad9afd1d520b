"""`OPTIONS /api/v1/...`: the methods a path takes, as the OpenAPI document lists them.

The routing table (routes.py) is coarse on purpose (`/api/v1/segments/**` goes to
segments for any write), so its methods are not what one path supports; the merged
document (openapi.py) knows each path's operations exactly. A literal path segment
beats a `{parameter}` (`/segments/preview` is not the segment "preview"), as OpenAPI
says. No key is needed: the answer is what the public document says anyway.
"""
from __future__ import annotations

from urllib.parse import quote, unquote

from flask import Flask, Response, request

from gateway.openapi import current_spec

OPERATION_METHODS = ("get", "put", "post", "delete", "patch", "head", "trace")


def _matches(template: list[str], segments: list[str]) -> bool:
    return len(template) == len(segments) and all(
        part == segment or (part.startswith("{") and part.endswith("}") and segment != "")
        for part, segment in zip(template, segments, strict=True))


def allowed_methods(spec: dict, raw_path: str) -> list[str] | None:
    """The methods of the spec path `raw_path` falls under (with HEAD for GET, and
    OPTIONS), or None when no documented path matches."""
    segments = [unquote(segment) for segment in raw_path.strip("/").split("/")]
    best, best_literals = None, -1
    for template, item in spec.get("paths", {}).items():
        parts = template.strip("/").split("/")
        literals = sum(not part.startswith("{") for part in parts)
        if _matches(parts, segments) and literals > best_literals:
            best, best_literals = item, literals
    if best is None:
        return None
    methods = [method.upper() for method in OPERATION_METHODS if method in best]
    if "GET" in methods and "HEAD" not in methods:
        methods.insert(methods.index("GET") + 1, "HEAD")
    return methods + ["OPTIONS"]


def install(app: Flask) -> None:
    """Answer OPTIONS for every documented path before routing: Flask's own answer
    would list the methods of every rule the path matches (the /api/v1 catch-all too)."""

    @app.before_request
    def _options():
        if request.method != "OPTIONS":
            return None
        raw = (request.environ.get("RAW_URI") or quote(request.path)).split("?", 1)[0]
        return options_answer(current_spec(), raw)


def options_answer(spec: dict, raw_path: str) -> Response | None:
    """204 with `Allow`, or None to let the routing table answer (404 or 405)."""
    methods = allowed_methods(spec, raw_path)
    if methods is None:
        return None
    response = Response(status=204)
    response.headers["Allow"] = ", ".join(methods)
    return response
