"""GET /api/v1/suppressions from the audience index; the consent and suppression rule fields."""
from __future__ import annotations

from datetime import UTC, datetime

from segments.app import create_app
from segments.audience.index import AudienceIndex
from segments.config import SegmentsConfig
from segments.projection.profiles import announced, apply_event
from segments.rules.language import RuleError, parse_rules

from tests.support.profile_events import customer_event
from tests.support.segment_fakes import FakeAudience, FakeDatabase

NOW = datetime(2024, 7, 1, tzinfo=UTC)


def profile(external_id: str, *, suppressed: bool = False, consent: str = "subscribed") -> dict:
    shown = announced(apply_event(None, customer_event(
        "e-" + external_id, "2024-04-01T00:00:00Z", external_id=external_id,
        marketing_consent=consent)))
    if suppressed:
        shown.update(suppressed=True, suppression_reason="INVALID_NUMBER",
                     suppressed_since="2024-06-01T10:00:00.000Z",
                     suppression_campaign_id="cmp-" + external_id)
    return shown


def shop() -> AudienceIndex:
    index = AudienceIndex()
    index.upsert_many([profile("c1"), profile("c2", suppressed=True),
                       profile("c3", suppressed=True, consent="unsubscribed"),
                       profile("c4", consent="unsubscribed"), profile("c5", suppressed=True)])
    return index


def client(index: AudienceIndex, ready: bool = True):
    app = create_app(SegmentsConfig(index_autostart=False), database=FakeDatabase(),
                     audience=FakeAudience(index, ready))
    return app.test_client()


def test_the_list_walks_every_suppressed_customer_once_by_cursor():
    http, seen, cursor = client(shop()), [], ""
    while cursor is not None:
        body = http.get(f"/api/v1/suppressions?limit=2&cursor={cursor}").get_json()
        seen.extend(body["items"])
        cursor = body["next_cursor"]
    assert [item["customer_external_id"] for item in seen] == ["c2", "c3", "c5"]
    assert seen[0] == {"customer_external_id": "c2", "reason": "INVALID_NUMBER",
                       "since": "2024-06-01T10:00:00.000Z", "campaign_id": "cmp-c2"}


def test_bad_input_and_a_loading_index_get_the_error_body():
    assert client(shop()).get("/api/v1/suppressions?limit=0").status_code == 400
    bad_cursor = client(shop()).get("/api/v1/suppressions?cursor=%25%25")
    assert bad_cursor.status_code == 400
    assert bad_cursor.get_json()["error"]["code"] == "INVALID_CURSOR"
    loading = client(shop(), ready=False).get("/api/v1/suppressions")
    assert loading.status_code == 503 and loading.get_json()["error"]["code"] == "INDEX_LOADING"


def test_rules_select_by_consent_and_suppression():
    index = shop()

    def ids(raw):
        return list(index.match_ids(parse_rules(raw), NOW))

    assert ids({"field": "marketing_consent", "op": "eq", "value": "unsubscribed"}) == ["c3", "c4"]
    assert ids({"field": "marketing_consent", "op": "ne", "value": "unsubscribed"}) == \
        ["c1", "c2", "c5"]
    assert ids({"field": "suppressed", "op": "eq", "value": True}) == ["c2", "c3", "c5"]
    assert ids({"all": [{"field": "suppressed", "op": "eq", "value": False},
                        {"field": "marketing_consent", "op": "eq", "value": "subscribed"}]}) == \
        ["c1"]


def test_consent_and_suppressed_take_only_their_values():
    for raw in ({"field": "marketing_consent", "op": "eq", "value": "maybe"},
                {"field": "marketing_consent", "op": "in", "value": ["subscribed"]},
                {"field": "suppressed", "op": "eq", "value": "true"},
                {"field": "suppressed", "op": "ne", "value": True}):
        try:
            parse_rules(raw)
        except RuleError as error:
            assert error.path.startswith("rules.")
        else:
            raise AssertionError(f"accepted {raw}")
