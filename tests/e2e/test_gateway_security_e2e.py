"""Security of the whole suite, started as `crm up` starts it, with its logs captured:

- the auth matrix over every /api/v1 operation of the live OpenAPI document (so a route a
  service adds is covered the day it is documented): no key, a malformed header, an
  unknown key, a revoked key -> 401; a key without the operation's scope -> 403;
- a small flow (ingest, preview, a campaign with its vendor receipts, a web UI session);
- then no API key, key secret, session secret, webhook secret, unsubscribe secret or
  session cookie appears in any log line of any process."""
from __future__ import annotations

import contextlib
import io
import re
import secrets

import pytest
import requests

from gateway.api_keys import SCOPES, open_store
from tests.support.campaigns import wait_audience, watch_until_completed
from tests.support.suite import running_suite

pytestmark = pytest.mark.e2e
SECRETS_ENV = {name: secrets.token_hex(24) for name in (
    "CRM_SECRET_KEY", "CRM_WEBHOOK_SECRET", "CRM_UNSUBSCRIBE_SECRET", "CRM_METRICS_TOKEN")}
CITY = "Logpur"


@pytest.fixture(scope="module")
def logged_suite():
    """(gateway url, settings, captured log text) of a suite logging at INFO."""
    logs = io.StringIO()
    suite = running_suite("sec", {"CRM_LOG_LEVEL": "INFO", "CRM_DEV_LOGIN": "1", **SECRETS_ENV})
    with contextlib.redirect_stdout(logs):  # the suite's Output writes where stdout was
        stack, settings = suite.__enter__()
    try:
        yield stack.gateway_url, settings, logs
    finally:
        suite.__exit__(None, None, None)


@pytest.fixture(scope="module")
def keys(logged_suite):
    """'all', 'revoked', and per scope a key with every other scope (never admin)."""
    _, settings, _ = logged_suite
    store = open_store(settings, cache_seconds=0)
    made = {"all": store.create("everything", list(SCOPES)), "revoked": store.create("gone")}
    store.revoke(made["revoked"])
    for scope in SCOPES:
        made[scope] = store.create(f"all but {scope}",
                                   [s for s in SCOPES if s not in (scope, "admin")])
    store.close()
    return made


def operations(gateway: str) -> list[tuple[str, str, str]]:
    """(method, concrete path, scope) of every keyed /api/v1 operation the gateway documents."""
    spec = requests.get(f"{gateway}/openapi.json", timeout=30).json()
    assert not spec.get("x-missing-services"), spec.get("x-missing-services")
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or not path.startswith("/api/v1/"):
                continue
            if operation.get("security") == []:  # health and this document: public by API.md
                continue
            found.append((method.upper(), re.sub(r"\{[^}]+\}", "x1", path),
                          operation["x-required-scope"]))
    return found


def call(gateway, method, path, authorization=None):
    headers = {"Authorization": authorization} if authorization is not None else {}
    body = {} if method in ("POST", "PUT", "PATCH") else None
    return requests.request(method, gateway + path, headers=headers, json=body, timeout=30)


def test_every_documented_operation_refuses_bad_keys_and_missing_scopes(logged_suite, keys):
    gateway = logged_suite[0]
    found = operations(gateway)
    assert len(found) >= 20 and {"POST", "GET", "DELETE"} <= {m for m, _, _ in found}
    refusals = [None, "", "Basic dXNlcjpwYXNz", "Bearer", "Bearer not-a-key",
                keys["all"], f"Bearer crm_{'0' * 16}_{'0' * 64}", f"Bearer {keys['revoked']}"]
    for method, path, scope in found:
        for authorization in refusals:
            answer = call(gateway, method, path, authorization)
            assert answer.status_code == 401, (method, path, authorization, answer.text)
            assert answer.json()["error"]["code"] == "UNAUTHORIZED"
        answer = call(gateway, method, path, f"Bearer {keys[scope]}")
        assert answer.status_code == 403, (method, path, scope, answer.text)
        assert answer.json()["error"]["details"]["required_scope"] == scope


def web_session(gateway: str) -> requests.Session:
    browser = requests.Session()
    page = browser.get(f"{gateway}/signin", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    browser.post(f"{gateway}/signin/dev", timeout=30,
                 data={"email": "boss@example.com", "role": "admin", "csrf_token": token})
    page = browser.get(f"{gateway}/", timeout=30).text
    browser.headers["X-CSRFToken"] = re.search(r'name="csrf-token" content="([^"]+)"',
                                               page).group(1)
    return browser


def test_no_key_or_secret_reaches_any_log_line(logged_suite, keys):
    gateway, _settings, logs = logged_suite
    api = requests.Session()
    api.headers["Authorization"] = f"Bearer {keys['all']}"
    api.base_url = gateway
    customers = [{"external_id": f"log-{i}", "name": f"Log Person {i}", "city": CITY,
                  "email": f"log{i}@example.com"} for i in range(20)]
    assert api.post(f"{gateway}/api/v1/customers", json={"records": customers},
                    timeout=30).status_code == 202
    rules = {"field": "city", "op": "eq", "value": CITY}
    wait_audience(api, rules, len(customers))
    created = api.post(f"{gateway}/api/v1/campaigns", timeout=30, json={
        "name": "Log check", "rules": rules, "message": "Hi {first_name|there}"})
    assert created.status_code == 201, created.text
    watch_until_completed(api, created.json()["id"], timeout=120)  # receipts arrived, signed
    browser = web_session(gateway)
    assert browser.post(f"{gateway}/api/v1/segments/preview", json={"rules": rules},
                        timeout=30).status_code == 200
    assert call(gateway, "GET", "/api/v1/campaigns", f"Bearer {keys['revoked']}").status_code == 401

    text = logs.getvalue()
    assert "gateway" in text and "proxied" in text  # INFO lines of the processes were read
    forbidden = {**SECRETS_ENV, "session cookie": browser.cookies["crm_session"]}
    for name, key in keys.items():
        forbidden[f"key {name}"] = key
        forbidden[f"secret of key {name}"] = key.rsplit("_", 1)[1]
    leaked = [name for name, value in forbidden.items() if value in text]
    assert leaked == [], leaked
