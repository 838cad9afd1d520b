"""Order windows described in words (segments.describe.windows): spend and
order counts followed by a duration read as `in_last`, valid for the rule
validator and said back with the window; a time that is no duration (a date,
"this year", "more than 90 days ago") is refused with the reason, never read
as the lifetime total."""
from datetime import date

import pytest
from segments.describe.reader import describe
from segments.rules.language import parse_rules, rule_to_dict

TODAY = date(2026, 12, 2)


def c(field, op, value, in_last=None):
    rule = {"field": field, "op": op, "value": value}
    return rule if in_last is None else {**rule, "in_last": in_last}


def all_of(*rules):
    return {"all": list(rules)}


def any_of(*rules):
    return {"any": list(rules)}


WINDOWED = [
    ("spent over 5,000 in the last 90 days", c("total_spend", "gt", 5000, "90d")),
    ("spent more than ₹2k in the past month", c("total_spend", "gt", 2000, "1mo")),
    ("placed 3 or more orders in the last 6 months", c("order_count", "gte", 3, "6mo")),
    ("ordered at least twice in the last 30 days", c("order_count", "gte", 2, "30d")),
    ("spent between 1,000 and 5,000 in the last 12 weeks",
     c("total_spend", "between", [1000, 5000], "12w")),
    ("ordered more than 3 times in the last 30 days", c("order_count", "gt", 3, "30d")),
    ("spent at least 1 lakh within the last year", c("total_spend", "gte", 100000, "1y")),
    ("spent under Rs 500 over the past 2 weeks", c("total_spend", "lt", 500, "2w")),
    ("more than 5 orders in the last 3 months", c("order_count", "gt", 5, "3mo")),
    ("over ₹10k in spend in the last quarter", c("total_spend", "gt", 10000, "3mo")),
    ("bought exactly once in the past 60 days", c("order_count", "eq", 1, "60d")),
    ("bought over ₹5,000 in the last 45 days", c("total_spend", "gt", 5000, "45d")),
    ("spent in the last 90 days over 5k", c("total_spend", "gt", 5000, "90d")),
    ("ordered in the last 30 days at least twice", c("order_count", "gte", 2, "30d")),
    ("spent in the last 90 days", c("total_spend", "gt", 0, "90d")),
    ("haven't spent in the last 90 days", c("total_spend", "eq", 0, "90d")),
    ("spent over 5k within 90 days", c("total_spend", "gt", 5000, "90d")),
    ("spent over 5k less than 90 days ago", c("total_spend", "gt", 5000, "90d")),
    ("5+ orders in the last fortnight", c("order_count", "gte", 5, "2w")),
    # Joined with other conditions, and, or, not, parentheses.
    ("from Mumbai who spent over 10k in the last 3 months",
     all_of(c("city", "eq", "Mumbai"), c("total_spend", "gt", 10000, "3mo"))),
    ("spent over 10k in the last 3 months in Mumbai",
     all_of(c("total_spend", "gt", 10000, "3mo"), c("city", "eq", "Mumbai"))),
    ("spent over 50k but fewer than 2 orders in the last 6 months",
     all_of(c("total_spend", "gt", 50000), c("order_count", "lt", 2, "6mo"))),
    ("spent over 5k in the last 90 days or tagged vip",
     any_of(c("total_spend", "gt", 5000, "90d"), c("tags", "eq", "vip"))),
    ("spent over 10,000 but not over ₹1,000 in the last 90 days",
     all_of(c("total_spend", "gt", 10000), {"not": c("total_spend", "gt", 1000, "90d")})),
    ("never ordered twice in the last 30 days", c("order_count", "ne", 2, "30d")),
    ("(spent over 5k in the last 90 days or ordered at least 3 times in the last 30 days) "
     "and not tagged staff",
     all_of(any_of(c("total_spend", "gt", 5000, "90d"), c("order_count", "gte", 3, "30d")),
            c("tags", "ne", "staff"))),
    ("inactive for 3 months who spent over 20k in the last year",
     all_of(c("last_active_at", "older_than", "3mo"), c("total_spend", "gt", 20000, "1y"))),
]


@pytest.mark.parametrize("text,rules", WINDOWED, ids=[text for text, _ in WINDOWED])
def test_spend_and_orders_in_a_duration_read_as_an_order_window(text, rules):
    described = describe(text, today=TODAY)
    assert described["unparsed"] == []
    assert described["rules"] == rules
    assert rule_to_dict(parse_rules(described["rules"])) == rules  # the validator keeps it


def test_at_least_fifteen_window_phrasings():
    assert len(WINDOWED) >= 15


@pytest.mark.parametrize("text,rules", [
    ("spent over 10,000", c("total_spend", "gt", 10000)),
    ("ordered more than 5 times", c("order_count", "gt", 5)),
    ("spent over 10k in Mumbai", all_of(c("total_spend", "gt", 10000), c("city", "eq", "Mumbai"))),
    ("ordered in the last 30 days", c("last_order_at", "within", "30d")),
    ("no orders in the last 60 days", c("last_order_at", "older_than", "60d")),
])
def test_without_a_window_the_lifetime_total_and_last_order_stay(text, rules):
    assert describe(text, today=TODAY)["rules"] == rules


@pytest.mark.parametrize("text,explained", [
    ("spent over 5,000 in the last 90 days", "total spend over ₹5,000 in the last 90 days"),
    ("placed 3 or more orders in the last 6 months", "at least 3 orders in the last 6 months"),
    ("from Pune who spent between 1k and 5k in the last 12 weeks",
     'city is "Pune" and total spend between ₹1,000 and ₹5,000 in the last 12 weeks'),
    ("not spent over 5k in the last 90 days", "not total spend over ₹5,000 in the last 90 days"),
])
def test_explained_says_the_window(text, explained):
    assert describe(text, today=TODAY)["explained"] == explained


DURATION = "say a duration back from today"


@pytest.mark.parametrize("text,unread,reason", [
    ("spent over 5k since 1 Jan", "since 1 Jan", "not a date"),
    ("spent over 5,000 after 1 March 2026", "after 1 March 2026", "not a date"),
    ("spent between 1k and 5k in March 2026", "in March 2026", "not a date"),
    ("bought more than 5 times this year", "this year", "calendar span"),
    ("placed 3 orders this month", "this month", "calendar span"),
    ("spent since 1 Jan", "since 1 Jan", "not a date"),
    ("spent over 5k more than 90 days ago", "more than 90 days ago", "not those before a time"),
    ("spent over 5k for 3 months", "for 3 months", "'for' does not say"),
])
def test_a_time_that_is_no_duration_is_refused_saying_to_use_one(text, unread, reason):
    described = describe(text, today=TODAY)
    assert described["rules"] is None
    (span,) = described["unparsed"]
    assert span["text"] == unread == text[span["start"]:span["end"]]
    assert reason in span["reason"] and DURATION in span["reason"]


def test_a_date_window_is_refused_alongside_what_was_read():
    described = describe("from Mumbai and spent over 5k since 1 Jan", today=TODAY)
    assert described["rules"] == c("city", "eq", "Mumbai")
    assert [span["text"] for span in described["unparsed"]] == ["since 1 Jan"]


@pytest.mark.parametrize("text,unread", [
    ("more than 5 visits in the last 30 days", "in the last 30 days"),
    ("visited at least 3 times in the last week", "in the last week"),
])
def test_visits_have_no_window(text, unread):
    (span,) = describe(text, today=TODAY)["unparsed"]
    assert span["text"] == unread and "only spend and orders" in span["reason"]


@pytest.mark.parametrize("text", ["lifetime value above 50k in the last 90 days",
                                  "ltv in the last year over 1 lakh"])
def test_a_lifetime_total_with_a_window_is_refused_not_read_either_way(text):
    described = describe(text, today=TODAY)
    (span,) = described["unparsed"]
    assert described["rules"] is None and span["text"] == text
    assert "lifetime total has no window" in span["reason"]
