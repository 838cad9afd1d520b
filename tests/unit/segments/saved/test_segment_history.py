"""A saved segment's sizes (segments.saved.history): one a day however often the
daily pass runs, sizes on demand, oldest first; counted on the audience index."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pymongo.errors import DuplicateKeyError
from segments.audience.index import AudienceIndex
from segments.audience.preview import IndexNotReady
from segments.saved.history import (
    DAILY,
    ON_DEMAND,
    SizeHistory,
    record_daily_sizes,
    size_id,
)

NOW = datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
PUNE = {"field": "city", "op": "eq", "value": "Pune"}


class FakeCollection:
    """The two calls SizeHistory makes: insert_one by _id, find by an _id range."""

    def __init__(self):
        self.documents = {}

    def insert_one(self, document):
        if document["_id"] in self.documents:
            raise DuplicateKeyError("E11000", 11000)
        self.documents[document["_id"]] = dict(document)

    def find(self, query):
        low, high = query["_id"]["$gt"], query["_id"]["$lt"]
        return [dict(d) for key, d in self.documents.items() if low < key < high]


class FakeSegments:
    def __init__(self, segments):
        self.segments = sorted(segments, key=lambda s: s["_id"], reverse=True)

    def page(self, before, limit):
        return [s for s in self.segments if before is None or s["_id"] < before][:limit]


class FakeAudience:
    def __init__(self, cities, ready=True):
        self.index = AudienceIndex()
        self.index.upsert_many([{"external_id": f"c{i}", "city": city}
                                for i, city in enumerate(cities)])
        self.ready = ready

    def status(self):
        return {"state": "ready" if self.ready else "loading"}


@pytest.fixture
def history():
    return SizeHistory({"segment_sizes": FakeCollection()})


def test_a_day_has_one_size_however_often_the_pass_runs(history):
    segments = FakeSegments([{"_id": f"s{n:03d}", "rules": PUNE} for n in range(250)])
    audience = FakeAudience(["Pune", "pune", "Delhi"])
    assert record_daily_sizes(NOW, segments=segments, history=history, audience=audience) == 250
    later = NOW + timedelta(hours=5)
    assert record_daily_sizes(later, segments=segments, history=history, audience=audience) == 0
    assert [(s["count"], s["kind"]) for s in history.of("s007")] == [(2, DAILY)]
    tomorrow = NOW + timedelta(days=1)
    assert record_daily_sizes(tomorrow, segments=segments, history=history,
                              audience=audience) == 250


def test_sizes_on_demand_join_the_days_oldest_first(history):
    history.record("s1", NOW + timedelta(minutes=5), 7, ON_DEMAND)
    history.record("s1", NOW, 5, DAILY)
    history.record("s1", NOW - timedelta(days=1), 4, DAILY)
    history.record("s10", NOW, 99, DAILY)  # another segment whose id starts the same
    assert [s["count"] for s in history.of("s1")] == [4, 5, 7]


def test_ids_name_the_segment_the_day_or_the_moment():
    assert size_id("s1", NOW, DAILY) == "s1/2026-12-02/daily"
    assert size_id("s1", NOW, ON_DEMAND) == "s1/2026-12-02T09:30:00.000000Z/now"


def test_nothing_is_recorded_while_the_index_loads(history):
    segments = FakeSegments([{"_id": "s1", "rules": PUNE}])
    with pytest.raises(IndexNotReady):
        record_daily_sizes(NOW, segments=segments, history=history,
                           audience=FakeAudience(["Pune"], ready=False))
    assert history.of("s1") == []


def test_a_segment_whose_rules_no_longer_parse_is_skipped(history):
    segments = FakeSegments([{"_id": "s1", "rules": {"field": "gone", "op": "eq", "value": 1}},
                             {"_id": "s2", "rules": PUNE}])
    assert record_daily_sizes(NOW, segments=segments, history=history,
                              audience=FakeAudience(["Pune"])) == 1
