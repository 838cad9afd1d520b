"""The per-key rate limit across two gateway instances (separate key caches and limiters, as
two replicas or gunicorn workers have) sharing the real database: under concurrent calls
through both, a window never admits more than the limit, and past it every answer is 429
RATE_LIMITED with Retry-After. A tiny real HTTP service stands behind both."""
from __future__ import annotations

import dataclasses
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from flask import Flask, jsonify

from gateway import rate_limit
from gateway.api_keys import open_store
from gateway.app import create_app
from gateway.config import GatewayConfig
from gateway.resources import resources
from shared import mongo
from shared.config import Settings
from tests.support.http_server import ServedApp

pytestmark = pytest.mark.integration
# One window for the whole test (it ends in 2033): no window can end mid-test.
WINDOW_SECONDS = 1e9
CALLERS_PER_GATEWAY = 4


def service() -> Flask:
    app = Flask("stand_in_service")

    @app.get("/api/v1/campaigns")
    def campaigns():
        return jsonify({"items": [], "next_cursor": None})

    return app


@pytest.fixture
def replicas():
    tag = uuid.uuid4().hex[:10]
    settings = dataclasses.replace(Settings.from_env(), db_prefix=f"t_gwrate_{tag}")
    backend = ServedApp(service())
    routed = dataclasses.replace(settings, service_urls={**settings.service_urls,
                                                         "campaigns": backend.url})
    config = GatewayConfig(settings=routed, rate_window_seconds=WINDOW_SECONDS)
    apps = [create_app(config), create_app(config)]
    gateways = [ServedApp(app) for app in apps]
    store = open_store(settings, cache_seconds=0)
    yield [g.url for g in gateways], store
    for served in (*gateways, backend):
        served.close()
    for app in apps:
        with app.app_context():
            resources().close()
    store.close()
    client = mongo.connect(settings)
    client.drop_database(settings.database_name("gateway"))
    client.close()


def hammer(urls: list[str], key: str, calls_each: int) -> list[requests.Response]:
    """`calls_each` calls from each of CALLERS_PER_GATEWAY threads on every gateway."""
    targets = [url for url in urls for _ in range(CALLERS_PER_GATEWAY)]

    def caller(url):
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {key}"
            return [session.get(f"{url}/api/v1/campaigns", timeout=30) for _ in range(calls_each)]

    with ThreadPoolExecutor(len(targets)) as pool:
        return [answer for answers in pool.map(caller, targets) for answer in answers]


@pytest.mark.parametrize("limit", [40, 250])  # one slot per claim, then blocks of 5
def test_two_gateways_never_admit_more_than_the_limit(replicas, limit):
    urls, store = replicas
    key = store.create("rate-limited", rate_limit=limit)
    calls_each = limit // 4  # twice the limit in all
    answers = hammer(urls, key, calls_each)
    statuses = [answer.status_code for answer in answers]
    assert set(statuses) <= {200, 429}
    admitted = statuses.count(200)
    block = rate_limit.block_size(limit)
    # Exact at most; at least all but one block per gateway (a block's unused slots are lost).
    assert limit - len(urls) * block < admitted <= limit
    for answer in answers:
        if answer.status_code == 429:
            assert answer.json()["error"]["code"] == "RATE_LIMITED"
            assert int(answer.headers["Retry-After"]) > 0
    # Spent on both gateways for the rest of the window.
    assert {a.status_code for a in hammer(urls, key, 1)} == {429}


def test_another_key_is_not_held_back_by_a_spent_one(replicas):
    urls, store = replicas
    spent, fresh = store.create("spent", rate_limit=2), store.create("fresh", rate_limit=50)
    hammer(urls, spent, 2)
    assert {a.status_code for a in hammer(urls, fresh, 3)} == {200}
