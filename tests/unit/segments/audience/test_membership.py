"""Why a customer is in an audience (segments.audience.membership): every node
says matched or not, every condition shows the customer's value, and the
verdict is the audience index's for any profile and any valid rule."""
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from segments.audience.index import AudienceIndex
from segments.audience.membership import explain
from segments.rules.language import parse_rules

from tests.support.rule_strategies import NOW, profiles, rules

ASHA = {"external_id": "c1", "name": "Asha Rao", "city": "Pune", "tags": ["VIP", "gold"],
        "visits": None, "order_count": 2, "total_spend": 12500.0,
        "last_active_at": datetime(2024, 6, 1, 10, 0), "signed_up_at": None,
        "marketing_consent": None, "suppressed": None}


def c(field, op, value):
    return {"field": field, "op": op, "value": value}


def test_every_node_says_matched_and_each_condition_the_customers_value():
    rule = parse_rules({"all": [c("total_spend", "gt", 10000),
                                {"any": [c("visits", "lte", 3), c("tags", "eq", "vip")]},
                                {"not": c("city", "eq", "pune")}]})
    assert explain(rule, ASHA, NOW) == {"all": [
        {**c("total_spend", "gt", 10000), "matched": True, "customer_value": 12500.0},
        {"any": [{**c("visits", "lte", 3), "matched": False, "customer_value": None},
                 {**c("tags", "eq", "vip"), "matched": True, "customer_value": ["VIP", "gold"]}],
         "matched": True},
        {"not": {**c("city", "eq", "pune"), "matched": True, "customer_value": "Pune"},
         "matched": False}],
        "matched": False}


def test_times_consent_and_suppression_are_shown_as_the_customer_get_shows_them():
    rule = parse_rules({"all": [c("last_active_at", "within", "30d"),
                                c("signed_up_at", "older_than", "1y"),
                                c("marketing_consent", "eq", "subscribed"),
                                c("suppressed", "eq", False)]})
    parts = explain(rule, ASHA, NOW)["all"]
    assert [p["customer_value"] for p in parts] == ["2024-06-01T10:00:00.000Z", None,
                                                   "subscribed", False]
    assert all(p["matched"] for p in parts)  # never signed up counts as long ago


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(profiles, rules)
def test_the_verdict_is_the_audience_indexs(profile, raw):
    rule = parse_rules(raw)
    index = AudienceIndex()
    index.upsert_many([profile])
    assert explain(rule, profile, NOW)["matched"] == (index.count(rule, NOW) == 1), raw


def test_a_profile_read_from_an_event_with_iso_times_is_evaluated_too():
    rule = parse_rules(c("last_active_at", "after", "2024-05-31"))
    shown = {**ASHA, "last_active_at": "2024-06-01T10:00:00.000Z"}
    assert explain(rule, shown, datetime(2024, 6, 15, tzinfo=UTC))["matched"] is True
