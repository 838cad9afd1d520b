"""Consent and suppression routes of ingest: each change is one event in the log; bad input
changes nothing."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ingest.app import create_app
from ingest.config import IngestConfig

from shared.backbone import events
from tests.support.fakes import FakeIngestDependencies as FakeDependencies
from tests.support.fakes import FakeIngestStore as FakeStore
from tests.support.fakes import FakeProfiles

PROFILE = {"_id": "c-1", "external_id": "c-1", "name": "Asha Rao", "email": "a@example.com",
           "phone": None, "city": "Pune", "tags": ["vip"], "signed_up_at": None, "visits": 2,
           "last_visit_at": None, "total_spend": 10.0, "order_count": 1,
           "last_order_at": datetime(2024, 5, 1, tzinfo=UTC),
           "last_active_at": datetime(2024, 5, 1, tzinfo=UTC),
           "marketing_consent": "subscribed", "marketing_consent_at": None, "suppressed": True,
           "suppression_reason": "INVALID_NUMBER",
           "suppressed_since": datetime(2024, 6, 1, tzinfo=UTC),
           "suppression_campaign_id": "cmp1"}


@pytest.fixture
def dependencies():
    return FakeDependencies(store=FakeStore(customers={"c-1", "c-2"}),
                            profiles=FakeProfiles({"c-1": PROFILE}))


@pytest.fixture
def client(dependencies):
    return create_app(IngestConfig(), dependencies=dependencies).test_client()


def logged(dependencies) -> list[dict]:
    return dependencies.event_log.published


@pytest.mark.parametrize("action, consent", [("unsubscribe", "unsubscribed"),
                                             ("subscribe", "subscribed")])
def test_a_consent_change_is_one_event_and_answers_the_profile(client, dependencies, action,
                                                               consent):
    response = client.post(f"/api/v1/customers/c-1/{action}")
    assert response.status_code == 200
    body = response.get_json()
    assert body["marketing_consent"] == consent and body["city"] == "Pune"
    assert body["last_order_at"] == "2024-05-01T00:00:00.000Z"
    [event] = logged(dependencies)
    assert event["event_type"] == events.CUSTOMER_CONSENT_CHANGED
    assert event["data"] == {"external_id": "c-1", "marketing_consent": consent,
                             "source": "api", "campaign_id": None}
    assert body["marketing_consent_at"].startswith(event["occurred_at"][:19])
    assert events.upcast(event)["data"]["marketing_consent"] == consent


def test_a_customer_not_projected_yet_still_changes(client, dependencies):
    response = client.post("/api/v1/customers/c-2/unsubscribe")
    assert response.status_code == 200
    assert response.get_json()["marketing_consent"] == "unsubscribed"
    assert len(logged(dependencies)) == 1


def test_the_link_names_its_campaign(client, dependencies):
    response = client.post("/internal/v1/unsubscribe-link",
                           json={"customer_external_id": "c-1", "campaign_id": "cmp7"})
    assert response.status_code == 200
    [event] = logged(dependencies)
    assert event["data"]["source"] == "link" and event["data"]["campaign_id"] == "cmp7"


@pytest.mark.parametrize("method, path, body, status, code", [
    ("post", "/api/v1/customers/nobody/unsubscribe", None, 404, "CUSTOMER_NOT_FOUND"),
    ("post", "/internal/v1/unsubscribe-link", {"customer_external_id": "c-1"}, 400,
     "INVALID_BODY"),
    ("post", "/internal/v1/unsubscribe-link", {"customer_external_id": "nobody",
                                               "campaign_id": "x"}, 404, "CUSTOMER_NOT_FOUND"),
    ("delete", "/api/v1/suppressions/nobody", None, 404, "CUSTOMER_NOT_FOUND"),
    ("delete", "/api/v1/suppressions/c-2", None, 404, "CUSTOMER_NOT_FOUND"),
])
def test_bad_input_gets_the_error_body_and_logs_nothing(client, dependencies, method, path, body,
                                                        status, code):
    response = getattr(client, method)(path, json=body)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == code
    assert logged(dependencies) == []


def test_lifting_a_suppression_is_one_event_and_only_for_a_suppressed_customer(client,
                                                                                dependencies):
    assert client.delete("/api/v1/suppressions/c-1").status_code == 204
    [event] = logged(dependencies)
    assert event["event_type"] == events.CUSTOMER_SUPPRESSION_LIFTED
    assert event["data"] == {"external_id": "c-1"}
    dependencies.profiles.documents["c-1"] = {**PROFILE, "suppressed": False}
    response = client.delete("/api/v1/suppressions/c-1")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "SUPPRESSION_NOT_FOUND"
    assert len(logged(dependencies)) == 1
