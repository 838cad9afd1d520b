"""The proxy with hand-written fakes for the key store and the HTTP pool: no servers."""
import io
import json

import pytest
import requests

from gateway.app import create_app
from gateway.config import GatewayConfig
from gateway.resources import resources
from shared.config import Settings
from tests.support.gateway import GOOD_KEY, READER_KEY, SERVICE_URLS, FakeHttp, FakeKeyStore


@pytest.fixture
def http():
    return FakeHttp()


@pytest.fixture
def client(http):
    settings = Settings(db_prefix="unit_gateway_unused", service_urls=dict(SERVICE_URLS))
    app = create_app(GatewayConfig(settings=settings, max_body_bytes=1000, rate_limit=0,
                                   connect_timeout=1.5, read_timeout=7.0))
    with app.app_context():
        resources().provide(key_store=FakeKeyStore(), http=http)
    return app.test_client()


def auth(key=GOOD_KEY):
    return {"Authorization": f"Bearer {key}"}


def assert_error(response, status, code):
    assert response.status_code == status
    assert response.content_type == "application/json"
    body = response.get_json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]


def test_missing_key_is_401_with_a_bearer_challenge(client, http):
    response = client.get("/api/v1/segments")
    assert_error(response, 401, "UNAUTHORIZED")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert http.calls == []


@pytest.mark.parametrize("header", ["Bearer crm_nope_nope", "Basic abc", "Bearer ", GOOD_KEY])
def test_unknown_or_badly_sent_key_is_401(client, http, header):
    assert_error(client.get("/api/v1/segments", headers={"Authorization": header}),
                 401, "UNAUTHORIZED")
    assert http.calls == []


def test_missing_scope_is_403_naming_the_scope(client, http):
    error = assert_error(client.post("/api/v1/segments", json={}, headers=auth(READER_KEY)),
                         403, "FORBIDDEN")
    assert error["details"]["required_scope"] == "segments:write"
    assert http.calls == []
    assert client.get("/api/v1/segments", headers=auth(READER_KEY)).status_code == 200


def test_unknown_api_path_is_404_even_with_a_good_key(client):
    error = assert_error(client.get("/api/v1/nothing-here", headers=auth()), 404, "NOT_FOUND")
    assert error["details"]["path"] == "/api/v1/nothing-here"


def test_wrong_method_is_405_with_allow(client):
    response = client.put("/api/v1/customers", headers=auth())
    assert_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["Allow"] == "POST, GET, HEAD"
    assert_error(client.post("/api/v1/readyz", headers=auth()), 405, "METHOD_NOT_ALLOWED")


def test_body_over_the_limit_is_413_before_forwarding(client, http):
    error = assert_error(client.post("/api/v1/customers", data=b"x" * 1001, headers=auth(),
                                     content_type="application/json"), 413, "PAYLOAD_TOO_LARGE")
    assert error["details"]["limit_bytes"] == 1000
    assert http.calls == []


def chunked(client, body):
    """A POST without Content-Length, as a server that de-chunks the body hands it over."""
    return client.post("/api/v1/customers", input_stream=io.BytesIO(body), headers={
        **auth(), "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True})


def test_chunked_body_over_the_limit_is_413_not_truncated(client, http):
    assert_error(chunked(client, b"x" * 1001), 413, "PAYLOAD_TOO_LARGE")
    assert http.calls == []


def test_chunked_body_within_the_limit_is_forwarded_whole(client, http):
    assert chunked(client, b"y" * 1000).status_code == 200
    assert http.calls[0]["data"] == b"y" * 1000


def test_forwards_method_path_query_body_and_identity(client, http):
    body = json.dumps({"records": [{"external_id": "c1"}]}).encode()
    response = client.post("/api/v1/customers?dry_run=1&x=a%20b", data=body, headers={
        **auth(), "Content-Type": "application/json", "X-Correlation-Id": "corr-1",
        "X-Api-Key-Id": "forged", "Cookie": "session=abc"})
    assert response.status_code == 200
    call = http.calls[0]
    assert call["method"] == "POST"
    assert call["url"] == "http://ingest.test/api/v1/customers?dry_run=1&x=a%20b"
    assert call["data"] == body
    assert call["timeout"] == (1.5, 7.0)
    assert call["allow_redirects"] is False
    headers = call["headers"]
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Correlation-Id"] == "corr-1"
    assert headers["X-Api-Key-Id"] == "goodkey"
    assert "Authorization" not in headers and "Cookie" not in headers
    assert response.headers["X-Correlation-Id"] == "corr-1"


def test_percent_encoded_ids_reach_the_service_as_sent(client, http):
    client.get("/api/v1/customers/a%2Fb%20c", headers=auth())
    assert http.calls[0]["url"] == "http://segments.test/api/v1/customers/a%2Fb%20c"


def test_encoded_dot_segments_are_404(client, http):
    assert_error(client.get("/api/v1/segments/%2e%2e/customers", headers=auth()), 404, "NOT_FOUND")
    assert http.calls == []


def test_service_answers_pass_through_untouched(client, http):
    raw = (b'{"error": {"code": "UNKNOWN_FIELD", "message": "m", '
           b'"details": {"path": "rules.field"}}}')
    http.answer = (400, {"Content-Type": "application/json", "Location": "/x",
                         "Set-Cookie": "a=b", "Connection": "close"}, raw)
    response = client.post("/api/v1/segments/preview", json={}, headers=auth())
    assert response.status_code == 400
    assert response.data == raw
    assert response.headers["Location"] == "/x"
    assert "Set-Cookie" not in response.headers


def test_service_created_answer_keeps_its_status(client, http):
    http.answer = (201, {"Content-Type": "application/json"}, b'{"id": "s1"}')
    response = client.post("/api/v1/segments", json={"name": "n"}, headers=auth())
    assert response.status_code == 201 and response.get_json() == {"id": "s1"}


@pytest.mark.parametrize("failure", [requests.ConnectionError("refused"),
                                     requests.ReadTimeout("slow"), requests.ConnectTimeout("slow")])
def test_service_down_or_slow_is_503(client, http, failure):
    http.answer = failure
    response = client.get("/api/v1/campaigns", headers=auth())
    error = assert_error(response, 503, "DEPENDENCY_UNAVAILABLE")
    assert error["details"] == {"service": "campaigns"}
    assert response.headers["Retry-After"] == "5"
    assert b"Traceback" not in response.data


def test_a_services_own_503_gains_a_retry_after(client, http):
    http.answer = (503, {"Content-Type": "application/json"},
                   b'{"error": {"code": "DEPENDENCY_UNAVAILABLE", "message": "m", "details": {}}}')
    response = client.get("/api/v1/campaigns", headers=auth())
    assert_error(response, 503, "DEPENDENCY_UNAVAILABLE")
    assert response.headers["Retry-After"] == "5"


def test_a_non_json_answer_never_reaches_the_client_as_html(client, http):
    http.answer = (500, {"Content-Type": "text/html"}, b"<html>Internal Server Error</html>")
    response = client.get("/api/v1/campaigns", headers=auth())
    assert_error(response, 502, "BAD_GATEWAY")
    assert b"<html>" not in response.data


def test_non_api_unknown_path_is_json_404(client):
    assert_error(client.get("/definitely-not-here"), 404, "NOT_FOUND")


def test_health_needs_no_key(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/api/v1/healthz").get_json() == {"status": "ok"}


def test_a_csv_export_is_streamed_through_with_its_download_name(client, http):
    body = b"customer_external_id,text\r\n" + b"c1,'=1+1\r\n" * 5000
    http.answer = (200, {"Content-Type": "text/csv; charset=utf-8",
                         "Content-Disposition": 'attachment; filename="m.csv"'}, body)
    response = client.get("/api/v1/campaigns/abc/messages.csv", headers=auth())
    assert response.status_code == 200 and response.is_streamed
    assert response.content_type == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"] == 'attachment; filename="m.csv"'
    assert response.get_data() == body
    assert http.calls[-1]["stream"] is True
    client.get("/api/v1/campaigns/abc", headers=auth())
    assert http.calls[-1]["stream"] is False  # JSON is read whole, as before
