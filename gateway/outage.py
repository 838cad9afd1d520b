"""A dependency outage is a 503 with `Retry-After`, never a 500.

While the database cannot be reached (pymongo's ConnectionFailure family:
server selection timed out, connection reset, auto-reconnect) the gateway
answers `503 DEPENDENCY_UNAVAILABLE` with `Retry-After`: a JSON error body on
`/api`, `/openapi.json`, `/readyz` and `/healthz`, a friendly HTML page
everywhere else (the web UI). Nothing is cached about the outage: the next
request tries the database again, so the gateway recovers by itself.
"""
from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from pymongo.errors import ConnectionFailure

from shared.http import RETRY_AFTER_SECONDS, error_response

log = logging.getLogger(__name__)

JSON_PREFIXES = ("/api/", "/openapi.json", "/healthz", "/readyz", "/metrics")


def dependency_unavailable(message: str, details: dict | None = None):
    """The API's 503 answer, as (response, status)."""
    response, status = error_response(503, "DEPENDENCY_UNAVAILABLE", message, details)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response, status


def wants_json() -> bool:
    return request.path.startswith(JSON_PREFIXES)


def install(app: Flask) -> None:
    @app.errorhandler(ConnectionFailure)
    def _database_down(error: ConnectionFailure):
        log.warning("database unavailable", extra={
            "path": request.path, "error": type(error).__name__,
            "correlation_id": g.get("correlation_id")})
        if wants_json():
            return dependency_unavailable("The database is not reachable; try again shortly.",
                                          {"dependency": "database"})
        page = render_template("web/unavailable.html", retry_after=RETRY_AFTER_SECONDS)
        return page, 503, {"Retry-After": str(RETRY_AFTER_SECONDS)}
