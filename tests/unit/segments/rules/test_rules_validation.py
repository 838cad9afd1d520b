"""Invalid rules, including operator-injection attempts, are refused with a
RuleError naming the offending path; valid rules parse to an immutable tree."""
import dataclasses

import pytest
from segments.rules.language import (
    AllOf,
    Condition,
    Not,
    RuleError,
    parse_rules,
    rule_to_dict,
    top_level_conditions,
)
from segments.rules.values import MAX_LIST_VALUES

CITY = {"field": "city", "op": "eq", "value": "Mumbai"}


def cond(field, op, value):
    return {"field": field, "op": op, "value": value}


def nested_nots(levels, leaf):
    for _ in range(levels):
        leaf = {"not": leaf}
    return leaf


INJECTIONS = [
    (cond("$where", "eq", "1"), "rules.field"),
    (cond("city", "$ne", "x"), "rules.op"),
    (cond("city", "$regex", ".*"), "rules.op"),
    (cond("total_spend", "$gt", 0), "rules.op"),
    ({**CITY, "$where": "sleep(1000)"}, "rules.$where"),
    ({"$where": "this.total_spend > 0"}, "rules.$where"),
    ({"$or": [CITY]}, "rules.$or"),
    ({"all": [CITY, {"$and": [CITY]}]}, "rules.all[1].$and"),
    (cond("city", "eq", {"$ne": None}), "rules.value"),
    (cond("total_spend", "gt", {"$gt": 0}), "rules.value"),
    (cond("city", "in", [{"$regex": ".*"}]), "rules.value[0]"),
    (cond("visits", "between", [{"$gt": 0}, 5]), "rules.value[0]"),
    (cond("last_active_at", "before", {"$date": "2024-01-01"}), "rules.value"),
    ({"not": cond("visits", "$where", 1)}, "rules.not.op"),
    ({"field": {"$ne": 1}, "op": "eq", "value": 1}, "rules.field"),
    ({"field": "city", "op": ["eq"], "value": "x"}, "rules.op"),
    (cond("city", "regex", ".*"), "rules.op"),
    ({**CITY, "options": "i"}, "rules.options"),
]

WRONG_TYPES = [
    (cond("visits", "eq", True), "rules.value"),
    (cond("total_spend", "gt", False), "rules.value"),
    (cond("visits", "eq", "5"), "rules.value"),
    (cond("visits", "gt", [5]), "rules.value"),
    (cond("visits", "eq", None), "rules.value"),
    (cond("total_spend", "eq", float("nan")), "rules.value"),
    (cond("total_spend", "lt", float("inf")), "rules.value"),
    (cond("total_spend", "lt", 10**400), "rules.value"),
    (cond("visits", "between", 5), "rules.value"),
    (cond("visits", "between", [1]), "rules.value"),
    (cond("visits", "between", [1, 2, 3]), "rules.value"),
    (cond("visits", "between", [1, True]), "rules.value[1]"),
    (cond("visits", "between", [5, 1]), "rules.value"),
    (cond("visits", "in", 5), "rules.value"),
    (cond("visits", "in", []), "rules.value"),
    (cond("visits", "in", [1, "2"]), "rules.value[1]"),
    (cond("city", "eq", 5), "rules.value"),
    (cond("city", "eq", ["Mumbai"]), "rules.value"),
    (cond("city", "in", "Mumbai"), "rules.value"),
    (cond("city", "not_in", ["Pune", 1]), "rules.value[1]"),
    (cond("city", "contains", ""), "rules.value"),
    (cond("name", "starts_with", "x" * 1001), "rules.value"),
    (cond("tags", "eq", True), "rules.value"),
    (cond("tags", "in", [["vip"]]), "rules.value[0]"),
    (cond("last_active_at", "before", "yesterday"), "rules.value"),
    (cond("last_active_at", "before", 1700000000), "rules.value"),
    (cond("last_active_at", "after", "2024-13-01"), "rules.value"),
    (cond("last_active_at", "after", "2024-02-30"), "rules.value"),
    (cond("last_active_at", "after", "2024-01-01T25:00:00Z"), "rules.value"),
    (cond("last_active_at", "after", "20240101"), "rules.value"),
    (cond("last_order_at", "older_than", "90"), "rules.value"),
    (cond("last_order_at", "older_than", 90), "rules.value"),
    (cond("last_order_at", "older_than", "3 months"), "rules.value"),
    (cond("last_order_at", "within", "0d"), "rules.value"),
    (cond("last_order_at", "within", "-1d"), "rules.value"),
    (cond("last_order_at", "within", "090d"), "rules.value"),
    (cond("last_order_at", "within", "12h"), "rules.value"),
    (cond("last_order_at", "within", "101y"), "rules.value"),
    (cond("signed_up_at", "exists", "true"), "rules.value"),
    (cond("signed_up_at", "exists", 1), "rules.value"),
]

WRONG_FIELDS_AND_OPERATORS = [
    (cond("phone", "eq", "1"), "rules.field"),
    (cond("external_id", "eq", "1"), "rules.field"),
    (cond("password", "eq", "1"), "rules.field"),
    (cond("City", "eq", "Mumbai"), "rules.field"),
    (cond("last_active_at", "gt", "2024-01-01"), "rules.op"),
    (cond("city", "gt", 5), "rules.op"),
    (cond("total_spend", "contains", "1"), "rules.op"),
    (cond("tags", "between", ["a", "b"]), "rules.op"),
    (cond("visits", "exists", True), "rules.op"),
    (cond("visits", "not_in", [1]), "rules.op"),
]

def windowed(field, op, value, in_last):
    return {**cond(field, op, value), "in_last": in_last}


BAD_WINDOWS = [
    (windowed("visits", "gt", 1, "30d"), "rules.in_last"),
    (windowed("city", "eq", "Pune", "30d"), "rules.in_last"),
    (windowed("last_order_at", "within", "30d", "30d"), "rules.in_last"),
    (windowed("total_spend", "gt", 5000, "90"), "rules.in_last"),
    (windowed("total_spend", "gt", 5000, 90), "rules.in_last"),
    (windowed("total_spend", "gt", 5000, "0d"), "rules.in_last"),
    (windowed("total_spend", "gt", 5000, "12h"), "rules.in_last"),
    (windowed("order_count", "gte", 2, "101y"), "rules.in_last"),
    (windowed("order_count", "gte", 2, None), "rules.in_last"),
    (windowed("order_count", "gte", 2, {"$gt": "1d"}), "rules.in_last"),
    ({"all": [windowed("total_spend", "gt", 5000, "3 months")]}, "rules.all[0].in_last"),
    (windowed("total_spend", "gt", "5000", "90d"), "rules.value"),
]

BAD_STRUCTURE = [
    ({}, "rules"),
    ([], "rules"),
    ([CITY], "rules"),
    ("city = Mumbai", "rules"),
    (None, "rules"),
    (5, "rules"),
    ({"all": []}, "rules.all"),
    ({"any": []}, "rules.any"),
    ({"all": CITY}, "rules.all"),
    ({"any": "x"}, "rules.any"),
    ({"not": []}, "rules.not"),
    ({"not": [CITY]}, "rules.not"),
    ({"all": [5]}, "rules.all[0]"),
    ({"all": [None]}, "rules.all[0]"),
    ({"all": [CITY], "any": [CITY]}, "rules.any"),
    ({"all": [CITY], "field": "city"}, "rules.field"),
    ({"not": CITY, "all": [CITY]}, "rules.all"),
    ({"field": "city", "op": "eq"}, "rules.value"),
    ({"field": "city", "value": "x"}, "rules.op"),
    ({"op": "eq", "value": "x"}, "rules.field"),
    ({"any": [{"all": [CITY, cond("visits", "gte", "3")]}]}, "rules.any[0].all[1].value"),
    (nested_nots(8, CITY), "rules" + ".not" * 8),
    ({"all": [{"all": [{"any": [{"all": [{"any": [{"all": [{"any": [{"all": [CITY]}]}]}]}]}]}]}]},
     "rules.all[0].all[0].any[0].all[0].any[0].all[0].any[0].all[0]"),
    ({"all": [CITY] * 101}, "rules.all"),
    ({"all": [{"any": [CITY] * 50}, {"any": [CITY] * 51}]}, "rules"),
    (cond("city", "in", ["x"] * (MAX_LIST_VALUES + 1)), "rules.value"),
]


@pytest.mark.parametrize("raw, path", INJECTIONS + WRONG_TYPES + WRONG_FIELDS_AND_OPERATORS
                         + BAD_WINDOWS + BAD_STRUCTURE)
def test_invalid_rules_name_the_offending_path(raw, path):
    with pytest.raises(RuleError) as refused:
        parse_rules(raw)
    assert path in refused.value.details, refused.value.details
    assert refused.value.message and str(refused.value).startswith(refused.value.path)


def test_every_problem_is_reported_up_to_a_cap():
    raw = {"all": [cond("visits", "eq", "1"), CITY, cond("town", "eq", "x")]}
    with pytest.raises(RuleError) as refused:
        parse_rules(raw)
    assert set(refused.value.details) == {"rules.all[0].value", "rules.all[2].field"}

    with pytest.raises(RuleError) as refused:
        parse_rules({"all": [5] * 100})
    assert 1 <= len(refused.value.details) <= 20


@pytest.mark.parametrize("raw", [
    nested_nots(7, CITY),
    {"all": [CITY] * 100},
    {"all": [{"any": [CITY] * 50}, {"any": [CITY] * 50}]},
    cond("city", "in", ["x"] * MAX_LIST_VALUES),
    cond("city", "eq", "$where"),
    cond("city", "eq", ""),
    cond("visits", "between", [3, 3]),
    cond("total_spend", "eq", 10**15),
    cond("last_active_at", "before", "2024-01-31"),
    cond("last_active_at", "after", "2024-01-31T09:30:00Z"),
    cond("last_active_at", "after", "2024-01-31 09:30:00.123456+05:30"),
    cond("last_active_at", "within", "100y"),
    cond("signed_up_at", "exists", False),
    windowed("total_spend", "gt", 5000, "90d"),
    windowed("order_count", "gte", 2, "30d"),
    windowed("total_spend", "between", [1000, 20000], "1y"),
    windowed("order_count", "in", [0, 1], "12w"),
    {"not": windowed("total_spend", "lte", 0, "100y")},
])
def test_valid_rules_at_the_limits_parse_and_round_trip(raw):
    assert rule_to_dict(parse_rules(raw)) == raw


def test_the_api_examples_parse_to_an_immutable_tree():
    big_spenders = parse_rules({"all": [cond("total_spend", "gt", 10000),
                                        cond("visits", "lte", 3)]})
    assert isinstance(big_spenders, AllOf)
    assert big_spenders.rules[0] == Condition("total_spend", "gt", 10000, 10000.0)
    assert top_level_conditions(big_spenders) == big_spenders.rules
    with pytest.raises(dataclasses.FrozenInstanceError):
        big_spenders.rules[0].op = "$where"

    inactive = parse_rules(cond("last_active_at", "older_than", "3mo"))
    assert inactive.operand == 90 * 86_400 * 10**6  # relative: resolved only at evaluation
    assert top_level_conditions(inactive) == (inactive,)
    assert parse_rules({"not": rule_to_dict(inactive)}) == Not(inactive)


def test_string_values_are_kept_as_written_but_compared_casefolded():
    rule = parse_rules(cond("city", "in", ["MUMBAI", "Straße"]))
    assert rule.value == ("MUMBAI", "Straße")
    assert rule.operand == frozenset({"mumbai", "strasse"})


def test_an_order_window_is_kept_relative_and_beside_the_value():
    rule = parse_rules(windowed("total_spend", "gt", 5000, "3mo"))
    assert (rule.field, rule.op, rule.value, rule.operand) == ("total_spend", "gt", 5000, 5000.0)
    assert rule.in_last == "3mo" and rule.window == 90 * 86_400 * 10**6
    lifetime = parse_rules(cond("total_spend", "gt", 5000))
    assert lifetime.in_last is None and lifetime.window is None
    assert lifetime != rule  # the window is part of what the condition means
    assert "in_last" not in rule_to_dict(lifetime)


def test_every_window_problem_is_reported_with_the_others():
    raw = {"all": [windowed("visits", "gt", 1, "30d"), windowed("total_spend", "gt", "x", "1d"),
                   windowed("order_count", "gt", 1, "1h")]}
    with pytest.raises(RuleError) as refused:
        parse_rules(raw)
    assert set(refused.value.details) == {"rules.all[0].in_last", "rules.all[1].value",
                                          "rules.all[2].in_last"}
    assert "total_spend" in refused.value.details["rules.all[0].in_last"]
