"""POST /api/v1/segments/parse: words in, rules out (or a 422 naming the words
it could not read), and the rules it answers preview like any client's."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from segments.app import create_app
from segments.audience.index import AudienceIndex
from segments.config import SegmentsConfig
from segments.describe.api import READER
from segments.projection.profiles import apply_event

from tests.support.profile_events import customer_event, order_event

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)


class FakeProfiles:
    def __init__(self, profiles):
        self.profiles = {p["_id"]: p for p in profiles}

    def find_many(self, external_ids):
        return {i: self.profiles.get(i) for i in external_ids}


class FakeDatabase:
    def __init__(self, profiles):
        self.profile_store = FakeProfiles(profiles)

    def profiles(self):
        return self.profile_store

    def reachable(self):
        return True


class FakeAudience:
    """audience.holder.AudienceHolder without threads: a ready index."""

    def __init__(self, profiles):
        self.index = AudienceIndex()
        self.index.upsert_many(profiles)
        self.ready = self.serving = True

    def status(self):
        return {"state": "ready"}

    def ensure_started(self):
        pass


def customer(n: int, city: str, spend: float) -> dict:
    profile = apply_event(None, customer_event(f"e{n}", "2026-04-01T00:00:00Z",
                                               external_id=f"c{n}", city=city))
    return apply_event(profile, order_event(f"o{n}", spend, "2026-05-01T00:00:00Z",
                                            customer=f"c{n}"))


SHOP = [customer(1, "Pune", 12_000), customer(2, "Pune", 500), customer(3, "Delhi", 15_000)]


@pytest.fixture
def http():
    app = create_app(SegmentsConfig(), database=FakeDatabase(SHOP), audience=FakeAudience(SHOP))
    app.extensions["segments.clock"] = lambda: NOW
    client = app.test_client()
    client.app_under_test = app
    return client


def test_words_become_rules_said_back_in_words(http):
    response = http.post("/api/v1/segments/parse",
                         json={"text": "spent over INR 10,000 and visited at most 3 times"})
    assert response.status_code == 200
    assert response.get_json() == {
        "rules": {"all": [{"field": "total_spend", "op": "gt", "value": 10000},
                          {"field": "visits", "op": "lte", "value": 3}]},
        "explained": "total spend over ₹10,000 and at most 3 visits",
        "unparsed": [], "read_by": "grammar"}


def test_parsed_rules_preview_like_any_client_rules(http):
    parsed = http.post("/api/v1/segments/parse",
                       json={"text": "from Pune who spent more than ₹10k"}).get_json()
    preview = http.post("/api/v1/segments/preview", json={"rules": parsed["rules"]})
    assert preview.status_code == 200
    assert preview.get_json()["count"] == 1
    assert [p["external_id"] for p in preview.get_json()["sample"]] == ["c1"]


def test_a_date_without_a_year_is_read_on_the_service_clock(http):
    body = http.post("/api/v1/segments/parse", json={"text": "joined since 1 Jan"}).get_json()
    assert body["rules"]["value"] == "2025-12-31T23:59:59.999999Z"


def test_unreadable_words_are_a_422_with_their_spans(http):
    text = "spent over 10k and has purple hair"
    response = http.post("/api/v1/segments/parse", json={"text": text})
    assert response.status_code == 422
    error = response.get_json()["error"]
    assert error["code"] == "UNREADABLE_AUDIENCE" and "purple hair" in error["message"]
    (span,) = error["details"]["unparsed"]
    assert text[span["start"]:span["end"]] == span["text"] == "purple hair"


def test_an_order_window_reads_as_in_last(http):
    response = http.post("/api/v1/segments/parse",
                         json={"text": "spent over 5,000 in the last 90 days"})
    assert response.status_code == 200
    assert response.get_json() == {
        "rules": {"field": "total_spend", "op": "gt", "value": 5000, "in_last": "90d"},
        "explained": "total spend over ₹5,000 in the last 90 days", "unparsed": [],
        "read_by": "grammar"}


def test_an_order_window_by_date_is_a_422_saying_to_use_a_duration(http):
    response = http.post("/api/v1/segments/parse",
                         json={"text": "spent over 5,000 since 1 Jan"})
    assert response.status_code == 422
    (span,) = response.get_json()["error"]["details"]["unparsed"]
    assert span["text"] == "since 1 Jan" and "order window is a duration" in span["reason"]


@pytest.mark.parametrize("body,path", [
    ({}, "text"), ({"text": ""}, "text"), ({"text": "   "}, "text"), ({"text": 5}, "text"),
    ({"text": "x" * 1001}, "text"), ({"text": "from Pune", "rules": {}}, "rules"),
])
def test_a_bad_body_is_a_400_naming_the_field(http, body, path):
    response = http.post("/api/v1/segments/parse", json=body)
    assert response.status_code == 400
    assert path in response.get_json()["error"]["details"]


def test_not_json_is_a_400(http):
    response = http.post("/api/v1/segments/parse", data="text=from Pune",
                         content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert response.get_json()["error"]["code"] == "MALFORMED_JSON"


def test_the_model_reader_answers_only_what_the_grammar_cannot(http):
    class Model:
        def read(self, text):
            return {"field": "tags", "op": "eq", "value": "vip"}

    http.app_under_test.extensions[READER] = Model()
    body = http.post("/api/v1/segments/parse", json={"text": "our best people"}).get_json()
    assert body["read_by"] == "model" and body["rules"]["value"] == "vip"
    body = http.post("/api/v1/segments/parse", json={"text": "from Pune"}).get_json()
    assert body["read_by"] == "grammar"


def test_the_parse_operation_is_in_the_service_openapi(http):
    spec = http.get("/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/segments/parse"]["post"]
    assert set(operation["responses"]) >= {"200", "400", "422"}
