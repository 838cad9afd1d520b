"""Order windows in the audience index (audience/order_windows.py): hand-computed
spends and counts in the last d, a customer without orders at 0, replacements
and removals retiring a row's orders, compaction, the cold load from profiles and
profile.updated, and the snapshot keeping them."""
import io
import pickle
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from segments.audience.holder import load_index
from segments.audience.index import AudienceIndex
from segments.audience.membership import explain
from segments.projection.profiles import announced, apply_event
from segments.rules.language import parse_rules

from tests.support.profile_events import customer_event, order_event
from tests.support.segment_fakes import FakeScan

NOW = datetime(2025, 1, 1, tzinfo=UTC)


def ms(days_ago: float) -> int:
    return int((NOW - timedelta(days=days_ago)).timestamp() * 1000)


def orders(*pairs):
    """Orders as profile.updated carries them, from (placed_at ms, amount) pairs."""
    return {"placed_at": [placed for placed, _ in pairs], "amount": [a for _, a in pairs]}


def window(field, op, value, in_last):
    return parse_rules({"field": field, "op": op, "value": value, "in_last": in_last})


SHOP = [
    # 3,000 in the last 90 days (two orders), 9,000 in total
    {"external_id": "asha", "total_spend": 9000.0, "order_count": 3,
     "orders": orders((ms(200), 6000.0), (ms(80), 1000.0), (ms(10), 2000.0))},
    # 6,000 in the last 90 days, one order exactly at the edge
    {"external_id": "ravi", "total_spend": 6000.0, "order_count": 2,
     "orders": orders((ms(90), 5000.0), (ms(1), 1000.0))},
    {"external_id": "zoe", "total_spend": 0.0, "order_count": 0, "orders": orders()},
    {"external_id": "old", "total_spend": 100.0, "order_count": 1},  # no orders listed
]


def ids(index, rule, now=NOW):
    return sorted(index.match_ids(rule, now))


@pytest.fixture
def shop():
    index = AudienceIndex()
    index.upsert_many(SHOP)
    return index


def test_spend_and_count_in_the_window_are_hand_computed(shop):
    assert ids(shop, window("total_spend", "gt", 5000, "90d")) == ["ravi"]
    assert ids(shop, window("total_spend", "gte", 3000, "90d")) == ["asha", "ravi"]
    assert ids(shop, window("total_spend", "gt", 5000, "1y")) == ["asha", "ravi"]
    assert ids(shop, window("order_count", "gte", 2, "90d")) == ["asha", "ravi"]
    assert ids(shop, window("order_count", "gte", 2, "30d")) == []
    assert ids(shop, window("order_count", "eq", 1, "30d")) == ["asha", "ravi"]
    # No order in the window is 0, never missing: eq 0 and lt match, ne 0 does not.
    assert ids(shop, window("order_count", "eq", 0, "30d")) == ["old", "zoe"]
    assert ids(shop, window("total_spend", "lt", 1, "7d")) == ["asha", "old", "zoe"]
    assert ids(shop, window("total_spend", "ne", 0, "7d")) == ["ravi"]
    assert ids(shop, window("total_spend", "between", [2000, 3000], "90d")) == ["asha"]
    assert ids(shop, window("order_count", "in", [2, 3], "1y")) == ["asha", "ravi"]
    # The lifetime field is untouched by windows.
    assert ids(shop, parse_rules({"field": "total_spend", "op": "gt", "value": 5000})) == [
        "asha", "ravi"]


def test_the_window_moves_with_now_to_the_microsecond(shop):
    edge = window("total_spend", "gt", 5000, "90d")  # ravi's 5,000 is exactly 90 days old
    assert ids(shop, edge, NOW) == ["ravi"]
    assert ids(shop, edge, NOW + timedelta(microseconds=1)) == []
    # Orders placed after `now` count, as `within` counts future times.
    assert ids(shop, edge, NOW - timedelta(days=30)) == ["ravi"]
    assert ids(shop, window("total_spend", "gt", 6500, "90d"), NOW - timedelta(days=115)) == [
        "asha"]


def test_a_window_combines_with_plain_conditions_and_negation(shop):
    rule = parse_rules({"any": [
        {"all": [{"field": "order_count", "op": "gte", "value": 2, "in_last": "90d"},
                 {"field": "total_spend", "op": "gt", "value": 8000}]},
        {"not": {"field": "order_count", "op": "gte", "value": 1, "in_last": "1y"}}]})
    assert ids(shop, rule) == ["asha", "old", "zoe"]
    preview = shop.preview(rule, NOW)
    assert preview.count == 3 and preview.breakdown[0]["count"] == 1


def test_replacing_and_removing_a_customer_retires_its_orders(shop):
    shop.upsert({**SHOP[0], "orders": orders((ms(5), 9000.0))})
    assert ids(shop, window("total_spend", "gt", 5000, "30d")) == ["asha"]
    assert ids(shop, window("order_count", "gte", 2, "1y")) == ["ravi"]
    shop.upsert({**SHOP[1], "orders": None})
    assert ids(shop, window("order_count", "eq", 0, "1y")) == ["old", "ravi", "zoe"]
    assert shop.remove("asha")
    assert ids(shop, window("total_spend", "gt", 0, "1y")) == []
    shop.upsert(SHOP[0])  # back, as a new row
    assert ids(shop, window("total_spend", "gte", 3000, "90d")) == ["asha"]


def test_compaction_keeps_every_row_its_own_orders():
    index = AudienceIndex()
    customers = [{"external_id": f"c{i}", "orders": orders(*[(ms(i), 1.0)] * (i % 4))}
                 for i in range(50)]
    index.upsert_many(customers)
    for rounds in range(1, 8):  # each round retires the last round's orders
        index.upsert_many([{**c, "orders": orders(*[(ms(j), float(rounds)) for j in range(i % 5)])}
                           for i, c in enumerate(customers)])
        windows = index._windows
        assert windows.retired <= windows.live and windows.live == sum(i % 5 for i in range(50))
        assert [windows.held(row) for row in range(3)] == [
            [], [[ms(0), float(rounds)]], [[ms(0), float(rounds)], [ms(1), float(rounds)]]]
    spend = window("total_spend", "eq", 7.0 * 4, "1y")
    assert ids(index, spend) == sorted(f"c{i}" for i in range(50) if i % 5 == 4)


def test_a_bad_order_changes_nothing(shop):
    for bad in (orders(("2024-01-01", 10.0)), {"placed_at": [ms(1)], "amount": []},
                orders((ms(1), float("nan"))), orders((2.0 ** 60, 1.0))):
        with pytest.raises(ValueError):
            shop.upsert_many([{**SHOP[2], "orders": orders((ms(1), 10.0))},
                              {"external_id": "new", "orders": bad}])
    assert "new" not in shop and ids(shop, window("order_count", "gte", 1, "7d")) == ["ravi"]


def test_orders_reach_the_index_from_profiles_and_from_profile_updated():
    events = [customer_event("e1", "2024-04-01T00:00:00Z"),
              order_event("o2", 4000, "2024-12-20T00:00:00Z"),
              order_event("o1", 3000, "2023-01-01T00:00:00Z"),  # accepted late, placed early
              order_event("o2", 4000, "2024-12-20T00:00:00Z")]  # a redelivery: counted once
    profile = None
    for event in events:
        profile = apply_event(profile, event)
    from_load, from_feed = AudienceIndex(), AudienceIndex()
    load_index(from_load, FakeScan([profile]), batch_size=10)
    from_feed.upsert_newer([announced(profile)])
    for index in (from_load, from_feed):
        assert ids(index, window("total_spend", "eq", 4000, "90d")) == ["c1"]
        assert ids(index, window("order_count", "eq", 2, "3y")) == ["c1"]
    assert explain(window("total_spend", "gt", 3000, "90d"), announced(profile), NOW) == {
        "field": "total_spend", "op": "gt", "value": 3000, "in_last": "90d", "matched": True,
        "customer_value": 4000.0}


def test_the_snapshot_keeps_the_orders_without_spare_capacity(shop):
    shop.upsert({**SHOP[0], "orders": orders((ms(5), 9000.0))})
    file = io.BytesIO()
    shop.dump(file)
    file.seek(0)
    restored = pickle.load(file)  # noqa: S301 (our own bytes)
    rule = window("total_spend", "gt", 5000, "90d")
    assert ids(restored, rule) == ids(shop, rule) == ["asha", "ravi"]
    assert len(restored._windows.placed) == restored._windows.size
    restored.upsert({"external_id": "new", "orders": orders((ms(1), 6000.0))})
    assert ids(restored, rule) == ["asha", "new", "ravi"]
    state = restored.__getstate__()
    del state["_windows"]  # an index pickled before order windows existed
    with pytest.raises(TypeError):
        AudienceIndex().__setstate__(state)
    assert np.all(restored._windows.rows[: restored._windows.size] >= 0)
