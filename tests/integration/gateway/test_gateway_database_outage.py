"""The database goes away under load and comes back: every request during the outage is a
503 DEPENDENCY_UNAVAILABLE with Retry-After (never a 500), and the same processes serve
again afterwards by themselves. Real FerretDB, reached through the project's fault proxy
(refuse new connections and reset the open ones, as a restart does); real ingest and
gateway apps served over HTTP, as gunicorn would."""
from __future__ import annotations

import dataclasses
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import pytest
import requests
from ingest.app import create_app as create_ingest
from ingest.config import IngestConfig

from gateway.api_keys import open_store
from gateway.app import create_app as create_gateway
from gateway.config import GatewayConfig
from gateway.resources import resources
from shared import mongo
from shared.config import Settings
from tests.support.faultproxy import FaultProxy
from tests.support.http_server import ServedApp

pytestmark = pytest.mark.integration
CALLERS = 6
CALLS_EACH = 3  # per caller during the outage: 18 requests, each waits out server selection


@pytest.fixture
def outage():
    """(proxy, gateway without a key cache, gateway whose cache already holds the key, key)."""
    tag = uuid.uuid4().hex[:10]
    direct = dataclasses.replace(
        Settings.from_env(), db_prefix=f"t_gwout_{tag}", queue_prefix=f"t-gwout-{tag}.",
        exchange=f"t-gwout-{tag}.events", dead_letter_exchange=f"t-gwout-{tag}.dead")
    database = urlsplit(direct.mongo_url)
    proxy = FaultProxy(database.hostname or "127.0.0.1", database.port or 27017).start()
    settings = dataclasses.replace(direct, mongo_url=f"mongodb://127.0.0.1:{proxy.port}")
    store = open_store(direct)
    key = store.create("outage-test")
    store.close()
    ingest_app = create_ingest(dataclasses.replace(IngestConfig.from_env(), settings=settings,
                                                   publish_retry_seconds=0.2))
    ingest = ServedApp(ingest_app)
    routed = dataclasses.replace(settings, service_urls={**settings.service_urls,
                                                         "ingest": ingest.url})
    uncached = create_gateway(GatewayConfig(settings=routed, key_cache_seconds=0))
    cached = create_gateway(GatewayConfig(settings=routed, key_cache_seconds=3600))
    gateways = [ServedApp(uncached), ServedApp(cached)]
    yield proxy, gateways[0].url, gateways[1].url, key, uncached
    for served in (*gateways, ingest):
        served.close()
    for app in (uncached, cached):
        with app.app_context():
            resources().close()
    ingest_app.extensions["ingest"].dependencies.close()
    proxy.stop()
    client = mongo.connect(direct)
    for service in ("gateway", "ingest"):
        client.drop_database(direct.database_name(service))
    client.close()


def post_customer(gateway_url: str, key: str, number: int) -> requests.Response:
    return requests.post(f"{gateway_url}/api/v1/customers", timeout=30,
                         headers={"Authorization": f"Bearer {key}"},
                         json={"external_id": f"c-{number}", "name": f"Customer {number}",
                               "email": f"c{number}@example.com"})


def under_load(gateway_url: str, key: str, first: int) -> list[requests.Response]:
    numbers = range(first, first + CALLERS * CALLS_EACH)
    with ThreadPoolExecutor(CALLERS) as pool:
        return list(pool.map(lambda n: post_customer(gateway_url, key, n), numbers))


def assert_all_unavailable(answers: list[requests.Response]) -> None:
    assert [a.status_code for a in answers] == [503] * len(answers)
    for answer in answers:
        assert answer.json()["error"]["code"] == "DEPENDENCY_UNAVAILABLE"
        assert int(answer.headers["Retry-After"]) > 0


def recovered(gateway_url: str, key: str, patience: float = 60.0) -> bool:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if post_customer(gateway_url, key, 0).status_code == 202:
            return True
        time.sleep(0.5)
    return False


def test_a_database_outage_is_503_everywhere_and_recovers_by_itself(outage):
    proxy, uncached, cached, key, gateway_app = outage
    assert [a.status_code for a in under_load(uncached, key, 1)] == [202] * CALLERS * CALLS_EACH
    assert post_customer(cached, key, 100).status_code == 202  # the key is in its cache now

    proxy.refuse()
    proxy.cut()
    # The gateway cannot check the key: its own 503.
    assert_all_unavailable(under_load(uncached, key, 200))
    # The key is cached, so the call reaches ingest, which cannot write: its 503, passed on.
    assert_all_unavailable(under_load(cached, key, 300))
    assert requests.get(f"{uncached}/readyz", timeout=30).status_code == 503
    with gateway_app.test_client() as browser:  # a web UI page that reads the key store
        with browser.session_transaction() as session:
            session["user"] = {"email": "boss@example.com", "name": "Boss", "role": "admin",
                               "via": "development"}
        page = browser.get("/admin/api-keys")
        assert page.status_code == 503 and page.mimetype == "text/html"
        assert int(page.headers["Retry-After"]) > 0

    proxy.accept()
    assert recovered(uncached, key) and recovered(cached, key)
    assert [a.status_code for a in under_load(uncached, key, 400)] == [202] * CALLERS * CALLS_EACH
    assert [a.status_code for a in under_load(cached, key, 500)] == [202] * CALLERS * CALLS_EACH
