"""CSRF holds on every form and every session call that changes something: without the
page's token, with a made-up one, or with another session's, the request is refused and
nothing is done. Forms: every POST rule of the url_map (so a new form cannot be forgotten)."""
import re

import pytest

from gateway import routes
from gateway.app import create_app
from gateway.config import GatewayConfig
from gateway.resources import resources
from gateway.web.config import WebConfig
from shared.config import Settings
from tests.support.gateway import OkHttp

SETTINGS = Settings(db_prefix="unit_gateway_csrf_unused", service_urls={
    "ingest": "http://ingest.test", "segments": "http://segments.test",
    "campaigns": "http://campaigns.test"})
# Answered without a session by design: one-click unsubscribe (RFC 8058) posts from mail
# clients, with neither a cookie nor a token; the signed token in the URL is the proof.
NO_SESSION_FORMS = {"/u/<path:token>"}


class FakeKeyStore:
    def __init__(self):
        self.created = []

    def create(self, name, scopes=None, rate_limit=None):
        self.created.append(name)
        return "crm_k1_secret"

    def list(self):
        return []

    def revoke(self, _key_id):
        self.created.append("revoked")
        return True

    def authenticate(self, _plaintext):
        return None


@pytest.fixture
def app():
    app = create_app(GatewayConfig(settings=SETTINGS, rate_limit=0),
                     WebConfig.from_env({"CRM_DEV_LOGIN": "1"}))
    with app.app_context():
        resources().provide(key_store=FakeKeyStore(), http=OkHttp())
    return app


def signed_in(app, role="admin"):
    client = app.test_client()
    page = client.get("/signin").data
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    assert client.post("/signin/dev", data={"email": f"{role}@example.com", "role": role,
                                            "csrf_token": token}).status_code == 302
    page = client.get("/").data
    return client, re.search(rb'name="csrf-token" content="([^"]+)"', page).group(1).decode()


def form_paths(app) -> list[str]:
    paths = []
    for rule in app.url_map.iter_rules():
        if "POST" in rule.methods and not rule.rule.startswith("/api/") \
                and rule.rule not in NO_SESSION_FORMS:
            paths.append(rule.build({name: "k1" for name in rule.arguments})[1])
    return sorted(paths)


def test_every_form_refuses_a_post_without_a_valid_token(app):
    client, _token = signed_in(app)
    _, other_token = signed_in(app)  # a token of another browser's session
    paths = form_paths(app)
    assert {"/signin/dev", "/signout", "/admin/api-keys", "/admin/api-keys/k1/revoke"} <= set(paths)
    for path in paths:
        for data in ({}, {"csrf_token": "made-up"}, {"csrf_token": other_token}):
            response = client.post(path, data={"name": "n", "scopes": ["admin"],
                                               "email": "x@example.com", "role": "admin", **data})
            assert response.status_code == 400, (path, data)
            assert b"This form has expired" in response.data
    with app.app_context():
        assert resources().key_store.created == []
    assert client.get("/admin/api-keys").status_code == 200  # still signed in as before


@pytest.mark.parametrize("method", routes.WRITE)
def test_every_session_call_that_changes_something_needs_the_pages_token(app, method):
    client, token = signed_in(app)
    _, other_token = signed_in(app)
    path = "/api/v1/campaigns/c1"
    for header in ({}, {"X-CSRFToken": "made-up"}, {"X-CSRFToken": other_token},
                   {"X-CSRF-Token": token}):
        response = client.open(path, method=method, json={}, headers=header)
        assert response.status_code == 403, (method, header)
        assert response.get_json()["error"]["code"] == "CSRF_FAILED"
    with app.app_context():
        assert resources().http.calls == []
    assert client.open(path, method=method, json={},
                       headers={"X-CSRFToken": token}).status_code == 200


def test_a_cookie_never_stands_in_for_a_key(app):
    client, token = signed_in(app)
    response = client.post("/api/v1/campaigns", json={}, headers={
        "Authorization": "Bearer crm_nokey_secret", "X-CSRFToken": token})
    assert response.status_code == 401
