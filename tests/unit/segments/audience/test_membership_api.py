"""GET /api/v1/segments/<id>/explain/<external_id> and POST /api/v1/segments/explain:
why a customer is in an audience, node by node, or a 404 / 400 that says what is wrong."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from segments.app import create_app
from segments.config import SegmentsConfig

NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)
ASHA = {"_id": "c1", "external_id": "c1", "name": "Asha Rao", "city": "Pune", "tags": ["vip"],
        "visits": 7, "order_count": 2, "total_spend": 12500.0,
        "last_active_at": datetime(2024, 6, 1, 10, 0), "projection": {"customer_event": "e1"}}
BIG = {"field": "total_spend", "op": "gt", "value": 10000}
RARE = {"field": "visits", "op": "lte", "value": 3}


class FakeProfiles:
    def shown(self, external_id):
        return dict(ASHA) if external_id == "c1" else None


class FakeSegments:
    def find(self, segment_id):
        return {"_id": "s1", "name": "Big, rare", "rules": {"all": [BIG, RARE]}} \
            if segment_id == "s1" else None


class FakeDatabase:
    def profiles(self):
        return FakeProfiles()

    def segments(self):
        return FakeSegments()

    def reachable(self):
        return True


class FakeAudience:
    ready = serving = True

    def status(self):
        return {"state": "ready"}

    def ensure_started(self):
        pass


@pytest.fixture
def http():
    app = create_app(SegmentsConfig(), database=FakeDatabase(), audience=FakeAudience())
    app.extensions["segments.clock"] = lambda: NOW
    return app.test_client()


def test_a_saved_segment_explains_each_condition_for_the_customer(http):
    response = http.get("/api/v1/segments/s1/explain/c1")
    assert response.status_code == 200
    assert response.get_json() == {
        "external_id": "c1", "segment_id": "s1", "matched": False,
        "rules": {"all": [{**BIG, "matched": True, "customer_value": 12500.0},
                          {**RARE, "matched": False, "customer_value": 7}], "matched": False},
        "evaluated_at": "2024-06-15T12:00:00.000Z"}


def test_inline_rules_are_explained_too(http):
    rules = {"any": [RARE, {"field": "tags", "op": "eq", "value": "VIP"}]}
    response = http.post("/api/v1/segments/explain", json={"rules": rules, "external_id": "c1"})
    assert response.status_code == 200
    body = response.get_json()
    assert body["matched"] is True and "segment_id" not in body
    assert [part["matched"] for part in body["rules"]["any"]] == [False, True]


@pytest.mark.parametrize("path,code", [
    ("/api/v1/segments/nope/explain/c1", "SEGMENT_NOT_FOUND"),
    ("/api/v1/segments/s1/explain/nobody", "CUSTOMER_NOT_FOUND"),
])
def test_an_unknown_segment_or_customer_is_a_404(http, path, code):
    response = http.get(path)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == code


@pytest.mark.parametrize("body,code,path", [
    ({"rules": {"field": "visits", "op": "$gt", "value": 1}, "external_id": "c1"},
     "INVALID_RULES", "rules.op"),
    ({"rules": BIG}, "INVALID_REQUEST", "external_id"),
    ({"rules": BIG, "external_id": "c1", "extra": 1}, "INVALID_REQUEST", "extra"),
    ({"external_id": "c1"}, "INVALID_RULES", "rules"),
])
def test_a_bad_body_is_a_400_naming_the_path(http, body, code, path):
    response = http.post("/api/v1/segments/explain", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == code and path in error["details"]


def test_inline_rules_for_an_unknown_customer_are_a_404(http):
    response = http.post("/api/v1/segments/explain", json={"rules": BIG, "external_id": "x"})
    assert response.status_code == 404


def test_both_operations_are_in_the_service_openapi(http):
    paths = http.get("/openapi.json").get_json()["paths"]
    assert "get" in paths["/api/v1/segments/{segment_id}/explain/{external_id}"]
    assert "post" in paths["/api/v1/segments/explain"]
