"""The web UI's sign-in, roles, CSRF and session access to /api/v1, with fakes: no servers.

The Google flow uses flask-dance's testing support (MemoryStorage holding the
token Google would have returned), so nothing calls Google."""
import base64
import json
import re
import time
from urllib.parse import parse_qs, urlparse

import pytest
from flask_dance.consumer.storage import MemoryStorage

from gateway.app import create_app
from gateway.config import GatewayConfig
from gateway.web.config import UnsafeConfiguration, WebConfig
from tests.support.web import SETTINGS, dev_sign_in, make_app

GOOGLE_ENV = {"GOOGLE_OAUTH_CLIENT_ID": "client-123", "GOOGLE_OAUTH_CLIENT_SECRET": "s3cret",
              "CRM_ALLOWED_EMAIL_DOMAINS": "shop.example", "CRM_ALLOWED_EMAILS": "friend@gmail.com",
              "CRM_ADMIN_EMAILS": "boss@shop.example", "CRM_DEFAULT_ROLE": "marketer"}


def meta_token(client, path="/"):
    page = client.get(path)
    return re.search(rb'name="csrf-token" content="([^"]+)"', page.data).group(1).decode()


def id_token(claims):
    def part(data):
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{part({'alg': 'RS256'})}.{part(claims)}.signature"


@pytest.mark.parametrize("env, problem", [
    ({"CRM_ENV": "production", "CRM_DEV_LOGIN": "1", "CRM_SECRET_KEY": "x" * 40}, "CRM_DEV_LOGIN"),
    ({"CRM_ENV": "production"}, "CRM_SECRET_KEY"),
])
def test_production_refuses_unsafe_settings(env, problem, monkeypatch):
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(UnsafeConfiguration, match=problem):
        create_app(GatewayConfig(settings=SETTINGS))


def test_production_cookies_are_secure_and_http_only():
    app, _ = make_app({"CRM_ENV": "production", "CRM_SECRET_KEY": "k" * 40})
    assert app.config["SESSION_COOKIE_SECURE"] and app.config["SESSION_COOKIE_HTTPONLY"]
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_pages_send_strangers_to_sign_in():
    app, _ = make_app({"CRM_DEV_LOGIN": "1"})
    response = app.test_client().get("/campaigns")
    assert response.status_code == 302 and response.headers["Location"].startswith("/signin")


def test_dev_sign_in_is_off_unless_enabled():
    app, _ = make_app({})
    client = app.test_client()
    assert b"Development sign-in" not in client.get("/signin").data
    token = meta_token(client, "/signin")
    response = client.post("/signin/dev", data={"email": "a@example.com", "role": "admin",
                                                "csrf_token": token})
    assert response.status_code == 404


def test_a_form_posted_without_its_csrf_token_is_refused():
    app, _ = make_app({"CRM_DEV_LOGIN": "1"})
    client = app.test_client()
    refused = client.post("/signin/dev", data={"email": "m@example.com", "role": "marketer"})
    assert refused.status_code == 400 and b"This form has expired" in refused.data
    assert client.get("/").status_code == 302  # still signed out
    assert dev_sign_in(client, "marketer").status_code == 302
    assert client.get("/").status_code == 200
    assert client.post("/signout").status_code == 400  # sign-out is a form too
    assert client.get("/").status_code == 200


def test_sign_out_ends_the_session():
    app, _ = make_app({"CRM_DEV_LOGIN": "1"})
    client = app.test_client()
    dev_sign_in(client, "viewer")
    token = meta_token(client)
    assert client.post("/signout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302
    assert client.get("/api/v1/campaigns").status_code == 401


def test_session_calls_to_the_api_need_the_csrf_header_and_the_role():
    app, http = make_app({"CRM_DEV_LOGIN": "1"})
    client = app.test_client()
    assert client.post("/api/v1/campaigns", json={}).status_code == 401
    dev_sign_in(client, "marketer")
    token = meta_token(client)
    stale = client.post("/api/v1/campaigns", json={"name": "x"})
    assert stale.status_code == 403 and stale.get_json()["error"]["code"] == "CSRF_FAILED"
    assert http.calls == []
    launched = client.post("/api/v1/campaigns", json={"name": "x"}, headers={"X-CSRFToken": token})
    assert launched.status_code == 201
    method, url, headers = http.calls[-1]
    assert (method, url) == ("POST", "http://campaigns.test/api/v1/campaigns")
    assert headers["X-Api-Key-Id"] == "user:marketer@example.com"


def test_a_viewer_reads_and_previews_but_cannot_launch():
    app, http = make_app({"CRM_DEV_LOGIN": "1"})
    client = app.test_client()
    dev_sign_in(client, "viewer")
    token = meta_token(client)
    refused = client.post("/api/v1/campaigns", json={}, headers={"X-CSRFToken": token})
    assert refused.status_code == 403 and refused.get_json()["error"]["code"] == "FORBIDDEN"
    retry = client.post("/api/v1/campaigns/c1/retry-failed", headers={"X-CSRFToken": token})
    assert retry.status_code == 403
    assert http.calls == []
    assert client.get("/api/v1/campaigns").status_code == 201  # the fake answers 201 to all
    assert client.post("/api/v1/segments/preview", json={"rules": {}},
                       headers={"X-CSRFToken": token}).status_code == 201
    assert b"Launch campaign" not in client.get("/campaigns/new").data


def test_google_sign_in_starts_at_google_with_our_client_id():
    app, _ = make_app(GOOGLE_ENV)
    response = app.test_client().get("/signin/google")
    location = urlparse(response.headers["Location"])
    assert location.netloc == "accounts.google.com"
    query = parse_qs(location.query)
    assert query["client_id"] == ["client-123"] and "openid" in query["scope"][0]
    assert query["hd"] == ["shop.example"]


@pytest.mark.parametrize("trusted_proxies, expected", [
    (1, "https://crm.shop.example/signin/google/authorized"),
    (0, "http://localhost/signin/google/authorized"),  # forwarded headers from anyone are ignored
])
def test_behind_a_tls_proxy_google_is_asked_to_return_over_https(trusted_proxies, expected):
    app = create_app(GatewayConfig(settings=SETTINGS, trusted_proxies=trusted_proxies),
                     WebConfig.from_env(GOOGLE_ENV))
    response = app.test_client().get("/signin/google", headers={
        "X-Forwarded-Proto": "https", "X-Forwarded-Host": "crm.shop.example"})
    assert parse_qs(urlparse(response.headers["Location"]).query)["redirect_uri"] == [expected]


def google_claims(**claims):
    """The claims of a current ID token Google issued to our client id, plus `claims`."""
    now = int(time.time())
    return {"iss": "https://accounts.google.com", "aud": "client-123", "azp": "client-123",
            "iat": now - 5, "exp": now + 3600, **claims}


def google_return(claims, env=GOOGLE_ENV):
    """What happens after Google sent back a token for an account with these claims."""
    app, _ = make_app(env)
    storage = MemoryStorage({"access_token": "fake", "token_type": "Bearer",
                             "id_token": id_token(claims)})
    app.blueprints["google"].storage = storage
    client = app.test_client()
    response = client.get("/signin/google/done")
    return client, response, storage


@pytest.mark.parametrize("email, role", [("ann@shop.example", "marketer"),
                                         ("boss@shop.example", "admin"),
                                         ("friend@gmail.com", "marketer")])
def test_google_accounts_that_are_allowed_get_in_with_their_role(email, role):
    client, response, storage = google_return(google_claims(email=email, email_verified=True,
                                                            name="Ann Example"))
    assert response.headers["Location"] == "/"
    page = client.get("/")
    assert page.status_code == 200 and f"role-{role}".encode() in page.data
    assert storage.get(None) is None  # the token is not kept


ANN = {"email": "ann@shop.example", "email_verified": True}


# Callables: times are taken when each test runs, not when the module is collected
# (a long run would otherwise age a token past its clock skew).
@pytest.mark.parametrize("claims", [
    lambda: google_claims(email="eve@elsewhere.example", email_verified=True),
    lambda: google_claims(email="ann@shop.example", email_verified=False),
    lambda: google_claims(email="ann@shop.example"),  # email_verified missing
    lambda: google_claims(email="ann@shop.example", email_verified=True, hd="elsewhere.example"),
    lambda: google_claims(),
    lambda: {},
    # The token must be Google's, for us, and current (OpenID Connect Core 3.1.3.7).
    lambda: {**ANN},
    lambda: google_claims(**ANN, iss="https://accounts.google.com.evil.example"),
    lambda: google_claims(**ANN, iss="http://accounts.google.com"),
    lambda: google_claims(**ANN, aud="someone-elses-client"),
    lambda: google_claims(**ANN, aud=["client-123", "other"], azp="other"),
    lambda: google_claims(**ANN, exp=int(time.time()) - 120),
    lambda: google_claims(**ANN, exp="tomorrow"),
    lambda: google_claims(**ANN, exp=None),
    lambda: google_claims(**ANN, iat=int(time.time()) + 600),
])
def test_google_accounts_that_are_not_allowed_stay_out(claims):
    client, response, _ = google_return(claims())
    assert response.headers["Location"] == "/signin"
    assert client.get("/").status_code == 302
    notice = client.get("/signin").data  # the flashed sentence, shown once
    assert b"cannot sign in" in notice or b"is not allowed to use this CRM" in notice


@pytest.mark.parametrize("claims", [
    lambda: google_claims(**ANN, iss="accounts.google.com"),  # Google uses both spellings
    lambda: google_claims(**ANN, aud=["other", "client-123"], azp="client-123"),
    lambda: google_claims(**ANN, exp=int(time.time()) - 20),  # within the clock skew allowed
    lambda: google_claims(email="ann@shop.example", email_verified="true"),
])
def test_a_token_google_issued_to_us_signs_in(claims):
    client, response, _ = google_return(claims())
    assert response.headers["Location"] == "/"
    assert client.get("/").status_code == 200
