"""The gateway as a real server in front of a real tiny Flask service, keys in the real database."""
import dataclasses
import socket
import threading
import time

import pytest
import requests
from flask import Flask, jsonify, request
from marshmallow import Schema, fields
from werkzeug.serving import make_server

from gateway.api_keys import open_store
from gateway.app import create_app
from gateway.config import GatewayConfig
from shared.http import ApiError, register_error_handlers
from shared.openapi import Operation, openapi_blueprint

pytestmark = pytest.mark.integration

BODY_LIMIT = 4096
READ_TIMEOUT = 1.0


class EchoSchema(Schema):
    method = fields.String()
    path = fields.String()


def backend_app() -> Flask:
    """Stands in for a service: echoes what reached it, and can fail or hang on demand."""
    app = Flask("fake_service")
    register_error_handlers(app)
    app.register_blueprint(openapi_blueprint("Backend", [
        Operation("/api/v1/customers", "post", "Echo", response_schema=EchoSchema,
                  statuses={202: "Accepted"}),
        Operation("/api/v1/internal", "get", "Not routed by the gateway"),
    ]))

    @app.route("/api/v1/<path:rest>", methods=["GET", "POST", "DELETE"])
    def echo(rest):
        if rest == "segments/missing":
            raise ApiError(404, "SEGMENT_NOT_FOUND", "No segment has this id.", {"id": "missing"})
        if rest == "segments/slow":
            time.sleep(READ_TIMEOUT * 3)
        return jsonify({
            "method": request.method,
            "path": request.environ.get("RAW_URI", request.path).split("?")[0],
            "query": request.query_string.decode(), "body": request.get_data(as_text=True),
            "content_type": request.content_type,
            "key_id": request.headers.get("X-Api-Key-Id"),
            "correlation_id": request.headers.get("X-Correlation-Id"),
            "authorization": request.headers.get("Authorization"),
        }), 202 if request.method == "POST" else 200

    return app


class ServerThread:
    def __init__(self, app):
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def unused_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def backend():
    server = ServerThread(backend_app())
    yield server
    server.stop()


@pytest.fixture
def gateway(gateway_settings, backend):
    """Ingest and segments are the backend; campaigns points at a port nobody listens on."""
    urls = {**gateway_settings.service_urls, "ingest": backend.url, "segments": backend.url,
            "campaigns": unused_port_url()}
    settings = dataclasses.replace(gateway_settings, service_urls=urls)
    app = create_app(GatewayConfig.from_env(settings=settings, max_body_bytes=BODY_LIMIT,
                                            read_timeout=READ_TIMEOUT, connect_timeout=1.0))
    server = ServerThread(app)
    yield server
    server.stop()


@pytest.fixture
def keys(gateway_settings):
    store = open_store(gateway_settings)
    made = {"all": store.create("all"), "reader": store.create("reader", ["segments:read"]),
            "revoked": store.create("revoked")}
    store.revoke(made["revoked"])
    yield made
    store.close()


def call(gateway, method, path, key=None, **kwargs):
    headers = kwargs.pop("headers", {})
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return requests.request(method, gateway.url + path, headers=headers, timeout=10, **kwargs)


def error_of(response, status, code):
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"]["code"] == code
    assert set(body["error"]) == {"code", "message", "details"}
    return body["error"]


def test_a_call_reaches_the_service_and_its_answer_comes_back(gateway, keys):
    response = call(gateway, "POST", "/api/v1/customers?source=shop", keys["all"],
                    json={"external_id": "c1"}, headers={"X-Correlation-Id": "corr-7"})
    assert response.status_code == 202
    echoed = response.json()
    assert echoed["method"] == "POST"
    assert echoed["path"] == "/api/v1/customers"
    assert echoed["query"] == "source=shop"
    assert echoed["body"] == '{"external_id": "c1"}'
    assert echoed["content_type"] == "application/json"
    assert echoed["key_id"] == keys["all"].split("_")[1]
    assert echoed["correlation_id"] == "corr-7"
    assert echoed["authorization"] is None
    assert response.headers["X-Correlation-Id"] == "corr-7"


def test_the_services_own_errors_pass_through(gateway, keys):
    response = call(gateway, "GET", "/api/v1/segments/missing", keys["reader"])
    assert error_of(response, 404, "SEGMENT_NOT_FOUND")["details"] == {"id": "missing"}


def test_keys_are_checked(gateway, keys):
    error_of(call(gateway, "GET", "/api/v1/segments"), 401, "UNAUTHORIZED")
    error_of(call(gateway, "GET", "/api/v1/segments", "crm_0000000000000000_" + "0" * 64),
             401, "UNAUTHORIZED")
    error_of(call(gateway, "GET", "/api/v1/segments", keys["revoked"]), 401, "UNAUTHORIZED")
    error = error_of(call(gateway, "POST", "/api/v1/customers", keys["reader"], json={}),
                     403, "FORBIDDEN")
    assert error["details"]["required_scope"] == "customers:write"
    assert call(gateway, "GET", "/api/v1/segments", keys["reader"]).status_code == 200


def test_unknown_paths_and_methods(gateway, keys):
    error_of(call(gateway, "GET", "/api/v1/unknown", keys["all"]), 404, "NOT_FOUND")
    response = call(gateway, "PATCH", "/api/v1/orders", keys["all"], json={})
    error_of(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["Allow"] == "POST"


def test_oversized_body_is_413(gateway, keys):
    response = call(gateway, "POST", "/api/v1/customers", keys["all"],
                    data=b"x" * (BODY_LIMIT + 1), headers={"Content-Type": "application/json"})
    assert error_of(response, 413, "PAYLOAD_TOO_LARGE")["details"]["limit_bytes"] == BODY_LIMIT


def test_oversized_chunked_body_is_413(gateway, keys):
    pieces = (b"x" * 1024 for _ in range(BODY_LIMIT // 1024 + 1))  # no Content-Length: chunked
    response = call(gateway, "POST", "/api/v1/customers", keys["all"], data=pieces,
                    headers={"Content-Type": "application/json"})
    error_of(response, 413, "PAYLOAD_TOO_LARGE")


def test_chunked_body_within_the_limit_arrives_whole(gateway, keys):
    pieces = (b"x" * 1024 for _ in range(BODY_LIMIT // 1024))
    response = call(gateway, "POST", "/api/v1/customers", keys["all"], data=pieces,
                    headers={"Content-Type": "application/json"})
    assert response.status_code == 202
    assert response.json()["body"] == "x" * BODY_LIMIT


def test_service_down_is_503(gateway, keys):
    response = call(gateway, "GET", "/api/v1/campaigns", keys["all"])
    assert error_of(response, 503, "DEPENDENCY_UNAVAILABLE")["details"] == {"service": "campaigns"}


def test_service_too_slow_is_503(gateway, keys):
    response = call(gateway, "GET", "/api/v1/segments/slow", keys["all"])
    assert error_of(response, 503, "DEPENDENCY_UNAVAILABLE")["details"] == {"service": "segments"}


def test_service_stopped_after_start_is_503(gateway, backend, keys):
    assert call(gateway, "GET", "/api/v1/segments", keys["all"]).status_code == 200
    backend.stop()
    error_of(call(gateway, "GET", "/api/v1/segments", keys["all"]), 503, "DEPENDENCY_UNAVAILABLE")


def test_merged_openapi_has_routed_service_paths_and_names_the_missing(gateway):
    for path in ("/openapi.json", "/api/v1/openapi.json"):
        spec = requests.get(gateway.url + path, timeout=10).json()
        assert spec["paths"]["/api/v1/customers"]["post"]["x-required-scope"] == "customers:write"
        assert "/api/v1/internal" not in spec["paths"]
        assert spec["x-missing-services"] == ["campaigns"]


def test_docs_page_and_health_need_no_key(gateway):
    docs = requests.get(gateway.url + "/docs", timeout=10)
    assert docs.status_code == 200 and "docs.js" in docs.text
    assert "http://" not in docs.text and "https://" not in docs.text  # nothing from the internet
    assert requests.get(gateway.url + "/healthz", timeout=10).json() == {"status": "ok"}
    ready = requests.get(gateway.url + "/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {"database": True, "broker": True}
