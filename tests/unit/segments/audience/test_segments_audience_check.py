"""The preflight counts (segments.audience.check and POST /internal/v1/segments/audience-check):
the same exclusions a launch decides (campaigns.exclusions) and the same empty fields a
message renders (campaigns.domain.field_value), for any profiles and any valid rule."""
from __future__ import annotations

from campaigns import domain
from campaigns.recipients import exclusions
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from segments.app import create_app
from segments.audience.check import check
from segments.audience.index import AudienceIndex
from segments.config import SegmentsConfig
from segments.rules.language import parse_rules

from tests.support.rule_strategies import NOW, profiles, rules

# unsubscribe_url is the message's own link, added at sending (never empty).
FIELDS = sorted(domain.TEMPLATE_FIELDS - {"unsubscribe_url"})
EVERYONE = {"not": {"field": "order_count", "op": "lt", "value": 0}}  # missing too


def _reference(index, rule, fields):
    """Per member, as a launch sees its audience.chunk: index.shown, then exclusions."""
    members = [shown for shown in index.shown(list(index.match_ids(rule, NOW))) if shown]
    counts = {"unsubscribed": 0, "suppressed": 0}
    eligible = []
    for member in members:
        cause = exclusions._cause(member)
        if cause is None:
            eligible.append(member)
        else:
            counts[cause] += 1
    empty = {field: sorted(m["external_id"] for m in eligible
                           if not domain.field_value(m, field)) for field in fields}
    return members, counts, eligible, empty


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(profiles, max_size=25), rules)
def test_the_counts_are_the_launchs_exclusions_and_empty_fields(held, raw_rule):
    index = AudienceIndex()
    index.upsert_many(held)
    rule = parse_rules(raw_rule)
    answer = check(index, rule, NOW, FIELDS, with_ids=True)
    members, counts, eligible, empty = _reference(index, rule, FIELDS)
    assert answer["matched"] == len(members)
    assert answer["excluded"] == counts
    assert answer["eligible"] == len(eligible)
    assert sorted(answer["eligible_ids"]) == sorted(m["external_id"] for m in eligible)
    assert {field: sorted(ids) for field, ids in answer["empty_ids"].items()} == empty
    assert answer["empty"] == {field: len(ids) for field, ids in empty.items()}


def test_an_unsubscribed_customer_who_is_also_suppressed_counts_once_as_unsubscribed():
    index = AudienceIndex()
    index.upsert_many([
        {"external_id": "a", "name": "Asha Rao", "marketing_consent": "unsubscribed",
         "suppressed": True},
        {"external_id": "b", "name": "  ", "suppressed": True},
        {"external_id": "c", "name": "Ravi", "city": "Pune"},
        {"external_id": "d", "name": None, "city": ""}])
    answer = check(index, parse_rules(EVERYONE), NOW, ["first_name", "city", "external_id"])
    assert answer == {"matched": 4, "excluded": {"unsubscribed": 1, "suppressed": 1},
                      "eligible": 2, "empty": {"first_name": 1, "city": 1, "external_id": 0}}


class _Audience:
    ready = serving = True

    def __init__(self, index):
        self.index = index

    def status(self):
        return {"state": "ready"}

    def ensure_started(self):
        pass


class _Database:
    def reachable(self):
        return True


def _http(index):
    app = create_app(SegmentsConfig(), database=_Database(), audience=_Audience(index))
    app.extensions["segments.clock"] = lambda: NOW
    return app.test_client()


def test_the_endpoint_answers_the_counts_and_the_ids_when_asked():
    index = AudienceIndex()
    index.upsert_many([{"external_id": "a", "city": "Pune"},
                       {"external_id": "b", "marketing_consent": "unsubscribed"}])
    response = _http(index).post("/internal/v1/segments/audience-check", json={
        "rules": EVERYONE, "fields": ["city"], "with_ids": True})
    assert response.status_code == 200
    body = response.get_json()
    assert body["matched"] == 2 and body["excluded"] == {"unsubscribed": 1, "suppressed": 0}
    assert body["eligible_ids"] == ["a"] and body["empty_ids"] == {"city": []}
    assert body["evaluated_at"] == "2024-06-15T12:00:00.000Z"


def test_bad_rules_or_an_unknown_field_get_the_standard_error_body():
    http = _http(AudienceIndex())
    bad_rules = http.post("/internal/v1/segments/audience-check",
                          json={"rules": {"field": "nope", "op": "eq", "value": 1}})
    assert bad_rules.status_code == 400
    assert bad_rules.get_json()["error"]["code"] == "INVALID_RULES"
    bad_field = http.post("/internal/v1/segments/audience-check",
                          json={"rules": EVERYONE, "fields": ["marketing_consent"]})
    assert bad_field.status_code == 400
    assert set(bad_field.get_json()["error"]) == {"code", "message", "details"}


def test_a_loading_index_answers_503_index_loading():
    class Loading(_Audience):
        ready = False

        def status(self):
            return {"state": "loading", "loaded": 10, "total": 100}

    app = create_app(SegmentsConfig(), database=_Database(), audience=Loading(None))
    response = app.test_client().post("/internal/v1/segments/audience-check",
                                      json={"rules": EVERYONE})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "INDEX_LOADING"
