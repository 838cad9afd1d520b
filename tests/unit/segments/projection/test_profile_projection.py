"""apply_event: hand-computed profiles for orders, customer updates, duplicates and disorder."""
from __future__ import annotations

import itertools
from datetime import UTC, datetime

import pytest
from segments.projection.profiles import (
    UnknownEvent,
    apply_event,
    is_stub,
    new_profile,
    parse_time,
    public_view,
)

from tests.support.profile_events import customer_event, order_event


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def fold(events, profile=None):
    for event in events:
        profile = apply_event(profile, event)
    return profile


def test_customer_event_creates_the_profile_with_its_fields():
    profile = apply_event(None, customer_event("e1", "2024-04-01T00:00:00+00:00"))
    assert public_view(profile) == {
        "external_id": "c1", "name": "Asha Rao", "email": "asha@example.com", "phone": None,
        "city": "Pune", "tags": ["vip"], "signed_up_at": at("2024-01-01T00:00:00"),
        "visits": 3, "last_visit_at": at("2024-03-01T10:00:00"),
        "total_spend": 0.0, "order_count": 0, "last_order_at": None,
        "last_active_at": at("2024-03-01T10:00:00"),
        "marketing_consent": "subscribed", "marketing_consent_at": None, "suppressed": False,
        "suppression_reason": None, "suppressed_since": None, "suppression_campaign_id": None,
    }
    assert profile["_id"] == "c1" and not is_stub(profile)


def test_orders_are_summed_once_each_and_last_order_is_the_latest():
    events = [order_event("o1", 100.10, "2024-03-05T09:00:00Z"),
              order_event("o2", 0.20, "2024-02-01T09:00:00Z"),
              order_event("o1", 100.10, "2024-03-05T09:00:00Z"),  # redelivered
              order_event("o3", 999.70, "2024-03-04T09:00:00Z")]
    profile = fold(events, apply_event(None, customer_event("e1", "2024-04-01T00:00:00Z")))
    assert profile["order_count"] == 3
    assert profile["total_spend"] == 1100.0  # 100.10 + 0.20 + 999.70, exactly
    assert profile["last_order_at"] == at("2024-03-05T09:00:00")
    # the order (Mar 5) is later than the last visit (Mar 1)
    assert profile["last_active_at"] == at("2024-03-05T09:00:00")


def test_spend_does_not_depend_on_the_order_orders_arrive_in():
    amounts = [0.1, 0.2, 0.3, 1e6 + 0.01, 7.77]
    events = [order_event(f"o{i}", a, "2024-01-01T00:00:00Z") for i, a in enumerate(amounts)]
    totals = {fold(permutation)["total_spend"] for permutation in itertools.permutations(events)}
    assert totals == {1000008.38}  # 0.6 + 7.77 + 1,000,000.01


def test_a_redelivered_event_returns_the_same_profile_object():
    profile = fold([customer_event("e1", "2024-04-01T00:00:00Z"),
                    order_event("o1", 50, "2024-03-05T09:00:00Z")])
    assert apply_event(profile, order_event("o1", 50, "2024-03-05T09:00:00Z")) is profile
    assert apply_event(profile, customer_event("e1", "2024-04-01T00:00:00Z")) is profile


def test_an_older_customer_update_never_reverts_a_newer_one():
    newer = customer_event("e2", "2024-04-02T00:00:00Z", city="Mumbai", visits=9)
    older = customer_event("e1", "2024-04-01T00:00:00Z", city="Pune", visits=3)
    in_order = fold([older, newer])
    reversed_ = fold([newer, older])
    assert in_order["city"] == reversed_["city"] == "Mumbai"
    assert in_order["visits"] == reversed_["visits"] == 9
    assert in_order == reversed_


def test_customer_updates_in_the_same_instant_are_ordered_by_event_id():
    first = customer_event("aaa", "2024-04-01T00:00:00Z", city="Pune")
    second = customer_event("bbb", "2024-04-01T00:00:00Z", city="Delhi")
    assert fold([first, second])["city"] == fold([second, first])["city"] == "Delhi"


def test_updates_a_microsecond_apart_keep_the_later_one():
    first = customer_event("zzz", "2024-04-01T00:00:00.000001+00:00", city="Pune")
    second = customer_event("aaa", "2024-04-01T00:00:00.000002+00:00", city="Delhi")
    assert fold([second, first])["city"] == "Delhi"


def test_an_order_before_its_customer_makes_a_stub_the_customer_fills():
    stub = apply_event(None, order_event("o1", 250.5, "2024-03-10T12:00:00Z"))
    assert is_stub(stub)
    assert (stub["name"], stub["order_count"], stub["total_spend"]) == (None, 1, 250.5)
    assert stub["last_active_at"] == at("2024-03-10T12:00:00")
    profile = apply_event(stub, customer_event("e1", "2024-04-01T00:00:00Z"))
    assert not is_stub(profile)
    assert (profile["name"], profile["order_count"], profile["total_spend"]) == (
        "Asha Rao", 1, 250.5)
    assert profile["last_order_at"] == at("2024-03-10T12:00:00")
    assert profile == fold([customer_event("e1", "2024-04-01T00:00:00Z"),
                            order_event("o1", 250.5, "2024-03-10T12:00:00Z")])


def test_last_active_is_the_visit_when_it_is_later_than_every_order():
    profile = fold([order_event("o1", 10, "2024-01-10T00:00:00Z"),
                    customer_event("e1", "2024-04-01T00:00:00Z",
                                   last_visit_at="2024-02-20T08:30:00+05:30")])
    assert profile["last_visit_at"] == at("2024-02-20T03:00:00")
    assert profile["last_active_at"] == at("2024-02-20T03:00:00")


def test_last_active_is_empty_without_visits_or_orders():
    profile = apply_event(None, customer_event("e1", "2024-04-01T00:00:00Z", last_visit_at=None))
    assert profile["last_active_at"] is None and profile["last_order_at"] is None


def test_apply_event_does_not_mutate_its_input():
    profile = fold([customer_event("e1", "2024-04-01T00:00:00Z"),
                    order_event("o1", 10, "2024-01-10T00:00:00Z")])
    snapshot = {**profile, "projection": {**profile["projection"],
                                          "order_ids": list(profile["projection"]["order_ids"])}}
    apply_event(profile, order_event("o2", 5, "2024-01-11T00:00:00Z"))
    apply_event(profile, customer_event("e2", "2024-04-02T00:00:00Z", tags=["new"]))
    assert profile == snapshot


def test_times_are_utc_at_millisecond_precision():
    assert parse_time("2024-02-20T08:30:00.123999+05:30") == \
        datetime(2024, 2, 20, 3, 0, 0, 123000, tzinfo=UTC)
    assert parse_time("2024-02-20") == at("2024-02-20T00:00:00")
    assert parse_time("not a time") is None and parse_time(None) is None


def test_an_event_of_another_type_is_refused():
    event = {**order_event("o1", 1, "2024-01-01T00:00:00Z"), "event_type": "campaign.launched"}
    with pytest.raises(UnknownEvent):
        apply_event(None, event)


def test_new_profile_is_a_stub_with_nothing_counted():
    profile = new_profile("c9")
    assert is_stub(profile) and profile["total_spend"] == 0.0 and profile["order_count"] == 0
