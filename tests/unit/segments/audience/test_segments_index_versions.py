"""The audience index keeps the newest version of each profile, however updates arrive;
loading from the database skips stubs; a preview's count, sample and breakdown agree."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime

from segments.audience.holder import AudienceHolder, load_index
from segments.audience.index import AudienceIndex
from segments.config import SegmentsConfig
from segments.projection.profiles import BOOKKEEPING, announced, apply_event, with_version
from segments.rules.language import parse_rules

from tests.support.profile_events import customer_event, order_event

NOW = datetime(2024, 6, 1, tzinfo=UTC)
PUNE = parse_rules({"field": "city", "op": "eq", "value": "pune"})


def update(external_id: str, version: int, city: str) -> dict:
    return {"external_id": external_id, "version": version, "city": city}


def cities(index: AudienceIndex) -> dict:
    return {i: index.version(i) for i in sorted(index.match_ids(PUNE, NOW))}


def test_only_newer_versions_replace_a_row():
    index = AudienceIndex()
    assert index.upsert_newer([update("c1", 2, "Pune")]) == 1
    assert index.upsert_newer([update("c1", 1, "Delhi"), update("c1", 2, "Delhi")]) == 0
    assert cities(index) == {"c1": 2}
    assert index.upsert_newer([update("c1", 3, "Delhi")]) == 1
    assert cities(index) == {} and index.version("c1") == 3 and len(index) == 1


def test_every_arrival_order_of_the_same_updates_ends_in_the_same_index():
    updates = [update("c1", 1, "Pune"), update("c1", 2, "Delhi"), update("c1", 3, "Pune"),
               update("c2", 1, "Pune"), update("c2", 2, "Delhi")]
    for order in itertools.permutations(updates):
        index = AudienceIndex()
        for batch in (order[:2], order[2:]):
            index.upsert_newer(batch)
        assert cities(index) == {"c1": 3} and index.version("c2") == 2


def test_profiles_without_a_version_count_as_version_zero():
    index = AudienceIndex()
    index.upsert_many([{"external_id": "c1", "city": "Pune"}])
    assert index.version("c1") == 0
    assert index.upsert_newer([update("c1", 0, "Delhi")]) == 0
    assert index.upsert_newer([update("c1", 1, "Delhi")]) == 1


def test_announced_profiles_are_indexed_like_stored_ones():
    profile = with_version(apply_event(apply_event(None, customer_event(
        "e1", "2024-04-01T00:00:00Z")), order_event("o1", 500, "2024-05-30T00:00:00Z")), 4)
    rule = parse_rules({"all": [{"field": "total_spend", "op": "gte", "value": 500},
                                {"field": "last_active_at", "op": "within", "value": "3d"}]})
    stored, from_event = AudienceIndex(), AudienceIndex()
    stored.upsert_newer([{**profile, "version": 4}])
    from_event.upsert_newer([announced(profile)])
    assert stored.count(rule, NOW) == from_event.count(rule, NOW) == 1
    assert from_event.version("c1") == 4


class ScanOnly:
    def __init__(self, documents):
        self.documents = documents

    def scan(self, batch_size):
        for start in range(0, len(self.documents), batch_size):
            yield self.documents[start:start + batch_size]


def test_loading_skips_stubs_and_keeps_newer_rows_the_feed_already_applied():
    customer = with_version(apply_event(None, customer_event("e1", "2024-04-01T00:00:00Z")), 2)
    stub = apply_event(None, order_event("o1", 5, "2024-04-01T00:00:00Z", customer="s1"))
    index = AudienceIndex()
    index.upsert_newer([update("c1", 3, "Delhi")])  # arrived through the queue first
    seen = []
    read = load_index(index, ScanOnly([customer, stub]), batch_size=1, progress=seen.append)
    assert (read, seen, len(index), index.version("c1")) == (2, [1, 2], 1, 3)
    assert "s1" not in index and cities(index) == {}


def test_the_holder_ignores_stub_announcements():
    holder = AudienceHolder(SegmentsConfig(), database=None)
    stub = apply_event(None, order_event("o1", 5, "2024-04-01T00:00:00Z", customer="s1"))
    assert stub[BOOKKEEPING]["customer_event"] is None
    holder._apply_updates([{**announced(stub)}, update("c1", 1, "Pune")])
    assert "s1" not in holder.index and "c1" in holder.index
    assert not holder.ready and holder.status()["state"] == "idle"


def test_a_preview_agrees_with_count_sample_and_breakdown():
    index = AudienceIndex()
    index.upsert_many([{"external_id": f"c{i:02d}", "city": "Pune" if i % 3 else "Delhi",
                        "total_spend": float(i * 10)} for i in range(40)])
    rule = parse_rules({"any": [{"field": "city", "op": "eq", "value": "delhi"},
                                {"field": "total_spend", "op": "gt", "value": 300}]})
    preview = index.preview(rule, NOW, k=5)
    # 14 in Delhi, and 6 more spent over 300 (c31..c39, three of them in Delhi)
    assert preview.count == index.count(rule, NOW) == 14 + 6
    assert len(preview.sample) == 5 and set(preview.sample) <= set(index.match_ids(rule, NOW))
    assert preview.breakdown == index.breakdown(rule, NOW)
    assert preview.breakdown[-1]["cumulative"] == preview.count and preview.index_size == 40
    negated = parse_rules({"not": {"field": "city", "op": "eq", "value": "delhi"}})
    assert index.preview(negated, NOW).count == 26
