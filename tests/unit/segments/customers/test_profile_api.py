"""The customer routes with a hand-written in-memory store: shapes, errors and cursor walking."""
from __future__ import annotations

import pytest
from segments.app import create_app
from segments.config import SegmentsConfig
from segments.customers.schemas import decode_cursor, encode_cursor
from segments.projection.profiles import apply_event, is_stub

from shared.http import ApiError
from tests.support.profile_events import customer_event, order_event


class FakeProfileStore:
    """The read side of segments.projection.profile_store.ProfileStore over a dict."""

    def __init__(self, profiles):
        self.profiles = {p["_id"]: p for p in profiles}

    def shown(self, external_id):
        profile = self.profiles.get(external_id)
        return None if profile is None or is_stub(profile) else profile

    def page(self, after, limit):
        ids = sorted(i for i, p in self.profiles.items()
                     if not is_stub(p) and (after is None or i > after))
        return [self.profiles[i] for i in ids[:limit]]


class FakeDatabase:
    def __init__(self, store):
        self.store = store

    def profiles(self):
        return self.store

    def reachable(self):
        return True


def customers(n: int) -> list[dict]:
    return [apply_event(None, customer_event(f"e{i}", "2024-04-01T00:00:00Z",
                                             external_id=f"id/{i:02d} é")) for i in range(n)]


@pytest.fixture
def http():
    def make(profiles):
        app = create_app(SegmentsConfig())
        app.extensions["segments.database"] = FakeDatabase(FakeProfileStore(profiles))
        return app.test_client()
    return make


def walk(client, limit: int) -> list[str]:
    seen, cursor = [], None
    for _ in range(100):
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = client.get("/api/v1/customers", query_string=query).get_json()
        assert len(page["items"]) <= limit
        seen += [item["external_id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursors never ended")


@pytest.mark.parametrize("limit", [1, 3, 5, 6, 500])
def test_walking_the_cursors_visits_every_customer_exactly_once(http, limit):
    client = http(customers(5) + [apply_event(None, order_event("o1", 5, "2024-01-01T00:00:00Z",
                                                                customer="id/99 stub"))])
    assert walk(client, limit) == [f"id/{i:02d} é" for i in range(5)]


def test_a_profile_is_shown_with_utc_times_and_without_bookkeeping(http):
    profile = apply_event(apply_event(None, customer_event("e1", "2024-04-01T00:00:00Z")),
                          order_event("o1", 99.5, "2024-03-05T09:00:00.123456+05:30"))
    response = http([profile]).get("/api/v1/customers/c1")
    assert response.status_code == 200
    assert response.get_json() == {
        "external_id": "c1", "name": "Asha Rao", "email": "asha@example.com", "phone": None,
        "city": "Pune", "tags": ["vip"], "signed_up_at": "2024-01-01T00:00:00.000Z",
        "visits": 3, "last_visit_at": "2024-03-01T10:00:00.000Z", "total_spend": 99.5,
        "order_count": 1, "last_order_at": "2024-03-05T03:30:00.123Z",
        "last_active_at": "2024-03-05T03:30:00.123Z",
        "marketing_consent": "subscribed", "marketing_consent_at": None, "suppressed": False,
        "suppression_reason": None, "suppressed_since": None, "suppression_campaign_id": None}


def test_unknown_customers_and_stubs_are_404_in_the_error_format(http):
    stub = apply_event(None, order_event("o1", 5, "2024-01-01T00:00:00Z", customer="s1"))
    client = http([stub])
    for external_id in ("nobody", "s1"):
        response = client.get(f"/api/v1/customers/{external_id}")
        assert response.status_code == 404
        assert response.get_json()["error"]["code"] == "CUSTOMER_NOT_FOUND"
        assert response.get_json()["error"]["details"] == {"external_id": external_id}


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 501}, {"limit": "ten"},
                                   {"cursor": "%%%"}, {"cursor": "abcde"}])  # 5: not base64
def test_bad_list_queries_are_400(http, query):
    response = http(customers(2)).get("/api/v1/customers", query_string=query)
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] in ("INVALID_QUERY", "INVALID_CURSOR")


def test_cursors_round_trip_any_external_id():
    for external_id in ("c1", "id/with spaces", "é-ü", "a" * 300):
        assert decode_cursor(encode_cursor(external_id)) == external_id
    with pytest.raises(ApiError):
        decode_cursor("not base64!")


def test_the_openapi_document_describes_the_customer_routes(http):
    spec = http([]).get("/openapi.json").get_json()
    assert {"/api/v1/customers", "/api/v1/customers/{external_id}"} <= set(spec["paths"])
    assert "CustomerProfile" in spec["components"]["schemas"]


def test_an_external_id_with_a_slash_is_found_when_percent_encoded(http):
    response = http(customers(1)).get("/api/v1/customers/id%2F00%20%C3%A9")
    assert response.status_code == 200 and response.get_json()["external_id"] == "id/00 é"
