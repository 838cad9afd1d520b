"""The auth matrix over every /api/v1 route of the gateway's table (gateway/routes.py) and
every /api/v1 rule of its url_map: no key, a malformed header, an unknown or revoked key get
401; a key without the route's scope gets 403; nothing is forwarded unless the key may.
(tests/e2e/test_gateway_security_e2e.py runs the same matrix over the live OpenAPI document.)"""
import pytest

from gateway import routes
from gateway.api_keys import SCOPES, ApiKey
from gateway.app import create_app
from gateway.config import GatewayConfig
from gateway.resources import resources
from shared.config import Settings
from tests.support.gateway import OkHttp

SETTINGS = Settings(db_prefix="unit_gateway_matrix_unused", service_urls={
    "ingest": "http://ingest.test", "segments": "http://segments.test",
    "campaigns": "http://campaigns.test"})
ADMIN_KEY = "crm_adminkey_secret"
REVOKED_KEY = "crm_revokedkey_secret"
MALFORMED = ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "crm_adminkey_secret",
             "Bearer not-a-key", "Bearer crm__", "Token crm_adminkey_secret"]


def without(scope: str) -> str:
    return f"crm_no{scope.replace(':', '')}_secret"


class FakeKeyStore:
    """Known keys: an admin key and, per scope, a key holding every other scope but admin."""

    def __init__(self):
        self.keys = {ADMIN_KEY: ApiKey("adminkey", "admin", frozenset({"admin"}))}
        for scope in SCOPES:
            others = frozenset(s for s in SCOPES if s not in (scope, "admin"))
            self.keys[without(scope)] = ApiKey(f"no{scope}", scope, others)
        self.revoked = {REVOKED_KEY}

    def authenticate(self, plaintext):
        return None if plaintext in self.revoked else self.keys.get(plaintext)


def concrete(pattern: str) -> str:
    return pattern.replace("/**", "/x1/deeper").replace("*", "x1")


def calls() -> list[tuple[str, str, str]]:
    """(method, path, scope needed) for every method of every route in the table."""
    found = []
    for route in routes.ROUTES:
        for method in route.methods:
            found.append((method, concrete(route.pattern), route.scope))
            if route.pattern.endswith("/**"):
                found.append((method, route.pattern[:-3], route.scope))
    return found


@pytest.fixture
def gateway():
    app = create_app(GatewayConfig(settings=SETTINGS, rate_limit=0))
    http = OkHttp()
    with app.app_context():
        resources().provide(key_store=FakeKeyStore(), http=http)
    return app.test_client(), http


def send(client, method, path, authorization=None):
    headers = {"Authorization": authorization} if authorization is not None else {}
    return client.open(path, method=method, headers=headers, json={} if method in routes.WRITE
                       else None)


def test_the_table_covers_every_api_rule_of_the_url_map():
    app = create_app(GatewayConfig(settings=SETTINGS, rate_limit=0))
    api_rules = {rule.rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api/v1")}
    # The gateway's own routes are public by API.md; everything else goes through the proxy.
    assert api_rules == {"/api/v1/<path:rest>", "/api/v1/healthz", "/api/v1/readyz",
                         "/api/v1/openapi.json"}
    assert {method for route in routes.ROUTES for method in route.methods} == {
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}


@pytest.mark.parametrize("method, path, scope", calls())
def test_a_caller_without_a_valid_key_is_401(gateway, method, path, scope):
    client, http = gateway
    for authorization in [None, *MALFORMED, "Bearer crm_unknown_secret",
                          f"Bearer {REVOKED_KEY}"]:
        response = send(client, method, path, authorization)
        assert response.status_code == 401, (method, path, authorization)
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
        if method != "HEAD":
            assert response.get_json()["error"]["code"] == "UNAUTHORIZED"
    assert http.calls == []


@pytest.mark.parametrize("method, path, scope", calls())
def test_a_key_without_the_scope_is_403_and_with_it_passes(gateway, method, path, scope):
    client, http = gateway
    refused = send(client, method, path, f"Bearer {without(scope)}")
    assert refused.status_code == 403, (method, path, scope)
    if method != "HEAD":
        assert refused.get_json()["error"]["details"]["required_scope"] == scope
    assert http.calls == []
    assert send(client, method, path, f"Bearer {ADMIN_KEY}").status_code == 200
    service = routes.resolve(method, routes.split_path(path)).service
    assert http.calls == [(method, SETTINGS.service_urls[service] + path)]
