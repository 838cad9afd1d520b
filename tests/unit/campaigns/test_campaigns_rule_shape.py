"""Inline campaign rules: the code and the spec's InlineRule agree on what is rule-shaped
(storable), and junk a document store cannot hold is a 400 at create, not a 500."""
from __future__ import annotations

import jsonschema_rs
import pytest

from campaigns.rule_shape import COMPONENT, component, is_rule_shaped

SHAPED = [
    {"field": "total_spend", "op": "gt", "value": 10000},
    {"all": [{"field": "city", "op": "in", "value": ["Pune", "Goa"]},
             {"not": {"field": "nope", "op": "whatever", "value": True}}]},
    {"any": []},
    {"field": "total_spend", "op": "gt", "value": 5000, "in_last": "90d"},
]
NOT_SHAPED = [
    {}, {"\x00": 1}, {"$where": "1"}, {"a.b": {}}, {"all": [[1]]}, {"all": {}},
    {"field": "x", "op": "eq", "value": [[1], 2]}, {"field": "x", "op": "eq", "value": {"a": 1}},
    {"field": "x", "op": "eq"}, {"field": 1, "op": "eq", "value": 1},
    {"all": [], "any": []}, {"field": "x", "op": "eq", "value": None},
    {"field": "x", "op": "eq", "value": 1, "in_last": 90},
    {"field": "x", "op": "eq", "value": 1, "in_last": ["90d"]},
    {"field": "x", "op": "eq", "value": 1, "in_last": "90d", "other": 1},
]


@pytest.fixture(scope="module")
def validator():
    document = {"components": {"schemas": {COMPONENT: component()}},
                "$ref": f"#/components/schemas/{COMPONENT}"}
    return jsonschema_rs.validator_for(document)


@pytest.mark.parametrize("rules", SHAPED)
def test_rule_shaped_rules_pass_both(validator, rules):
    assert is_rule_shaped(rules) and validator.is_valid(rules)


@pytest.mark.parametrize("rules", NOT_SHAPED)
def test_other_json_fails_both(validator, rules):
    assert not is_rule_shaped(rules) and not validator.is_valid(rules)


def test_nine_levels_are_too_deep():
    rules = {"field": "visits", "op": "eq", "value": 1}
    for _ in range(7):
        rules = {"not": rules}
    assert is_rule_shaped(rules)
    assert not is_rule_shaped({"not": rules})
