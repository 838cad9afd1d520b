"""The one OpenAPI document clients read, and the `/docs` page that renders it.

`GET /openapi.json` (also `/api/v1/openapi.json`; no key needed) answers the
gateway's own paths (health, this document), the bearer security scheme and
the error schema, merged with every routed service's `/openapi.json` (see
shared/openapi.py). Only operations the routing table really sends to that
service are kept, each marked with the scope it needs and the 401/403/429/503
the gateway itself may answer (429 and 503 with `Retry-After`). A service that
does not answer is left out and named in the description; the merged document
is cached for `spec_cache_seconds` (5 s while a service is missing, so it
comes back soon).
"""
from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests
from flask import Blueprint, current_app, jsonify, render_template

from gateway import routes
from gateway.resources import resources
from shared.openapi import Operation, spec_for

TITLE = "CRM API"
VERSION = "1.0.0"
DESCRIPTION = ("The CRM's public API. Every `/api/v1` call except health and this document "
               "needs `Authorization: Bearer <key>`; create a key with `crm api-keys create NAME`. "
               "Errors always have the body `{\"error\": {\"code\", \"message\", \"details\"}}`.")
SECURITY_SCHEME = {"bearerAuth": {
    "type": "http", "scheme": "bearer",
    "description": "An API key, `crm_<key_id>_<secret>`, as printed by `crm api-keys create`."}}
GATEWAY_ERRORS = {401: "Missing, unknown or revoked API key",
                  403: "The API key lacks the scope this call needs",
                  429: "`RATE_LIMITED`: the API key made all the calls its rate limit allows in "
                       "this window (CRM_GATEWAY_RATE_LIMIT, 1,200 a minute by default); "
                       "`Retry-After` says when it may call again",
                  503: "`DEPENDENCY_UNAVAILABLE`: the database, or the service behind this "
                       "path, is not reachable; `Retry-After` says when to try again"}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before calling again",
                               "schema": {"type": "integer", "minimum": 1}}}
INCOMPLETE_TTL = 5.0


def gateway_operations() -> list[Operation]:
    operations = []
    for prefix in ("", "/api/v1"):
        operations += [
            Operation(f"{prefix}/healthz", "get", "The gateway process is alive", tags=("health",)),
            Operation(f"{prefix}/readyz", "get", "The gateway's database and broker are reachable",
                      statuses={200: "Ready", 503: "A dependency is not reachable"},
                      tags=("health",)),
            Operation(f"{prefix}/openapi.json", "get", "This document", tags=("documentation",)),
        ]
    return operations


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> Any:
    if isinstance(node, dict):
        return {key: renames.get(value, value) if key == "$ref" and isinstance(value, str)
                else _rewrite_refs(value, renames) for key, value in node.items()}
    if isinstance(node, list):
        return [_rewrite_refs(item, renames) for item in node]
    return node


def _merge_components(merged: dict, fragment: dict, service: str) -> dict:
    """Add the fragment's components; a name taken by a different definition is
    renamed `<Service><Name>`. Returns the fragment with its $refs rewritten."""
    renames: dict[str, str] = {}
    for section, entries in fragment.get("components", {}).items():
        for name, definition in entries.items():
            taken = merged.get(section, {}).get(name)
            if taken is not None and taken != definition:
                renames[f"#/components/{section}/{name}"] = \
                    f"#/components/{section}/{service.title().replace('_', '')}{name}"
    fragment = _rewrite_refs(fragment, renames)
    for section, entries in fragment.get("components", {}).items():
        target = merged.setdefault(section, {})
        for name, definition in entries.items():
            new = renames.get(f"#/components/{section}/{name}", f"#/components/{section}/{name}")
            target.setdefault(new.rsplit("/", 1)[1], definition)
    return fragment


def _routed_scope(method: str, path: str, service: str) -> str | None:
    try:
        route = routes.resolve(method.upper(), routes.split_path(path))
    except (routes.RouteNotFound, routes.MethodNotAllowed):
        return None
    return route.scope if route.service == service else None


def _add_operations(merged_paths: dict, fragment: dict, service: str) -> None:
    for path, item in fragment.get("paths", {}).items():
        for method, operation in item.items():
            scope = _routed_scope(method, path, service) if isinstance(operation, dict) else None
            if scope is None or method in merged_paths.get(path, {}):
                continue
            operation = dict(operation)
            operation.setdefault("tags", [service])
            operation["x-required-scope"] = scope
            note = f"Needs an API key with scope `{scope}` (or `admin`)."
            operation["description"] = (operation.get("description", "") + "\n\n" + note).strip()
            responses = operation.setdefault("responses", {})
            for status, description in GATEWAY_ERRORS.items():
                answer = responses.setdefault(str(status), {"description": description, "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}})
                if status in (429, 503):
                    answer.setdefault("headers", copy.deepcopy(RETRY_AFTER))
            merged_paths.setdefault(path, {})[method] = operation
            if "parameters" in item:
                merged_paths[path].setdefault("parameters", item["parameters"])


def merged_spec(fragments: Mapping[str, dict | None]) -> dict:
    """The gateway's document merged with each service's (None = did not answer)."""
    spec = spec_for(TITLE, gateway_operations(), VERSION, DESCRIPTION)
    for item in spec["paths"].values():
        for operation in item.values():
            operation["security"] = []
    spec.setdefault("components", {})["securitySchemes"] = copy.deepcopy(SECURITY_SCHEME)
    spec["security"] = [{"bearerAuth": []}]
    missing = []
    for service in routes.services():
        fragment = fragments.get(service)
        if not isinstance(fragment, dict):
            missing.append(service)
            continue
        fragment = _merge_components(spec["components"], copy.deepcopy(fragment), service)
        _add_operations(spec["paths"], fragment, service)
    if missing:
        spec["info"]["description"] += (
            f"\n\nNot answering when this document was built, so their endpoints are missing "
            f"here: {', '.join(missing)}.")
        spec["x-missing-services"] = missing
    return spec


def fetch_fragment(session: requests.Session, base_url: str, timeout: float) -> dict | None:
    try:
        answer = session.get(base_url + "/openapi.json", timeout=timeout)
        document = answer.json() if answer.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return None
    if isinstance(document, dict) and isinstance(document.get("paths"), dict):
        return document
    return None


class SpecCache:
    def __init__(self, ttl: float, clock: Callable[[], float] = time.monotonic):
        self._ttl = ttl
        self._clock = clock
        self._lock = threading.Lock()
        self._spec: dict | None = None
        self._expires = 0.0

    def get(self, build: Callable[[], dict]) -> dict:
        with self._lock:
            if self._spec is None or self._clock() >= self._expires:
                self._spec = build()
                ttl = INCOMPLETE_TTL if self._spec.get("x-missing-services") else self._ttl
                self._expires = self._clock() + min(ttl, self._ttl)
            return self._spec


def build_spec() -> dict:
    state = resources()
    urls = state.config.settings.service_urls
    fragments = {service: fetch_fragment(state.http, urls[service], state.config.spec_fetch_timeout)
                 for service in routes.services()}
    return merged_spec(fragments)


blueprint = Blueprint("openapi_docs", __name__, template_folder="templates",
                      static_folder="static", static_url_path="/docs/static")


def current_spec() -> dict:
    """The merged document, from this app's cache (built again when it expires)."""
    cache = current_app.extensions.setdefault(
        "crm_gateway_spec", SpecCache(resources().config.spec_cache_seconds))
    return cache.get(build_spec)


@blueprint.get("/openapi.json")
@blueprint.get("/api/v1/openapi.json")
def openapi_json():
    return jsonify(current_spec())


@blueprint.get("/docs")
def docs():
    response = current_app.make_response(render_template("docs.html"))
    # The page runs only its own script and talks only to this gateway.
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
    return response
