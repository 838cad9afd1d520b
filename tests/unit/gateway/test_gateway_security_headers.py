"""Every answer of the gateway carries its security headers (CSP with frame-ancestors
'none', nosniff, a referrer policy), UI pages included, and the session cookie its flags."""
import re

import pytest
import requests
from werkzeug.routing import Rule

from gateway.api_keys import ApiKey
from gateway.app import create_app
from gateway.config import GatewayConfig
from gateway.resources import resources
from gateway.web.config import WebConfig
from shared.config import Settings

SETTINGS = Settings(db_prefix="unit_gateway_headers_unused", service_urls={
    "ingest": "http://ingest.test", "segments": "http://segments.test",
    "campaigns": "http://campaigns.test"})
INLINE = re.compile(rb"<style|\sstyle=|<script(?![^>]*\ssrc=)|\son[a-z]+=", re.IGNORECASE)
URL_VALUES = {"campaign_id": "c1", "token": "t1", "external_id": "cust-1", "filename": "app.css",
              "rest": "campaigns", "key_id": "k1"}


class FakeKeyStore:
    def authenticate(self, plaintext):
        return ApiKey("k1", "all", frozenset({"admin"})) if plaintext == "crm_k1_s" else None

    def list(self):
        return []


class FakeHttp:
    def request(self, *_args, **_kwargs):
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        response._content = b'{"items": [], "next_cursor": null}'
        return response

    def get(self, *_args, **_kwargs):
        raise requests.ConnectionError("no services in unit tests")


def make_app(env):
    app = create_app(GatewayConfig(settings=SETTINGS, rate_limit=0), WebConfig.from_env(env))
    app.config["TESTING"] = True
    with app.app_context():
        resources().provide(key_store=FakeKeyStore(), http=FakeHttp())
    return app


def signed_in_admin(app):
    client = app.test_client()
    page = client.get("/signin")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    client.post("/signin/dev", data={"email": "boss@example.com", "role": "admin",
                                     "csrf_token": token})
    return client


def get_paths(app) -> list[str]:
    """One concrete URL per GET route the gateway has: a new page cannot be forgotten."""
    rules: list[Rule] = [rule for rule in app.url_map.iter_rules() if "GET" in rule.methods]
    return sorted({rule.build({name: URL_VALUES[name] for name in rule.arguments})[1]
                   for rule in rules if not rule.rule.startswith("/signin/google")})


def assert_protected(response):
    policy = response.headers.get("Content-Security-Policy", "")
    assert "frame-ancestors 'none'" in policy, response.request.path
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] in ("same-origin", "no-referrer")
    assert response.headers["X-Frame-Options"] == "DENY"


def test_every_get_route_signed_in_or_not_carries_the_headers():
    app = make_app({"CRM_DEV_LOGIN": "1"})
    paths = get_paths(app)
    assert {"/", "/campaigns", "/import", "/admin/api-keys", "/docs", "/signin"} <= set(paths)
    for client in (app.test_client(), signed_in_admin(app)):
        for path in paths:
            response = client.get(path, headers={"Authorization": "Bearer crm_k1_s"}
                                  if path.startswith("/api/") else {})
            assert response.status_code < 500, path
            assert_protected(response)
            if response.mimetype == "text/html":  # nothing inline the policy would block
                assert not INLINE.search(response.data), (path, INLINE.search(response.data))


def test_pages_load_only_their_own_scripts_and_styles():
    app = make_app({"CRM_DEV_LOGIN": "1"})
    page = signed_in_admin(app).get("/campaigns")
    policy = dict(part.strip().split(" ", 1) for part in
                  page.headers["Content-Security-Policy"].split(";"))
    assert policy["script-src"] == "'self'" and policy["style-src"] == "'self'"
    assert policy["object-src"] == "'none'" and policy["base-uri"] == "'none'"
    assert b"<script>" not in page.data and b"style=" not in page.data


def test_errors_and_redirects_carry_the_headers_too():
    app = make_app({"CRM_DEV_LOGIN": "1"})
    client = app.test_client()
    for response in (client.get("/campaigns"), client.get("/no-such-page"),
                     client.get("/api/v1/campaigns"), client.post("/signin/dev")):
        assert response.status_code in (302, 400, 401, 404)
        assert_protected(response)


def test_the_docs_page_keeps_its_own_stricter_policy():
    app = make_app({})
    policy = app.test_client().get("/docs").headers["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'") and "form-action 'none'" in policy


@pytest.mark.parametrize("env, secure", [
    ({"CRM_DEV_LOGIN": "1"}, False),
    ({"CRM_DEV_LOGIN": "1", "CRM_SECURE_COOKIES": "1"}, True),
])
def test_the_session_cookie_is_http_only_lax_and_secure_over_https(env, secure):
    app = make_app(env)
    client = app.test_client()
    page = client.get("/signin")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    response = client.post("/signin/dev", data={"email": "m@example.com", "role": "marketer",
                                                "csrf_token": token})
    (cookie,) = [value for name, value in response.headers.items()
                 if name == "Set-Cookie" and value.startswith("crm_session=")]
    flags = {flag.strip().lower() for flag in cookie.split(";")[1:]}
    assert "httponly" in flags and "samesite=lax" in flags
    assert ("secure" in flags) is secure
    assert ("Strict-Transport-Security" in response.headers) is secure


def test_production_cookies_are_secure():
    app = make_app({"CRM_ENV": "production", "CRM_SECRET_KEY": "k" * 40})
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.test_client().get("/signin").headers["Strict-Transport-Security"]
