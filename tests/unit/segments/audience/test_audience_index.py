"""Hand-computed examples for the audience index: breakdown, relative times,
replacement and removal, incremental string scans, atomic writes, and a
reader counting while a writer upserts."""
import threading
from datetime import UTC, datetime, timedelta

import pytest
from segments.audience.index import AudienceIndex
from segments.rules.language import parse_rules
from segments.synthetic import synthetic_profiles

NOW = datetime(2024, 6, 15, 12, 0, tzinfo=UTC)


def customer(external_id, **fields):
    return {"external_id": external_id, "name": external_id.title(), "email": None, "city": None,
            "tags": [], "visits": None, "total_spend": 0.0, "order_count": 0,
            "signed_up_at": None, "last_visit_at": None, "last_order_at": None,
            "last_active_at": None, **fields}


def cond(field, op, value):
    return {"field": field, "op": op, "value": value}


@pytest.fixture
def shoppers():
    index = AudienceIndex()
    index.upsert_many([
        customer("asha", total_spend=15000.0, visits=2, city="Mumbai", tags=["VIP"]),
        customer("ravi", total_spend=12000.0, visits=9, city="mumbai"),
        customer("zoya", total_spend=20000.0, visits=None, city="Pune", tags=["vip", "new"]),
        customer("kabir", total_spend=500.0, visits=1, city=None),
        customer("meera", total_spend=10000.0, visits=3, city="MUMBAI", tags=["new"]),
    ])
    return index


def test_breakdown_of_an_all_group_counts_each_part_and_the_running_total(shoppers):
    rule = parse_rules({"all": [cond("total_spend", "gt", 10000), cond("visits", "lte", 3),
                                cond("city", "eq", "mumbai")]})
    # spend > 10000: asha ravi zoya; visits <= 3: asha kabir meera; Mumbai: asha ravi meera
    assert shoppers.breakdown(rule, NOW) == [
        {"rule": cond("total_spend", "gt", 10000), "count": 3, "cumulative": 3},
        {"rule": cond("visits", "lte", 3), "count": 3, "cumulative": 1},
        {"rule": cond("city", "eq", "mumbai"), "count": 3, "cumulative": 1},
    ]
    assert shoppers.count(rule, NOW) == 1
    assert list(shoppers.match_ids(rule, NOW)) == ["asha"]


def test_breakdown_of_an_any_group_and_of_a_single_condition(shoppers):
    rule = parse_rules({"any": [cond("tags", "eq", "VIP"), cond("city", "eq", "pune"),
                                {"not": cond("city", "ne", "MUMBAI")}]})
    assert [(s["count"], s["cumulative"]) for s in shoppers.breakdown(rule, NOW)] == [
        (2, 2), (1, 2), (3, 4)]
    single = parse_rules(cond("visits", "ne", 2))  # a missing visit count is "not 2"
    assert shoppers.breakdown(single, NOW) == [
        {"rule": cond("visits", "ne", 2), "count": 4, "cumulative": 4}]


def test_missing_values_and_negated_string_operators(shoppers):
    def count(raw):
        return shoppers.count(parse_rules(raw), NOW)

    assert count(cond("city", "ne", "Mumbai")) == 2  # zoya (Pune) and kabir (no city)
    assert count(cond("city", "not_in", ["mumbai", "PUNE"])) == 1
    assert count(cond("tags", "ne", "vip")) == 3  # nobody with a VIP tag, any case
    assert count(cond("tags", "not_in", ["vip", "new"])) == 2
    assert count(cond("city", "starts_with", "MUM")) == 3
    assert count(cond("visits", "in", [1, 2, 3])) == 3
    assert count({"not": cond("visits", "gte", 0)}) == 1  # zoya never reported visits


def test_relative_times_are_resolved_at_evaluation_not_when_parsed():
    index = AudienceIndex()
    index.upsert_many([
        customer("recent", last_active_at=NOW - timedelta(days=10)),
        customer("lapsed", last_active_at=NOW - timedelta(days=100)),
        customer("never"),
    ])
    inactive = parse_rules(cond("last_active_at", "older_than", "3mo"))
    active = parse_rules(cond("last_active_at", "within", "3mo"))
    assert list(index.match_ids(inactive, NOW)) == ["lapsed", "never"]
    assert list(index.match_ids(inactive, NOW + timedelta(days=81))) == [
        "recent", "lapsed", "never"]
    assert index.count(active, NOW) == 1
    assert index.count(active, NOW - timedelta(days=11)) == 2  # a future value is "within"
    boundary = NOW - timedelta(days=10) + timedelta(days=90)
    assert index.count(active, boundary) == 1 and index.count(inactive, boundary) == 2


def test_date_only_instants_mean_midnight_utc():
    index = AudienceIndex()
    index.upsert_many([
        customer("midnight", signed_up_at=datetime(2024, 1, 1, tzinfo=UTC)),
        customer("ist-evening", signed_up_at="2024-01-01T04:59:59+05:30"),  # 23:29:59 UTC before
    ])
    assert list(index.match_ids(parse_rules(cond("signed_up_at", "before", "2024-01-01")), NOW)) \
        == ["ist-evening"]
    assert index.count(parse_rules(cond("signed_up_at", "after", "2024-01-01")), NOW) == 0
    with pytest.raises(ValueError):
        index.count(parse_rules(cond("signed_up_at", "exists", True)), NOW.replace(tzinfo=None))


def test_replacing_and_removing_profiles_keeps_rows_stable(shoppers):
    vip = parse_rules(cond("tags", "eq", "vip"))
    shoppers.upsert(customer("asha", tags=["gold"]))
    assert list(shoppers.match_ids(vip, NOW)) == ["zoya"]
    pending = shoppers.match_ids(vip, NOW)
    assert shoppers.remove("zoya") and not shoppers.remove("zoya")
    assert list(pending) == []  # removed after evaluation: skipped
    shoppers.upsert(customer("zoya", tags=["VIP"]))
    shoppers.upsert(customer("asha", tags=["Vip"]))
    assert list(shoppers.match_ids(vip, NOW)) == ["asha", "zoya"]
    assert len(shoppers) == 5 and "zoya" in shoppers
    assert shoppers.count(parse_rules(cond("visits", "ne", 1)), NOW) == 4


def test_many_tag_replacements_compact_the_tag_log_without_losing_answers():
    index = AudienceIndex()
    index.upsert_many(customer(f"c{i}", tags=["new"]) for i in range(50))
    for round_ in range(3000):
        index.upsert(customer(f"c{round_ % 50}", tags=["gold", f"wave-{round_ % 3}", "new"]))
    # last rounds 2950-2999: 17 have r % 3 == 2
    assert index.count(parse_rules(cond("tags", "eq", "wave-2")), NOW) == 17
    assert index.count(parse_rules(cond("tags", "in", ["gold"])), NOW) == 50
    assert index.count(parse_rules(cond("tags", "contains", "wave")), NOW) == 50


def test_cached_substring_scans_see_values_added_later(shoppers):
    golden = parse_rules(cond("tags", "contains", "gold"))
    gmail = parse_rules(cond("email", "contains", "@GMAIL"))
    assert shoppers.count(golden, NOW) == 0 and shoppers.count(gmail, NOW) == 0
    shoppers.upsert_many([customer("new1", tags=["Golden"], email="a@gmail.com"),
                          customer("new2", tags=["gold"], email="b@Gmail.Com")])
    assert shoppers.count(golden, NOW) == 2 and shoppers.count(gmail, NOW) == 2


def test_a_profile_that_cannot_be_indexed_changes_nothing(shoppers):
    everyone = parse_rules(cond("visits", "ne", -1))
    with pytest.raises((TypeError, ValueError, AttributeError)):
        shoppers.upsert_many([customer("new"), customer("asha", last_visit_at="not a time")])
    assert len(shoppers) == 5 and "new" not in shoppers
    assert shoppers.count(everyone, NOW) == 5
    assert shoppers.count(parse_rules(cond("tags", "eq", "vip")), NOW) == 2


def test_sample_is_spread_over_the_whole_audience():
    index = AudienceIndex()
    index.upsert_many(customer(f"c{i:03}", visits=i) for i in range(100))
    rule = parse_rules(cond("visits", "gte", 0))
    assert index.preview(rule, NOW, k=5).sample == ["c000", "c025", "c050", "c074", "c099"]
    few = index.preview(parse_rules(cond("visits", "lt", 3)), NOW)
    assert few.sample == ["c000", "c001", "c002"]
    assert index.preview(parse_rules(cond("visits", "gt", 100)), NOW).sample == []


def test_a_reader_counts_consistently_while_a_writer_upserts():
    index, profiles = AudienceIndex(), list(synthetic_profiles(6000, seed=3, now=NOW))
    everyone = parse_rules({"any": [cond("total_spend", "gte", 0), cond("tags", "ne", "x")]})
    counts, failures = [], []

    def write():
        for start in range(0, len(profiles), 50):
            index.upsert_many(profiles[start:start + 50])

    writer = threading.Thread(target=write)
    writer.start()
    while writer.is_alive():
        try:
            counts.append(index.count(everyone, NOW))
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            failures.append(error)
    writer.join()
    assert failures == []
    assert counts == sorted(counts) and all(c % 50 == 0 for c in counts)
    assert index.count(everyone, NOW) == 6000 == len(index)
