"""The ingest HTTP routes through Flask's test client, with fakes behind create_app."""
from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from ingest.app import create_app
from ingest.config import IngestConfig
from pymongo.errors import ServerSelectionTimeoutError

from tests.support.fakes import FakeIngestDependencies as FakeDependencies
from tests.support.fakes import FakeIngestStore as FakeStore


@pytest.fixture
def dependencies():
    return FakeDependencies(store=FakeStore(customers={"c-1"}))


@pytest.fixture
def config():
    return IngestConfig(max_records=3, max_body_bytes=64 * 1024)


@pytest.fixture
def client(config, dependencies):
    return create_app(config, dependencies=dependencies).test_client()


def customer(external_id="c-9", **fields):
    return {"external_id": external_id, "name": "Ravi", "email": "ravi@example.com", **fields}


def order(external_id="o-1", **fields):
    return {"external_id": external_id, "customer_external_id": "c-1", "amount": 250,
            "placed_at": "2024-05-01T09:00:00Z", **fields}


def assert_error(response, status, code):
    assert response.status_code == status
    assert response.is_json
    assert set(response.json) == {"error"}
    assert response.json["error"]["code"] == code
    assert isinstance(response.json["error"]["message"], str)
    assert isinstance(response.json["error"]["details"], dict)


def test_one_customer_object_is_accepted(client, dependencies):
    response = client.post("/api/v1/customers", json=customer())
    assert response.status_code == 202
    assert response.json == {"accepted": 1, "rejected": []}
    assert [e["data"]["external_id"] for e in dependencies.event_log.events] == ["c-9"]


def test_batch_with_some_invalid_records_is_202_with_rejections(client, dependencies):
    response = client.post("/api/v1/orders", json={"records": [
        order(amount=True), order("o-2"), order("o-3", customer_external_id="ghost")]})
    assert response.status_code == 202
    assert response.json["accepted"] == 1
    assert response.json["rejected"] == [
        {"index": 0, "errors": {"amount": ["Not a valid number."]}},
        {"index": 2, "errors": {"customer_external_id": ["unknown customer"]}}]
    assert len(dependencies.event_log.batches) == 1


def test_no_record_accepted_is_422_with_the_rejections(client, dependencies):
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = client.post("/api/v1/orders", json={"records": [
        order(placed_at=future), order(customer_external_id="ghost")]})
    assert_error(response, 422, "NO_RECORD_ACCEPTED")
    assert response.json["error"]["details"]["rejected"] == [
        {"index": 0, "errors": {"placed_at": ["Must not be in the future."]}},
        {"index": 1, "errors": {"customer_external_id": ["unknown customer"]}}]
    assert dependencies.event_log.batches == []


def test_single_invalid_object_is_422(client):
    response = client.post("/api/v1/customers", json=customer(email="nope"))
    assert_error(response, 422, "NO_RECORD_ACCEPTED")
    assert response.json["error"]["details"]["rejected"][0]["index"] == 0


def test_more_records_than_allowed_is_413(client, dependencies):
    response = client.post("/api/v1/customers",
                           json={"records": [customer(f"c-{i}") for i in range(4)]})
    assert_error(response, 413, "BATCH_TOO_LARGE")
    assert response.json["error"]["details"] == {"max_records": 3, "received": 4}
    assert dependencies.event_log.batches == []


def test_body_over_the_byte_limit_is_413(client):
    response = client.post("/api/v1/customers", json=customer(name="x" * 70_000))
    assert response.status_code == 413
    assert response.is_json and "error" in response.json


@pytest.mark.parametrize("body, code", [
    ([customer()], "INVALID_BODY"),
    ("just a string", "INVALID_BODY"),
    (42, "INVALID_BODY"),
    ({"records": {"external_id": "c-1"}}, "INVALID_BODY"),
    ({"records": None}, "INVALID_BODY"),
    ({"records": []}, "EMPTY_BATCH"),
])
def test_bodies_that_are_neither_a_record_nor_a_batch_are_400(client, body, code):
    assert_error(client.post("/api/v1/customers", json=body), 400, code)


def test_malformed_json_is_400(client):
    response = client.post("/api/v1/orders", data="{not json",
                           headers={"Content-Type": "application/json"})
    assert_error(response, 400, "MALFORMED_JSON")


def test_nan_amount_is_rejected_not_a_500(client):
    body = '{"external_id": "o-1", "customer_external_id": "c-1", "amount": NaN,' \
           ' "placed_at": "2024-05-01"}'
    response = client.post("/api/v1/orders", data=body,
                           headers={"Content-Type": "application/json"})
    assert_error(response, 422, "NO_RECORD_ACCEPTED")


def test_correlation_id_travels_into_the_events(client, dependencies):
    response = client.post("/api/v1/customers", json={"records": [customer("a"), customer("b")]},
                           headers={"X-Correlation-Id": "req-42"})
    assert response.headers["X-Correlation-Id"] == "req-42"
    assert {e["correlation_id"] for e in dependencies.event_log.events} == {"req-42"}


def test_clock_skew_comes_from_config(config, dependencies):
    app = create_app(replace(config, clock_skew_seconds=3 * 3600), dependencies=dependencies)
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    response = app.test_client().post("/api/v1/orders", json=order(placed_at=soon))
    assert response.status_code == 202


def test_database_down_is_503(client, dependencies):
    dependencies.store.fail_with = ServerSelectionTimeoutError("no servers")
    assert_error(client.post("/api/v1/orders", json=order()), 503, "DEPENDENCY_UNAVAILABLE")


def test_health_routes(config):
    up = create_app(config, dependencies=FakeDependencies()).test_client()
    down = create_app(config, dependencies=FakeDependencies(ready=False)).test_client()
    assert up.get("/healthz").status_code == 200
    assert up.get("/readyz").status_code == 200
    assert_error(down.get("/readyz"), 503, "DEPENDENCY_UNAVAILABLE")


def test_unknown_api_path_is_a_json_404(client):
    assert_error(client.get("/api/v1/nothing-here"), 404, "NOT_FOUND")
    assert_error(client.get("/api/v1/customers"), 405, "METHOD_NOT_ALLOWED")


def test_openapi_describes_both_routes(client):
    spec = client.get("/openapi.json").json
    for path in ("/api/v1/customers", "/api/v1/orders"):
        operation = spec["paths"][path]["post"]
        assert {"202", "400", "413", "422"} <= set(operation["responses"])
    order_schema = spec["components"]["schemas"]["OrderRecord"]
    assert set(order_schema["required"]) == {"external_id", "customer_external_id", "amount",
                                             "placed_at"}
    json.dumps(spec)
