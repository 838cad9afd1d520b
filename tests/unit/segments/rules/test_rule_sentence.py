"""Rules said back in words (rules/sentence.py), order windows included."""
import pytest
from segments.rules.language import parse_rules, rule_to_dict
from segments.rules.sentence import sentence


@pytest.mark.parametrize("rule, words", [
    ({"field": "total_spend", "op": "gt", "value": 5000, "in_last": "90d"},
     "total spend over ₹5,000 in the last 90 days"),
    ({"field": "order_count", "op": "gte", "value": 2, "in_last": "30d"},
     "at least 2 orders in the last 30 days"),
    ({"field": "order_count", "op": "eq", "value": 0, "in_last": "1y"},
     "no orders in the last 1 year"),
    ({"field": "total_spend", "op": "between", "value": [1000, 20000], "in_last": "12w"},
     "total spend between ₹1,000 and ₹20,000 in the last 12 weeks"),
    ({"all": [{"field": "total_spend", "op": "gt", "value": 100000},
              {"not": {"field": "order_count", "op": "lt", "value": 2, "in_last": "3mo"}}]},
     "total spend over ₹1,00,000 and not fewer than 2 orders in the last 3 months"),
])
def test_an_order_window_is_said_after_its_condition(rule, words):
    assert sentence(rule_to_dict(parse_rules(rule))) == words
