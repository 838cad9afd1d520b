"""`/api/v1/...`: check the caller's key and scope, then forward to the owning service.

Checks run in this order, each with an API.md error body: unknown path 404,
method 405 (with `Allow`), missing/unknown/revoked key 401 (with
`WWW-Authenticate`), missing scope 403, the key's rate limit spent 429 (with
`Retry-After`; gateway/rate_limit.py), body over the limit 413. The call is
then forwarded with its method, path (unchanged, still percent-encoded),
query string, body and content headers, plus `X-Correlation-Id` and
`X-Api-Key-Id` (services trust the latter because only the gateway reaches
them). The service's answer is passed through untouched; a service that is
down or too slow becomes 503 `DEPENDENCY_UNAVAILABLE` with `Retry-After` (as
does a service's own 503 that lacks one), and one that answers something
other than JSON becomes 502 `BAD_GATEWAY` (never HTML on `/api`).
"""
from __future__ import annotations

import logging
import math
import time
from urllib.parse import quote, unquote

import requests
from flask import Blueprint, Response, g, request
from flask_wtf.csrf import validate_csrf
from wtforms.validators import ValidationError

from gateway import outage, rate_limit, routes
from gateway.api_keys import ApiKey
from gateway.resources import resources
from gateway.web.auth import session_principal
from shared.http import ApiError, error_response

log = logging.getLogger(__name__)

blueprint = Blueprint("api_proxy", __name__)

# TRACE is taken too (and never routed), so it gets this path's own Allow, not Flask's.
PROXIED_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"]
# The gateway's own GET routes under /api/v1, so other methods on them are a 405, not a 404.
GATEWAY_PATHS = {"/api/v1/healthz", "/api/v1/readyz", "/api/v1/openapi.json"}
READ_ONLY_POSTS = {"/api/v1/segments/preview", "/api/v1/segments/parse"}
FORWARDED_REQUEST_HEADERS = ("Content-Type", "Accept", "Accept-Language", "If-Match",
                             "If-None-Match", "Idempotency-Key", "User-Agent")
# Hop-by-hop headers, those the gateway recomputes, and cookies (see resources._NoCookies).
DROPPED_RESPONSE_HEADERS = {"connection", "keep-alive", "proxy-authenticate", "proxy-connection",
                            "te", "trailer", "transfer-encoding", "upgrade", "content-length",
                            "content-encoding", "server", "date", "set-cookie", "x-correlation-id"}


class Refusal(ApiError):
    """An ApiError that also carries response headers (Allow, WWW-Authenticate)."""

    def __init__(self, status, code, message, details=None, headers=None):
        super().__init__(status, code, message, details)
        self.headers = headers or {}


@blueprint.errorhandler(Refusal)
def _refused(refusal: Refusal):
    response, status = error_response(refusal.status, refusal.code, refusal.message,
                                      refusal.details)
    response.headers.update(refusal.headers)
    return response, status


@blueprint.route("/api/v1/<path:rest>", methods=PROXIED_METHODS)
def forward(rest: str):
    path = raw_path()
    route = route_for(request.method, path)
    api_key, scope = caller(route, path)
    if not api_key.allows(scope):
        raise Refusal(403, "FORBIDDEN", f"This API key lacks the scope '{scope}' this call needs.",
                      {"required_scope": scope, "key_id": api_key.key_id})
    if request.headers.get("Authorization"):  # an API key; the web UI's session is not limited
        check_rate(api_key)
    check_body_size(request.content_length)
    body = read_body(resources().config.max_body_bytes)
    return send_to_service(route, path, api_key, body)


def raw_path() -> str:
    """The path as the client sent it (percent-encoding kept), so an id holding
    `%2F` stays one segment and reaches the service exactly as sent."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    raw = raw.split("?", 1)[0]
    script_root = request.script_root
    if script_root and raw.startswith(quote(script_root)):
        raw = raw[len(quote(script_root)):]
    if not raw.startswith("/api/v1/"):
        raw = quote(request.path)
    return raw


def route_for(method: str, path: str) -> routes.Route:
    try:
        segments = [unquote(segment) for segment in routes.split_path(path)]
        routes.split_path("/".join(segments))  # a `%2e%2e` is as much a `..` as `..`
        return routes.resolve(method, segments)
    except routes.MethodNotAllowed as error:
        raise Refusal(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on this path.",
                      {"allowed": error.allowed}, {"Allow": ", ".join(error.allowed)}) from error
    except routes.RouteNotFound as error:
        if unquote(path) in GATEWAY_PATHS:
            raise Refusal(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on this path.",
                          {"allowed": ["GET", "HEAD"]}, {"Allow": "GET, HEAD"}) from error
        raise Refusal(404, "NOT_FOUND", "No API endpoint has this path.",
                      {"path": unquote(path)}) from error


def bearer_token(authorization: str) -> str | None:
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


def caller(route: routes.Route, path: str) -> tuple[ApiKey, str]:
    """The caller and the scope its call needs: an API key when one is sent, else
    the web UI's signed-in session (gateway/web/auth.py), whose changes must
    carry the page's CSRF token, since a browser sends the cookie on any site's
    behalf."""
    authorization = request.headers.get("Authorization", "")
    user = None if authorization else session_principal()
    if user is None:
        return authenticate(authorization), route.scope
    if request.method not in routes.READ and request.method != "OPTIONS":
        try:
            validate_csrf(request.headers.get("X-CSRFToken", ""))
        except ValidationError:
            raise Refusal(403, "CSRF_FAILED", "This page has expired; reload it and try again.",
                          {}) from None
    g.api_key_id = user.key_id
    # A preview or a parse changes nothing, so a viewer may count or describe an audience too.
    if unquote(path).rstrip("/") in READ_ONLY_POSTS:
        return user, "segments:read"
    return user, route.scope


def authenticate(authorization: str) -> ApiKey:
    challenge = {"WWW-Authenticate": 'Bearer realm="crm"'}
    token = bearer_token(authorization)
    if token is None:
        raise Refusal(401, "UNAUTHORIZED", "Send an API key as 'Authorization: Bearer <key>'.",
                      {}, challenge)
    api_key = resources().key_store.authenticate(token)
    if api_key is None:
        raise Refusal(401, "UNAUTHORIZED", "This API key is unknown or has been revoked.",
                      {}, challenge)
    g.api_key_id = api_key.key_id
    return api_key


def check_rate(api_key: ApiKey) -> None:
    config = resources().config
    limit = config.rate_limit if api_key.rate_limit is None else api_key.rate_limit
    wait = rate_limit.limiter().admit(api_key.key_id, limit)
    if wait is not None:
        seconds = math.ceil(wait)
        details = {"limit": limit, "window_seconds": config.rate_window_seconds,
                   "retry_after_seconds": seconds}
        raise Refusal(429, "RATE_LIMITED", f"This API key made its {limit} calls of this "
                      f"window; try again in {seconds} s.", details, {"Retry-After": str(seconds)})


def check_body_size(content_length: int | None) -> None:
    limit = resources().config.max_body_bytes
    if content_length is not None and content_length > limit:
        raise Refusal(413, "PAYLOAD_TOO_LARGE",
                      f"The request body is larger than the gateway accepts ({limit} bytes).",
                      {"limit_bytes": limit})


def read_body(limit: int) -> bytes | None:
    """The body, at most `limit` bytes, else 413. Werkzeug's own limit silently
    truncates a chunked body (no Content-Length), so read one byte past it and check."""
    request.max_content_length = limit + 1
    chunks, total = [], 0
    while True:
        chunk = request.stream.read(min(64 * 1024, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
        if total > limit:
            check_body_size(total)
    return b"".join(chunks) or None


def forwarded_headers(api_key: ApiKey) -> dict[str, str]:
    headers = {name: request.headers[name] for name in FORWARDED_REQUEST_HEADERS
               if name in request.headers}
    headers["X-Correlation-Id"] = g.get("correlation_id", "")
    headers["X-Api-Key-Id"] = api_key.key_id
    forwarded_for = request.headers.get("X-Forwarded-For")
    client = request.remote_addr or ""
    headers["X-Forwarded-For"] = f"{forwarded_for}, {client}" if forwarded_for else client
    return headers


def send_to_service(route: routes.Route, path: str, api_key: ApiKey, body: bytes | None):
    state = resources()
    url = state.config.settings.service_urls[route.service] + path
    if request.query_string:
        url += "?" + request.query_string.decode("latin-1")
    started = time.monotonic()
    # A CSV export is streamed through as it comes: any size, in constant memory.
    streamed = request.method == "GET" and path.split("?", 1)[0].endswith(".csv")
    try:
        answer = state.http.request(
            request.method, url, data=body,
            headers=forwarded_headers(api_key), allow_redirects=False, stream=streamed,
            timeout=(state.config.connect_timeout, state.config.read_timeout))
    except requests.RequestException as error:
        log.warning("service unavailable", extra={
            "service": route.service, "path": path, "error": type(error).__name__,
            "correlation_id": g.get("correlation_id")})
        raise Refusal(503, "DEPENDENCY_UNAVAILABLE",
                      f"The {route.service} service is not answering; try again shortly.",
                      {"service": route.service},
                      {"Retry-After": str(outage.RETRY_AFTER_SECONDS)}) from None
    log.info("proxied", extra={
        "service": route.service, "method": request.method, "path": path,
        "status": answer.status_code, "key_id": api_key.key_id,
        "duration_ms": round((time.monotonic() - started) * 1000, 1),
        "correlation_id": g.get("correlation_id")})
    if streamed and answer.headers.get("Content-Type", "").startswith("text/csv"):
        return streamed_through(answer)
    return passed_through(answer, route.service)


def streamed_through(answer: requests.Response) -> Response:
    """A service's CSV, passed on chunk by chunk as it arrives."""
    def chunks():
        try:
            yield from answer.iter_content(chunk_size=64 * 1024)
        finally:
            answer.close()

    response = Response(chunks(), status=answer.status_code,
                        content_type=answer.headers["Content-Type"])
    if "Content-Disposition" in answer.headers:
        response.headers["Content-Disposition"] = answer.headers["Content-Disposition"]
    return response


def passed_through(answer: requests.Response, service: str) -> Response:
    content_type = answer.headers.get("Content-Type", "")
    if answer.content and "json" not in content_type.lower():
        raise Refusal(502, "BAD_GATEWAY", f"The {service} service gave an answer that is not JSON.",
                      {"service": service, "status": answer.status_code})
    response = Response(answer.content, status=answer.status_code,
                        content_type=content_type or "application/json")
    for name, value in answer.headers.items():
        if name.lower() not in DROPPED_RESPONSE_HEADERS and name.lower() != "content-type":
            response.headers[name] = value
    if answer.status_code == 503 and "Retry-After" not in response.headers:
        # A service whose database is down says so; the client still needs to know when to retry.
        response.headers["Retry-After"] = str(outage.RETRY_AFTER_SECONDS)
    return response
