"""Every process of the suite answers /metrics with real figures after real traffic,
with the suite started in production mode (secrets from the environment, as
deploy/docker-compose.yml passes them): customers ingested, an audience previewed,
a campaign sent and reported. The gateway's /metrics needs CRM_METRICS_TOKEN."""
from __future__ import annotations

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from crm.processes import HTTP_APPS, WORKERS
from crm.seed import generate_customers
from tests.support.campaigns import post_customers, wait_audience, watch_until_completed
from tests.support.suite import api_session, running_suite

# The first test's setup starts a suite of its own and runs a campaign through it.
pytestmark = pytest.mark.timeout(900)
TOKEN = "e2e-metrics-token"
PRODUCTION = {"CRM_ENV": "production", "CRM_SECRET_KEY": "e2e-" + "k" * 40,
              "CRM_WEBHOOK_SECRET": "e2e-webhook-" + "w" * 32, "CRM_METRICS_TOKEN": TOKEN,
              "CRM_UNSUBSCRIBE_SECRET": "e2e-unsubscribe-" + "u" * 32, "CRM_DEV_LOGIN": ""}
CITY = "Metricsabad"
AUDIENCE = 300
RULES = {"field": "city", "op": "eq", "value": CITY}


@pytest.fixture(scope="module")
def traffic():
    """A production-mode suite after a campaign to AUDIENCE customers, and its campaign."""
    with running_suite("metrics", extra_env=PRODUCTION) as (stack, settings):
        api = api_session(stack, settings, "metrics-e2e")
        customers = generate_customers(AUDIENCE, seed=12, prefix="metrics-")
        for customer in customers:
            customer["city"] = CITY
        post_customers(api, customers)
        wait_audience(api, RULES, AUDIENCE)
        created = api.post(f"{api.base_url}/api/v1/campaigns", timeout=30, json={
            "name": "Metrics", "rules": RULES, "message": "Hi {first_name|there}!"})
        assert created.status_code == 201, created.text
        campaign = watch_until_completed(api, created.json()["id"])
        urls = {child.name: child.process.metrics_url for child in stack.supervisor.children}
        yield urls, campaign


def scrape(url: str, **headers: str) -> dict[str, list]:
    response = requests.get(url, headers=headers, timeout=10)
    assert response.status_code == 200, (url, response.status_code, response.text[:300])
    samples: dict[str, list] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append(sample)
    return samples


def total(samples: dict[str, list], name: str, **labels: str) -> float:
    return sum(s.value for s in samples.get(name, [])
               if all(s.labels.get(k) == v for k, v in labels.items()))


def test_every_process_has_a_metrics_address(traffic):
    urls, _ = traffic
    assert set(urls) == set(HTTP_APPS) | set(WORKERS)
    assert all(url and url.endswith("/metrics") for url in urls.values())


def test_the_gateways_metrics_need_the_token(traffic):
    urls, _ = traffic
    assert requests.get(urls["gateway"], timeout=10).status_code == 401
    wrong = requests.get(urls["gateway"], headers={"Authorization": "Bearer nope"}, timeout=10)
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "UNAUTHORIZED"
    samples = scrape(urls["gateway"], Authorization=f"Bearer {TOKEN}")
    # Routed calls counted by route template (never by raw path) and status.
    assert total(samples, "crm_http_requests_total", service="gateway", method="POST",
                 status="202") >= 1
    routes = {s.labels["route"] for s in samples["crm_http_requests_total"]}
    assert not any(CITY in route or "metrics-" in route for route in routes)
    assert total(samples, "crm_http_request_duration_seconds_count", service="gateway") > 0


def test_each_service_counts_its_requests_and_events(traffic):
    urls, campaign = traffic
    ingest = scrape(urls["ingest"])
    assert total(ingest, "crm_http_requests_total", service="ingest", method="POST",
                 status="202") >= 1
    assert total(ingest, "crm_events_published_total", event_type="customer.upserted") >= AUDIENCE

    segments = scrape(urls["segments"])
    assert total(segments, "crm_http_requests_total", service="segments", method="POST") >= 1
    assert total(segments, "crm_audience_preview_seconds_count") >= 1  # wait_audience previews
    assert total(segments, "crm_audience_index_profiles") >= AUDIENCE

    campaigns = scrape(urls["campaigns"])
    assert total(campaigns, "crm_http_requests_total", service="campaigns", method="POST",
                 status="201") == 1

    vendor = scrape(urls["vendor_sim"])
    assert total(vendor, "crm_http_requests_total", service="vendor_sim", method="POST") >= 1

    receipts = scrape(urls["receipts"])
    assert total(receipts, "crm_http_requests_total", service="receipts", method="POST") >= 1
    assert total(receipts, "crm_events_published_total", event_type="deliveries.reported") >= 1


def test_each_worker_serves_its_figures_on_its_port(traffic):
    urls, campaign = traffic
    audience = campaign["stats"]["audience_size"]
    projector = scrape(urls["segments-projector"])
    assert total(projector, "crm_events_consumed_total", event_type="customer.upserted") >= AUDIENCE
    assert total(projector, "crm_events_published_total", event_type="profile.updated") >= AUDIENCE
    assert "crm_queue_messages" in projector  # its queue's depth, read by the consumer loop

    dispatcher = scrape(urls["campaigns-dispatcher"])
    assert total(dispatcher, "crm_events_consumed_total", event_type="audience.chunk") >= 1
    assert total(dispatcher, "crm_events_published_total", event_type="messages.queued") >= 1

    sender = scrape(urls["campaigns-sender"])
    assert total(sender, "crm_messages_sent_total") >= audience  # a redelivered batch counts again
    assert total(sender, "crm_vendor_calls_total", outcome="accepted") >= 1
    assert total(sender, "crm_events_consumed_total", event_type="messages.queued") >= 1

    receipts = scrape(urls["receipts-consumer"])
    assert total(receipts, "crm_events_consumed_total", event_type="deliveries.reported") >= 1

    relay = scrape(urls["ingest-relay"])
    # Nothing was left to relay, so its backlog is 0; that it reports at all is the point.
    backlog = [s for s in relay["crm_outbox_pending_batches"]
               if s.labels["outbox"].endswith("_ingest")]
    assert backlog and backlog[0].value == 0
    assert total(relay, "process_resident_memory_bytes") > 0
