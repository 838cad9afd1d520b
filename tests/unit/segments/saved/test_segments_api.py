"""Preview and saved segment routes over a real in-memory index and hand-written fake stores."""
from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta

import pytest
from segments.app import create_app
from segments.audience.index import AudienceIndex
from segments.config import SegmentsConfig
from segments.projection.profiles import apply_event
from segments.saved.store import new_segment_id

from tests.support.profile_events import customer_event, order_event

NOW = datetime(2024, 6, 1, tzinfo=UTC)
PUNE = {"field": "city", "op": "eq", "value": "PUNE"}
BIG = {"field": "total_spend", "op": "gt", "value": 100}


class FakeProfiles:
    def __init__(self, profiles):
        self.profiles = {p["_id"]: p for p in profiles}
        self.reads: list[list[str]] = []

    def find_many(self, external_ids):
        self.reads.append(list(external_ids))
        return {i: copy.deepcopy(self.profiles.get(i)) for i in external_ids}


class FakeSegments:
    """segments_store.SegmentStore over a dict."""

    def __init__(self):
        self.documents: dict[str, dict] = {}

    def insert(self, segment):
        assert segment["_id"] not in self.documents
        self.documents[segment["_id"]] = copy.deepcopy(segment)

    def find(self, segment_id):
        return copy.deepcopy(self.documents.get(segment_id))

    def page(self, before, limit):
        ids = sorted((i for i in self.documents if before is None or i < before), reverse=True)
        return [copy.deepcopy(self.documents[i]) for i in ids[:limit]]

    def rename(self, segment_id, name, updated_at):
        if segment_id not in self.documents:
            return False
        self.documents[segment_id].update(name=name, updated_at=updated_at)
        return True

    def delete(self, segment_id):
        return self.documents.pop(segment_id, None) is not None


class FakeDatabase:
    def __init__(self, profiles):
        self.profile_store = FakeProfiles(profiles)
        self.segment_store = FakeSegments()

    def profiles(self):
        return self.profile_store

    def segments(self):
        return self.segment_store

    def reachable(self):
        return True


class FakeAudience:
    """audience.AudienceHolder without threads: a ready (or loading) index."""

    def __init__(self, profiles, ready=True):
        self.index = AudienceIndex()
        self.index.upsert_many(profiles)
        self.ready = self.serving = ready

    def status(self):
        return {"state": "ready" if self.ready else "loading", "loaded": 1200, "total": 5000}

    def ensure_started(self):
        pass


def customer(n: int, city: str, spend: float = 0) -> dict:
    profile = apply_event(None, customer_event(f"e{n}", "2024-04-01T00:00:00Z",
                                               external_id=f"c{n:02d}", city=city))
    if spend:
        profile = apply_event(profile, order_event(f"o{n}", spend, "2024-05-01T00:00:00Z",
                                                   customer=f"c{n:02d}"))
    return profile


SHOP = [customer(1, "Pune", 500), customer(2, "pune"), customer(3, "Delhi", 900),
        customer(4, "Pune", 50), customer(5, None, 1000)]


@pytest.fixture
def app_for(monkeypatch):
    def make(profiles=SHOP, ready=True):
        database, audience = FakeDatabase(profiles), FakeAudience(profiles, ready)
        app = create_app(SegmentsConfig(), database=database, audience=audience)
        clock = {"now": NOW}
        app.extensions["segments.clock"] = lambda: clock["now"]
        client = app.test_client()
        client.database, client.audience, client.clock = database, audience, clock
        return client
    return make


@pytest.fixture
def http(app_for):
    return app_for()


def error_of(response, status):
    assert response.status_code == status, response.get_json()
    return response.get_json()["error"]


def test_preview_counts_samples_and_breaks_the_count_down(http):
    response = http.post("/api/v1/segments/preview", json={"rules": {"all": [PUNE, BIG]}})
    assert response.status_code == 200
    body = response.get_json()
    assert body["count"] == 1 and body["index_size"] == 5
    assert body["evaluated_at"] == "2024-06-01T00:00:00.000Z"
    assert body["breakdown"] == [{"rule": PUNE, "count": 3, "cumulative": 3},
                                 {"rule": BIG, "count": 3, "cumulative": 1}]
    assert body["sample"] == [{
        "external_id": "c01", "name": "Asha Rao", "email": "asha@example.com", "phone": None,
        "city": "Pune", "tags": ["vip"], "signed_up_at": "2024-01-01T00:00:00.000Z",
        "visits": 3, "last_visit_at": "2024-03-01T10:00:00.000Z", "total_spend": 500.0,
        "order_count": 1, "last_order_at": "2024-05-01T00:00:00.000Z",
        "last_active_at": "2024-05-01T00:00:00.000Z",
        "marketing_consent": "subscribed", "marketing_consent_at": None, "suppressed": False,
        "suppression_reason": None, "suppressed_since": None, "suppression_campaign_id": None}]


def test_the_sample_holds_at_most_ten_profiles_read_by_id(app_for):
    many = [customer(n, "Pune") for n in range(30)]
    http = app_for(many)
    body = http.post("/api/v1/segments/preview", json={"rules": PUNE}).get_json()
    assert body["count"] == 30 and len(body["sample"]) == 10
    assert http.database.profile_store.reads == [[p["external_id"] for p in body["sample"]]]


def test_relative_rules_are_measured_from_now(http):
    rule = {"field": "last_active_at", "op": "within", "value": "40d"}
    assert http.post("/api/v1/segments/preview", json={"rules": rule}).get_json()["count"] == 4
    http.clock["now"] = NOW + timedelta(days=30)
    assert http.post("/api/v1/segments/preview", json={"rules": rule}).get_json()["count"] == 0


@pytest.mark.parametrize("body, path", [
    ({"rules": {"all": [PUNE, {"field": "city", "op": "gt", "value": 1}]}}, "rules.all[1].op"),
    ({"rules": {"field": "$where", "op": "eq", "value": "1"}}, "rules.field"),
    ({"rules": {"all": [PUNE], "$or": []}}, "rules.$or"),
    ({"rules": None}, "rules"),
    ({"rules": []}, "rules"),
    ({}, "rules"),
])
def test_bad_rules_are_400_naming_the_path(http, body, path):
    error = error_of(http.post("/api/v1/segments/preview", json=body), 400)
    assert error["code"] == "INVALID_RULES" and path in error["details"]


@pytest.mark.parametrize("data, code", [
    ("not json", "MALFORMED_JSON"), ("[1, 2]", "INVALID_REQUEST"),
    ('{"rules": {"field": "city", "op": "eq", "value": "x"}, "limit": 3}', "INVALID_REQUEST"),
])
def test_malformed_bodies_are_400(http, data, code):
    response = http.post("/api/v1/segments/preview", data=data, content_type="application/json")
    assert error_of(response, 400)["code"] == code


def test_while_the_index_loads_preview_and_readiness_are_503_with_progress(app_for):
    http = app_for(ready=False)
    error = error_of(http.post("/api/v1/segments/preview", json={"rules": PUNE}), 503)
    assert error["code"] == "INDEX_LOADING" and "1,200 of about 5,000" in error["message"]
    ready = error_of(http.get("/readyz"), 503)
    assert ready["code"] == "INDEX_LOADING"
    assert ready["details"]["audience_index"]["loaded"] == 1200
    assert error_of(http.post("/api/v1/segments", json={"name": "x", "rules": PUNE}),
                    503)["code"] == "INDEX_LOADING"


def test_readiness_is_200_once_loaded(http, monkeypatch):
    monkeypatch.setattr("segments.app.broker_reachable", lambda _settings: True)
    assert http.get("/readyz").status_code == 200


def test_a_saved_segment_keeps_canonical_rules_and_the_count_at_save_time(http):
    rules = {"all": [PUNE, {"field": "tags", "op": "in", "value": ["vip", "new"]}]}
    response = http.post("/api/v1/segments", json={"name": "  Pune VIPs ", "rules": rules})
    assert response.status_code == 201
    saved = response.get_json()
    assert saved == {"id": saved["id"], "name": "Pune VIPs", "rules": rules, "count": 3,
                     "created_at": "2024-06-01T00:00:00.000Z",
                     "updated_at": "2024-06-01T00:00:00.000Z"}
    http.audience.index.upsert(customer(9, "Pune"))
    one = http.get(f"/api/v1/segments/{saved['id']}").get_json()
    assert (one["count"], one["current_count"]) == (3, 4)
    assert one["evaluated_at"] == "2024-06-01T00:00:00.000Z"


@pytest.mark.parametrize("name, problem", [(None, "name"), ("", "name"), ("   ", "name"),
                                           ("x" * 201, "name"), (7, "name")])
def test_a_segment_needs_a_name_of_1_to_200_characters(http, name, problem):
    body = {"rules": PUNE} if name is None else {"name": name, "rules": PUNE}
    error = error_of(http.post("/api/v1/segments", json=body), 400)
    assert error["code"] == "INVALID_REQUEST" and problem in error["details"]


def test_bad_name_and_bad_rules_are_reported_together(http):
    body = {"name": "", "rules": {"field": "city", "op": "nope", "value": "x"}}
    error = error_of(http.post("/api/v1/segments", json=body), 400)
    assert error["code"] == "INVALID_RULES"
    assert {"name", "rules.op"} <= set(error["details"])


def test_names_may_repeat(http):
    first = http.post("/api/v1/segments", json={"name": "Same", "rules": PUNE}).get_json()
    second = http.post("/api/v1/segments", json={"name": "Same", "rules": BIG}).get_json()
    assert first["id"] != second["id"]


def walk(http, limit):
    seen, cursor = [], None
    for _ in range(100):
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = http.get("/api/v1/segments", query_string=query).get_json()
        assert len(page["items"]) <= limit
        seen += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursors never ended")


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 500])
def test_segments_list_newest_first_and_cursors_visit_each_once(http, limit):
    for n in range(7):
        http.post("/api/v1/segments", json={"name": f"s{n}", "rules": PUNE})
    assert walk(http, limit) == [f"s{n}" for n in reversed(range(7))]


def test_an_empty_list_has_no_cursor(http):
    assert http.get("/api/v1/segments").get_json() == {"items": [], "next_cursor": None}


@pytest.mark.parametrize("query", [{"limit": 0}, {"limit": 501}, {"limit": "x"},
                                   {"cursor": "not a cursor!"}])
def test_bad_list_queries_are_400(http, query):
    error = error_of(http.get("/api/v1/segments", query_string=query), 400)
    assert error["code"] in ("INVALID_QUERY", "INVALID_CURSOR")


def test_rename_changes_the_name_only(http):
    saved = http.post("/api/v1/segments", json={"name": "Old", "rules": PUNE}).get_json()
    http.clock["now"] = NOW + timedelta(hours=1)
    response = http.patch(f"/api/v1/segments/{saved['id']}", json={"name": "New"})
    assert response.status_code == 200
    assert response.get_json() == {**saved, "name": "New",
                                   "updated_at": "2024-06-01T01:00:00.000Z"}
    error = error_of(http.patch(f"/api/v1/segments/{saved['id']}",
                                json={"name": "x", "rules": BIG}), 400)
    assert "rules" in error["details"]


def test_delete_then_every_route_says_not_found(http):
    saved = http.post("/api/v1/segments", json={"name": "Gone", "rules": PUNE}).get_json()
    assert http.delete(f"/api/v1/segments/{saved['id']}").status_code == 204
    path = f"/api/v1/segments/{saved['id']}"
    for response in (http.get(path), http.delete(path), http.patch(path, json={"name": "x"})):
        error = error_of(response, 404)
        assert error["code"] == "SEGMENT_NOT_FOUND" and error["details"] == {
            "segment_id": saved["id"]}


def test_the_openapi_document_describes_the_segment_routes(http):
    spec = http.get("/openapi.json").get_json()
    assert {"/api/v1/segments", "/api/v1/segments/preview",
            "/api/v1/segments/{segment_id}"} <= set(spec["paths"])
    assert set(spec["paths"]["/api/v1/segments/{segment_id}"]) == {"get", "patch", "delete"}
    assert {"Preview", "Segment", "SegmentDetail"} <= set(spec["components"]["schemas"])


def test_segment_ids_sort_in_creation_order():
    ids = [new_segment_id() for _ in range(1000)]
    assert ids == sorted(ids) and len(set(ids)) == 1000 and len(ids[0]) == 32
    assert new_segment_id(now_ms=10**13) > ids[-1]  # a later millisecond sorts later
