"""What every HTTP app of the suite has in common: the error format and health routes."""
from __future__ import annotations

import hmac
import logging
import os
import time
import uuid
from typing import Callable

from flask import Blueprint, Flask, Response, g, jsonify, request
from marshmallow import ValidationError
from werkzeug.exceptions import HTTPException, MethodNotAllowed

log = logging.getLogger(__name__)

# HTTP status -> error code, for errors raised by Flask/werkzeug itself.
STATUS_CODES = {
    400: "BAD_REQUEST",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE_ENTITY",
    429: "TOO_MANY_REQUESTS",
    500: "INTERNAL_ERROR",
    502: "BAD_GATEWAY",
    503: "SERVICE_UNAVAILABLE",
    504: "GATEWAY_TIMEOUT",
}


class ApiError(Exception):
    """An error a route wants the client to see, in the API.md error format."""

    def __init__(self, status: int, code: str, message: str, details: dict | None = None):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


def error_response(status: int, code: str, message: str, details: dict | None = None):
    body = {"error": {"code": code, "message": message, "details": details or {}}}
    return jsonify(body), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(ApiError)
    def _api_error(error: ApiError):
        return error_response(error.status, error.code, error.message, error.details)

    @app.errorhandler(ValidationError)
    def _validation_error(error: ValidationError):
        return error_response(400, "INVALID_REQUEST", "The request body is not valid.",
                              {"fields": error.messages})

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        code = STATUS_CODES.get(status, "HTTP_ERROR")
        message = error.description or code.replace("_", " ").capitalize()
        response, status = error_response(status, code, message)
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            response.headers["Allow"] = ", ".join(error.valid_methods)  # RFC 9110: a 405 has it
        return response, status

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error", extra={"path": request.path})
        return error_response(500, "INTERNAL_ERROR",
                              "Something went wrong on our side; it has been logged.")


def json_body() -> dict | list:
    """The request's JSON body, or a 400 in the API's format."""
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(400, "MALFORMED_JSON", "The request body must be valid JSON.")
    return data


def health_blueprint(readiness_checks: Callable[[], dict[str, bool]], *,
                     details: Callable[[], dict] | None = None,
                     not_ready: dict[str, tuple[str, str]] | None = None) -> Blueprint:
    """`/healthz` (process alive) and `/readyz` (every check true, else 503).

    A database or broker down answers DEPENDENCY_UNAVAILABLE; otherwise the first
    failing check named in `not_ready` answers its own (code, message), e.g. an
    index still loading. `details()` adds keys to the body (progress, say)."""
    blueprint = Blueprint("health", __name__)

    @blueprint.get("/healthz")
    def healthz():
        return jsonify({"status": "ok"})

    @blueprint.get("/readyz")
    def readyz():
        checks = readiness_checks()
        ready = all(checks.values())
        body = {"status": "ready" if ready else "unavailable", "checks": checks,
                **(details() if details else {})}
        if ready:
            return jsonify(body)
        failing = [name for name, ok in checks.items() if not ok]
        code, message = "DEPENDENCY_UNAVAILABLE", "A dependency of this service is not reachable."
        if not any(name in ("database", "broker") for name in failing):
            code, message = next((not_ready[name] for name in failing if name in (not_ready or {})),
                                 (code, message))
        return error_response(503, code, message, body)

    return blueprint


def install_correlation_id(app: Flask) -> None:
    """Every request carries a correlation id (from `X-Correlation-Id` or a new one)."""

    @app.before_request
    def _correlation():
        g.correlation_id = request.headers.get("X-Correlation-Id") or str(uuid.uuid4())

    @app.after_request
    def _echo(response):
        response.headers["X-Correlation-Id"] = g.get("correlation_id", "")
        return response


# What a 503 for a dependency outage tells the client: a database restart takes a few seconds.
RETRY_AFTER_SECONDS = 5


def answer_database_down(app: Flask) -> None:
    """A request that could not reach the database (or the broker) answers 503 with
    `Retry-After`, not 500. Only lost connections: a broker refusing a declaration
    (406) is a bug, and stays a 500."""
    from pika.exceptions import AMQPConnectionError
    from pymongo.errors import ConnectionFailure

    def unavailable(what: str):
        response, status = error_response(503, "DEPENDENCY_UNAVAILABLE",
                                          f"The {what} is not reachable.")
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response, status

    @app.errorhandler(ConnectionFailure)
    def _database_down(_error):
        return unavailable("database")

    @app.errorhandler(AMQPConnectionError)
    def _broker_down(_error):
        return unavailable("message broker")


def service_app(import_name: str, service: str,
                readiness_checks: Callable[[], dict[str, bool]], *,
                max_body_bytes: int | None = None) -> Flask:
    """A Flask app with what every service has: JSON errors (a database outage a 503),
    correlation ids, health routes; a body over `max_body_bytes` is a 413 unread."""
    app = Flask(import_name)
    app.json.sort_keys = False
    if max_body_bytes is not None:
        app.config["MAX_CONTENT_LENGTH"] = max_body_bytes
    register_error_handlers(app)
    answer_database_down(app)
    install_correlation_id(app)
    install_metrics(app, service)
    app.register_blueprint(health_blueprint(readiness_checks))
    return app


METRICS_TOKEN_ENV = "CRM_METRICS_TOKEN"


def install_metrics(app: Flask, service: str, *, public: bool = False) -> None:
    """Time and count every request by route template and status, and serve `/metrics`.

    A service port is internal: `/metrics` answers anyone who reaches it. A `public`
    app (the gateway) faces the internet, so there it needs `Authorization: Bearer
    <CRM_METRICS_TOKEN>` when that is set; unset, it is served only outside
    production (and production answers 404, as if there were no such route)."""
    from shared import metrics

    def _start_timer():
        g.metrics_started = time.perf_counter()

    # First, so requests a later hook answers (a 401, a redirect) are timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, _start_timer)

    @app.after_request
    def _record(response):
        route = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics.HTTP_REQUESTS.labels(service, request.method, route,
                                     str(response.status_code)).inc()
        started = g.pop("metrics_started", None)
        if started is not None:
            metrics.HTTP_LATENCY.labels(service, request.method, route).observe(
                time.perf_counter() - started)
        return response

    token = os.environ.get(METRICS_TOKEN_ENV, "").strip() if public else ""
    production = os.environ.get("CRM_ENV", "development").strip().lower() == "production"
    if public and production and not token:
        return

    @app.get("/metrics")
    def metrics_page():
        given = request.headers.get("Authorization", "").encode()
        if token and not hmac.compare_digest(given, f"Bearer {token}".encode()):
            return error_response(401, "UNAUTHORIZED",
                                  "Metrics need the bearer token of CRM_METRICS_TOKEN.")
        return Response(metrics.exposition(), content_type=metrics.CONTENT_TYPE)


def database_and_broker_checks(settings) -> Callable[[], dict[str, bool]]:
    """Readiness of a service that needs its database and the broker (client made lazily)."""
    from shared import mongo
    from shared.backbone import broker
    client = None

    def checks() -> dict[str, bool]:
        nonlocal client
        client = client or mongo.connect(settings)
        return {"database": mongo.ping(client), "broker": broker.broker_reachable(settings)}

    return checks
