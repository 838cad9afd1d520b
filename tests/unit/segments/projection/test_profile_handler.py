"""project_events with a hand-written fake store: loads, writes, cache and redelivery."""
from __future__ import annotations

import copy

import pytest
from segments.projection.handlers import ProfileCache, project_events
from segments.projection.profiles import apply_event, is_stub

from tests.support.fakes import FakeProfileStore, batch_for_two_customers
from tests.support.profile_events import customer_event, order_event


@pytest.fixture
def store():
    return FakeProfileStore()


@pytest.fixture
def cache():
    return ProfileCache(max_size=100)


def test_new_profiles_are_inserted_once_each(store, cache):
    written = project_events(batch_for_two_customers(), store=store, cache=cache)
    assert sorted(p["_id"] for p in written) == ["c1", "c2"]
    assert store.inserts == [["c1", "c2"]] and store.replaces == [[]]
    c1, c2 = store.documents["c1"], store.documents["c2"]
    assert (c1["order_count"], c1["total_spend"], c1["name"]) == (2, 125.5, "Asha Rao")
    assert (c2["order_count"], c2["total_spend"]) == (1, 50.0) and is_stub(c2)


def test_a_redelivered_batch_writes_nothing_and_changes_nothing(store, cache):
    project_events(batch_for_two_customers(), store=store, cache=cache)
    before = copy.deepcopy(store.documents)
    assert project_events(batch_for_two_customers(), store=store, cache=cache) == []
    assert store.documents == before
    assert store.inserts[-1] == [] and store.replaces[-1] == []


def test_redelivery_after_a_restart_reads_from_the_store_and_changes_nothing(store, cache):
    project_events(batch_for_two_customers(), store=store, cache=cache)
    before = copy.deepcopy(store.documents)
    fresh_cache = ProfileCache(max_size=100)
    assert project_events(batch_for_two_customers(), store=store, cache=fresh_cache) == []
    assert store.documents == before
    assert sorted(store.finds[-2:]) == ["c1", "c2"]


def test_cached_profiles_are_not_read_again_and_are_replaced(store, cache):
    project_events(batch_for_two_customers(), store=store, cache=cache)
    finds = len(store.finds)
    project_events([order_event("o4", 10, "2024-03-04T00:00:00Z")], store=store, cache=cache)
    assert len(store.finds) == finds
    assert store.replaces[-1] == ["c1"]
    assert store.documents["c1"]["total_spend"] == 135.5


def test_a_customer_event_fills_a_stub_written_earlier(store, cache):
    project_events([order_event("o9", 70, "2024-03-09T00:00:00Z", customer="c2")],
                   store=store, cache=cache)
    project_events([customer_event("e9", "2024-04-01T00:00:00Z", external_id="c2", name="Ravi")],
                   store=store, cache=ProfileCache(max_size=100))
    c2 = store.documents["c2"]
    assert (c2["name"], c2["order_count"], c2["total_spend"]) == ("Ravi", 1, 70.0)
    assert not is_stub(c2)


def test_a_profile_written_by_someone_else_meanwhile_is_merged_not_overwritten(store, cache):
    class RacingStore(FakeProfileStore):
        """Another writer creates c1 between our lookup and our insert."""

        def find(self, external_id):
            found = super().find(external_id)
            if found is None and not self.inserts:
                self.documents["c1"] = apply_event(
                    None, order_event("o-other", 5, "2024-01-01T00:00:00Z"))
            return found

    racing = RacingStore()
    project_events([order_event("o1", 100, "2024-03-01T00:00:00Z")], store=racing, cache=cache)
    c1 = racing.documents["c1"]
    assert (c1["order_count"], c1["total_spend"]) == (2, 105.0)
    assert cache.get("c1")["order_count"] == 2


def test_a_failed_write_clears_the_cache_so_the_retry_reads_the_store(store, cache):
    project_events(batch_for_two_customers(), store=store, cache=cache)
    store.fail_replace = True
    with pytest.raises(ConnectionError):
        project_events([order_event("o4", 10, "2024-03-04T00:00:00Z")], store=store, cache=cache)
    assert len(cache) == 0
    store.fail_replace = False
    project_events([order_event("o4", 10, "2024-03-04T00:00:00Z")], store=store, cache=cache)
    assert store.documents["c1"]["order_count"] == 3


def test_the_cache_evicts_the_least_recently_used_profile():
    cache = ProfileCache(max_size=2)
    for name in ("a", "b"):
        cache.put({"_id": name})
    cache.get("a")
    cache.put({"_id": "c"})
    assert cache.get("b") is None and cache.get("a") == {"_id": "a"} and len(cache) == 2


def test_a_batch_that_outlives_a_cache_clear_does_not_refill_the_cache(store, cache):
    class ReconnectingStore(FakeProfileStore):
        """The consumer reconnects (and clears the cache) while the batch is writing."""

        def insert_new(self, profiles):
            cache.clear()
            return super().insert_new(profiles)

    racing = ReconnectingStore()
    project_events(batch_for_two_customers(), store=racing, cache=cache)
    assert len(cache) == 0 and racing.documents["c1"]["order_count"] == 2
