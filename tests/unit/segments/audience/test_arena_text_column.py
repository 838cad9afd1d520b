from datetime import UTC, datetime

from segments.audience.index import AudienceIndex
from segments.rules.language import parse_rules

NOW = datetime(2026, 1, 1, tzinfo=UTC)


def _emails(index, rule):
    return sorted(index.match_ids(parse_rules(rule), NOW))


def test_changed_emails_rebuild_the_arena_and_still_match_and_show():
    index = AudienceIndex()
    for round_ in range(4):  # every email changes 4 times: the arena is rebuilt on the way
        index.upsert_many([{"external_id": f"c{i}", "email": f"User{i}.R{round_}@Shop.in"}
                           for i in range(5000)])
    assert _emails(index, {"field": "email", "op": "eq", "value": "user5.r3@shop.in"}) == ["c5"]
    assert _emails(index, {"field": "email", "op": "eq", "value": "user5.r2@shop.in"}) == []
    assert len(_emails(index, {"field": "email", "op": "contains", "value": ".r3@"})) == 5000
    assert _emails(index, {"field": "email", "op": "starts_with", "value": "user4999"}) == ["c4999"]
    assert index.shown(["c3"])[0]["email"] == "User3.R3@Shop.in"
    column = index._columns["email"]
    assert len(column.folded.arena) < 2 * 5000  # rebuilt, not 4 * 5000 entries


def test_a_search_cached_before_new_emails_arrive_sees_them():
    index = AudienceIndex()
    index.upsert_many([{"external_id": "a", "email": "a@gmail.com"}])
    rule = {"field": "email", "op": "contains", "value": "gmail"}
    assert _emails(index, rule) == ["a"]
    index.upsert_many([{"external_id": "b", "email": "b@gmail.com"}, {"external_id": "c"}])
    assert _emails(index, rule) == ["a", "b"]
    assert _emails(index, {"field": "email", "op": "ne", "value": "a@gmail.com"}) == ["b", "c"]
