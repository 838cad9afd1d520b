"""The per-key rate limit with hand-written fake slots (the real store is
tests/integration/gateway/test_gateway_rate_limit.py): exact across workers, per window,
429 with Retry-After at the gateway, per-key limits, the web UI's session not limited."""
import re

import pytest

from gateway import rate_limit
from gateway.api_keys import ApiKey
from gateway.app import create_app
from gateway.config import GatewayConfig
from gateway.openapi import merged_spec
from gateway.rate_limit import RateLimiter, block_size
from gateway.resources import resources
from gateway.web.config import WebConfig
from shared.config import Settings
from shared.openapi import Operation, spec_for
from tests.support.gateway import OkHttp


class FakeSlots:
    """Slots shared by every limiter handed it, as the database is shared by every worker."""

    def __init__(self):
        self.taken: set[str] = set()
        self.claims = 0

    def claim(self, slot_id):
        self.claims += 1
        if slot_id in self.taken:
            return False
        self.taken.add(slot_id)
        return True

    def release(self, slot_ids):
        self.taken.difference_update(slot_ids)


class Clock:
    def __init__(self, now=1_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


@pytest.mark.parametrize("limit", [1, 7, 60, 1200, 10_000])
def test_workers_sharing_slots_never_admit_more_than_the_limit(limit):
    slots, clock = FakeSlots(), Clock()
    workers = [RateLimiter(slots, 60, clock) for _ in range(3)]
    admitted = sum(workers[i % 3].admit("k1", limit) is None for i in range(3 * limit + 50))
    assert limit - 3 * block_size(limit) < admitted <= limit
    assert slots.claims <= 3 * (limit // block_size(limit) + 1)  # one claim per block, not call


def test_a_new_window_admits_again_and_releases_the_old_blocks():
    slots, clock = FakeSlots(), Clock(60 * 1000 + 15)
    limiter = RateLimiter(slots, 60, clock)
    assert [limiter.admit("k1", 3) for _ in range(3)] == [None, None, None]
    assert limiter.admit("k1", 3) == 45  # seconds until the next window
    claims = slots.claims
    assert limiter.admit("k1", 3) == 45 and slots.claims == claims  # spent: no more claims
    clock.now += 45
    assert limiter.admit("k1", 3) is None
    assert slots.taken == {"k1:1001:0"}


def test_keys_are_limited_separately_and_zero_means_no_limit():
    limiter = RateLimiter(FakeSlots(), 60, Clock())
    assert limiter.admit("k1", 1) is None and limiter.admit("k1", 1) is not None
    assert limiter.admit("k2", 1) is None
    assert all(limiter.admit("k3", 0) is None for _ in range(100))


KEYS = {"crm_k1_s": ApiKey("k1", "default", frozenset({"admin"})),
        "crm_k2_s": ApiKey("k2", "own limit", frozenset({"admin"}), rate_limit=5)}


class FakeKeyStore:
    def authenticate(self, plaintext):
        return KEYS.get(plaintext)


@pytest.fixture
def gateway():
    settings = Settings(db_prefix="unit_rate_unused", service_urls={
        "ingest": "http://ingest.test", "segments": "http://segments.test",
        "campaigns": "http://campaigns.test"})
    app = create_app(GatewayConfig(settings=settings, rate_limit=3),
                     WebConfig.from_env({"CRM_DEV_LOGIN": "1"}))
    app.config["TESTING"] = True
    rate_limit.provide(app, RateLimiter(FakeSlots(), 60, Clock(59.0)))
    with app.app_context():
        resources().provide(key_store=FakeKeyStore(), http=OkHttp())
    return app.test_client()


def calls(client, key, count):
    return [client.get("/api/v1/campaigns", headers={"Authorization": f"Bearer {key}"})
            for _ in range(count)]


def test_past_the_limit_the_gateway_answers_429_with_retry_after(gateway):
    answers = calls(gateway, "crm_k1_s", 5)
    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    refused = answers[-1]
    assert refused.headers["Retry-After"] == "1"
    error = refused.get_json()["error"]
    assert error["code"] == "RATE_LIMITED"
    assert error["details"] == {"limit": 3, "window_seconds": 60.0, "retry_after_seconds": 1}


def test_a_keys_own_limit_wins_over_the_default(gateway):
    assert [a.status_code for a in calls(gateway, "crm_k2_s", 6)] == [200] * 5 + [429]


def test_unknown_keys_are_401_before_any_limit(gateway):
    assert {a.status_code for a in calls(gateway, "crm_nobody_s", 5)} == {401}


def test_the_web_uis_session_calls_are_not_limited_by_api_key_limits(gateway):
    page = gateway.get("/signin")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    gateway.post("/signin/dev", data={"email": "m@example.com", "role": "marketer",
                                      "csrf_token": token})
    assert {gateway.get("/api/v1/campaigns").status_code for _ in range(10)} == {200}


def test_the_openapi_document_gives_every_routed_call_its_429_and_503_with_retry_after():
    fragment = spec_for("Campaigns", [Operation("/api/v1/campaigns", "get", "List"),
                                      Operation("/api/v1/campaigns", "post", "Create")])
    spec = merged_spec({"campaigns": fragment})
    for operation in spec["paths"]["/api/v1/campaigns"].values():
        for status in ("429", "503"):
            answer = operation["responses"][status]
            assert "Retry-After" in answer["headers"]
            assert answer["content"]["application/json"]["schema"]["$ref"].endswith("/Error")
    assert "RATE_LIMITED" in spec["paths"]["/api/v1/campaigns"]["get"]["responses"]["429"][
        "description"]
