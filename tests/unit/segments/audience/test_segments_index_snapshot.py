"""An audience index saved to its snapshot file and taken back: the same answers,
a file good for one start only, and refused for another profiles generation."""
import dataclasses
import os
import time
from datetime import UTC, datetime

import pytest
from segments.audience.holder import AudienceHolder
from segments.audience.index import AudienceIndex
from segments.audience.snapshot import IndexSnapshot
from segments.config import SegmentsConfig
from segments.rules.language import parse_rules
from segments.synthetic import synthetic_profiles

NOW = datetime(2025, 1, 1, tzinfo=UTC)
QUEUE = "t.segments.index.r1"
RULES = [
    {"field": "city", "op": "eq", "value": "pune"},
    {"field": "last_order_at", "op": "exists", "value": False},
    {"field": "email", "op": "contains", "value": "7@"},
    {"field": "name", "op": "starts_with", "value": "ARJUN"},
    {"field": "tags", "op": "in", "value": ["vip", "gold"]},
    {"field": "tags", "op": "ne", "value": "new"},
    {"field": "total_spend", "op": "between", "value": [500, 3000]},
    {"field": "visits", "op": "lte", "value": 3},
    {"field": "order_count", "op": "eq", "value": 0},
    {"field": "last_active_at", "op": "older_than", "value": "90d"},
    {"field": "signed_up_at", "op": "before", "value": "2023-06-01"},
    {"any": [{"all": [{"field": "city", "op": "eq", "value": "delhi"},
                      {"not": {"field": "tags", "op": "eq", "value": "vip"}}]},
             {"field": "order_count", "op": "gte", "value": 4}]},
]


@pytest.fixture
def shop():
    """Every kind of column content: written text that differs from its casefold,
    phones, replaced tag lists (dead tag entries), a removed customer, versions."""
    index = AudienceIndex()
    profiles = list(synthetic_profiles(3000, seed=7, now=NOW))
    for i, profile in enumerate(profiles):
        profile["version"] = 1
        profile["phone"] = f"+91 98{i:08d}" if i % 3 else None
    index.upsert_many(profiles)
    index.upsert_newer([{**profiles[i], "version": 2, "city": "PUNE", "tags": ["Gold", "vip"]}
                        for i in range(0, 3000, 7)])
    index.remove("cust-7-5")
    return index


def answers(index: AudienceIndex) -> dict:
    ids = [f"cust-7-{i}" for i in range(0, 3000, 13)] + ["cust-7-5", "nobody"]
    return {
        "previews": [index.preview(parse_rules(rule), NOW, k=7) for rule in RULES],
        "ids": [sorted(index.match_ids(parse_rules(rule), NOW)) for rule in RULES],
        "shown": index.shown(ids),
        "versions": [index.version(external_id) for external_id in ids],
        "size": len(index), "totals": index.totals(),
    }


def test_a_restored_index_answers_as_the_saved_one(tmp_path, shop):
    snapshot = IndexSnapshot(tmp_path, QUEUE)
    written = snapshot.write(shop, "gen-1", "consumer-1")
    assert written["index_size"] == len(shop) == 2999 and written["bytes"] > 0
    restored, why = snapshot.take("gen-1", "consumer-1")
    assert why == "restored" and restored.generation == "gen-1"
    assert answers(restored.index) == answers(shop)
    assert not snapshot.path.exists() and list(tmp_path.iterdir()) == []


def test_a_restored_index_takes_updates_as_the_saved_one_would(tmp_path, shop):
    snapshot = IndexSnapshot(tmp_path, QUEUE)
    snapshot.write(shop, "gen-1", "consumer-1")
    restored = snapshot.take("gen-1", "consumer-1")[0].index
    later = [{"external_id": "cust-7-1", "version": 5, "city": "Kochi", "tags": ["new"]},
             {"external_id": "cust-7-14", "version": 1, "city": "Agra"},  # older: ignored
             {"external_id": "brand-new", "version": 1, "name": "Zed", "tags": ["VIP"]}]
    for index in (shop, restored):
        assert index.upsert_newer(later) == 2
        index.upsert_many([{"external_id": f"n{i}", "tags": ["vip"]} for i in range(3000)])
    assert answers(restored) == answers(shop)


def test_a_snapshot_of_another_profiles_generation_is_refused_and_deleted(tmp_path, shop):
    snapshot = IndexSnapshot(tmp_path, QUEUE)
    snapshot.write(shop, "gen-1", "consumer-1")
    restored, why = snapshot.take("gen-2", "consumer-1")
    assert restored is None and "profiles rebuilt" in why
    assert not snapshot.path.exists()
    assert snapshot.take("gen-1", "consumer-1") == (None, "no snapshot")


def test_a_snapshot_is_refused_once_another_process_consumed_the_queue(tmp_path, shop):
    snapshot = IndexSnapshot(tmp_path, QUEUE)
    for consumer_now in ("consumer-2", None):
        snapshot.write(shop, "gen-1", "consumer-1")
        restored, why = snapshot.take("gen-1", consumer_now)
        assert restored is None and why.startswith("another process consumed")
        assert not snapshot.path.exists()


def test_a_snapshot_of_another_queue_or_a_truncated_one_is_refused(tmp_path, shop):
    IndexSnapshot(tmp_path, "other.segments.index.r1").write(shop, "gen-1", "consumer-1")
    (tmp_path / "other.segments.index.r1.snapshot").rename(tmp_path / f"{QUEUE}.snapshot")
    snapshot = IndexSnapshot(tmp_path, QUEUE)
    assert snapshot.take("gen-1", "consumer-1")[1].startswith("snapshot of another queue")
    snapshot.write(shop, "gen-1", "consumer-1")
    data = snapshot.path.read_bytes()
    snapshot.path.write_bytes(data[: len(data) // 2])
    restored, why = snapshot.take("gen-1", "consumer-1")
    assert restored is None and why.startswith("unreadable snapshot")
    assert not snapshot.path.exists()


class FakeGeneration:
    def __init__(self, value):
        self.value = value

    def current(self):
        return self.value


class FakeConsumers:
    def __init__(self, consumer):
        self.consumer = consumer

    def last(self, queue):
        return self.consumer

    def begin(self, queue):
        self.consumer = f"after-{self.consumer}"
        return self.consumer


class FakeDatabase:
    def __init__(self, generation, consumer="consumer-1"):
        self.generation = FakeGeneration(generation)
        self.consumers = FakeConsumers(consumer)

    def profiles_generation(self):
        return self.generation

    def replica_consumers(self):
        return self.consumers


def holder_with_snapshot(tmp_path, shop, database_generation, consumer="consumer-1"):
    config = dataclasses.replace(SegmentsConfig(), snapshot_dir=str(tmp_path))
    IndexSnapshot(tmp_path, config.index_queue).write(shop, "gen-1", "consumer-1")
    return AudienceHolder(config, FakeDatabase(database_generation, consumer))


def test_the_holder_takes_the_snapshot_back_only_if_the_queue_survived(tmp_path, shop):
    holder = holder_with_snapshot(tmp_path, shop, "gen-1")
    assert holder._restore(queue_existed=False) is False
    assert len(holder.index) == 0 and list(tmp_path.iterdir()) == []
    holder = holder_with_snapshot(tmp_path, shop, "gen-1")
    assert holder._restore(queue_existed=True) is True
    assert answers(holder.index) == answers(shop) and holder._generation == "gen-1"
    assert list(tmp_path.iterdir()) == []


def test_the_holder_refuses_a_snapshot_of_another_profiles_generation_or_consumer(tmp_path,
                                                                                 shop):
    for generation, consumer in (("gen-2", "consumer-1"), ("gen-1", "consumer-2")):
        holder = holder_with_snapshot(tmp_path, shop, generation, consumer)
        assert holder._restore(queue_existed=True) is False
        assert len(holder.index) == 0 and holder._generation is None
        assert list(tmp_path.iterdir()) == []


def test_the_holder_saves_only_a_whole_index_and_only_while_it_holds_the_queue(tmp_path, shop):
    config = dataclasses.replace(SegmentsConfig(), snapshot_dir=str(tmp_path))
    database = FakeDatabase("gen-1")
    holder = AudienceHolder(config, database)
    holder.index, holder._generation = shop, "gen-1"
    holder._begin_consuming()
    holder._stopping.set()
    holder._status = {"state": "loading"}
    holder._save_snapshot(lambda: True)
    assert list(tmp_path.iterdir()) == []
    holder._status = {"state": "ready"}
    holder._save_snapshot(lambda: False)  # lost the queue while writing: not kept
    assert list(tmp_path.iterdir()) == []
    holder._save_snapshot(lambda: True)
    assert [path.name for path in tmp_path.iterdir()] == [f"{config.index_queue}.snapshot"]
    snapshot = IndexSnapshot(tmp_path, config.index_queue)
    assert snapshot.take("gen-1", database.consumers.last(config.index_queue))[0] is not None
    holder._save_snapshot(lambda: True)
    holder._begin_consuming()  # consuming again: the file would miss what is acked
    assert list(tmp_path.iterdir()) == []
    holder._save_snapshot(lambda: True)  # a new consumer id: the old snapshot is refused
    consumer_now = database.consumers.begin(config.index_queue)  # as another process would
    assert snapshot.take("gen-1", consumer_now)[0] is None


def test_snapshot_dir_defaults_under_the_var_dir_and_is_off_in_code():
    assert SegmentsConfig().snapshot_dir is None
    env = {"CRM_VAR_DIR": "/srv/crm/var"}
    assert SegmentsConfig.from_env(env).snapshot_dir == "/srv/crm/var/segments"
    env["SEGMENTS_SNAPSHOT_DIR"] = "/data/snap"
    assert SegmentsConfig.from_env(env).snapshot_dir == "/data/snap"


def test_snapshots_older_than_the_queue_expiry_are_pruned_but_not_our_own(tmp_path, shop):
    ours = IndexSnapshot(tmp_path, QUEUE)
    old = IndexSnapshot(tmp_path, "gone.segments.index.r9")
    recent = IndexSnapshot(tmp_path, "live.segments.index.r2")
    for snapshot in (ours, old, recent):
        snapshot.write(AudienceIndex(), "gen-1", "consumer-1")
    hours_ago = time.time() - 7200
    for path in (ours.path, old.path):
        os.utime(path, (hours_ago, hours_ago))
    ours.prune(3600)
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [ours.path.name, recent.path.name])
