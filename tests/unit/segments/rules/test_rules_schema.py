"""The OpenAPI schema of an audience rule says what parse_rules accepts: every field and
operator of the allow-list is described, and the two agree on valid and invalid rules
(except the limits the schema only describes: depth, total conditions, between order)."""
from __future__ import annotations

import jsonschema_rs
import pytest
from segments.rules.language import FIELDS, RuleError, parse_rules
from segments.rules.schema import ROOT, condition_schema, rule_components

VALID = [
    {"field": "total_spend", "op": "between", "value": [10, 20.5]},
    {"all": [{"field": "visits", "op": "lte", "value": 3},
             {"not": {"field": "city", "op": "in", "value": ["Pune", "Goa"]}}]},
    {"any": [{"field": "tags", "op": "contains", "value": "vip"},
             {"field": "last_active_at", "op": "older_than", "value": "36500d"}]},
    {"field": "signed_up_at", "op": "before", "value": "2024-01-31T09:30:00Z"},
    {"field": "last_order_at", "op": "after", "value": "2024-01-31"},
    {"field": "last_visit_at", "op": "exists", "value": False},
    {"field": "marketing_consent", "op": "ne", "value": "unsubscribed"},
    {"field": "suppressed", "op": "eq", "value": True},
    {"field": "last_active_at", "op": "within", "value": "100y"},
    {"field": "total_spend", "op": "gt", "value": 5000, "in_last": "90d"},
    {"all": [{"field": "order_count", "op": "between", "value": [2, 5], "in_last": "36500d"},
             {"field": "city", "op": "eq", "value": "Pune"}]},
]
INVALID = [
    {}, {"all": []}, {"all": [{}]},
    {"field": "total_spend", "op": "contains", "value": "x"},
    {"field": "nope", "op": "eq", "value": 1},
    {"field": "visits", "op": "eq", "value": "3"},
    {"field": "visits", "op": "between", "value": [1]},
    {"field": "city", "op": "in", "value": []},
    {"field": "name", "op": "starts_with", "value": ""},
    {"field": "last_active_at", "op": "older_than", "value": "36501d"},
    {"field": "last_active_at", "op": "within", "value": "101y"},
    {"field": "last_active_at", "op": "within", "value": "090d"},
    {"field": "signed_up_at", "op": "before", "value": "yesterday"},
    {"field": "marketing_consent", "op": "eq", "value": "maybe"},
    {"field": "visits", "op": "eq", "value": 1, "extra": 1},
    {"all": [{"field": "visits", "op": "eq", "value": 1}], "any": []},
    {"field": "visits", "op": "gt", "value": 1, "in_last": "30d"},
    {"field": "last_order_at", "op": "within", "value": "30d", "in_last": "30d"},
    {"field": "total_spend", "op": "gt", "value": 1, "in_last": "36501d"},
    {"field": "order_count", "op": "gt", "value": 1, "in_last": "1h"},
    {"field": "order_count", "op": "gt", "value": 1, "in_last": None},
]


@pytest.fixture(scope="module")
def validator():
    document = {"components": {"schemas": rule_components()},
                "$ref": f"#/components/schemas/{ROOT}"}
    return jsonschema_rs.validator_for(document, validate_formats=True)


def test_every_field_and_operator_of_the_allow_list_is_described():
    described: dict[str, set[str]] = {}
    for variant in condition_schema()["oneOf"]:
        for name in variant["properties"]["field"]["enum"]:
            described.setdefault(name, set()).update(variant["properties"]["op"]["enum"])
    assert described == {name: set(ops) for name, (_kind, ops) in FIELDS.items()}


@pytest.mark.parametrize("rule", VALID)
def test_a_rule_the_schema_accepts_parses(validator, rule):
    assert validator.is_valid(rule)
    parse_rules(rule)


@pytest.mark.parametrize("rule", INVALID)
def test_a_rule_the_schema_refuses_is_refused(validator, rule):
    assert not validator.is_valid(rule)
    with pytest.raises(RuleError):
        parse_rules(rule)
