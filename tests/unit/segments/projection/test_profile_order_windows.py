"""The profile keeps each counted order's placed_at and amount (projection.orders,
order_fold.py) for order windows: once per order, by placed_at whatever the arrival
order, announced in profile.updated and never in the customer GET."""
import itertools

from segments.projection.profiles import BOOKKEEPING, announced, apply_event, public_view

from tests.support.profile_events import customer_event, order_event

EVENTS = [customer_event("e1", "2024-04-01T00:00:00Z"),
          order_event("o1", 1200.5, "2024-03-01T10:00:00Z"),
          order_event("o2", 99.99, "2023-12-31T23:59:59.999Z"),
          order_event("o3", 5000, "2024-03-01T10:00:00Z")]
EXPECTED = {"placed_at": [1704067199999, 1709287200000, 1709287200000],
            "amount": [99.99, 1200.5, 5000.0]}


def fold(events, profile=None):
    for event in events:
        profile = apply_event(profile, event)
    return profile


def test_orders_are_kept_by_placed_at_in_any_arrival_order_and_counted_once():
    for arrival in itertools.permutations(EVENTS):
        profile = fold([*arrival, EVENTS[1], EVENTS[2]])  # redeliveries change nothing
        assert profile[BOOKKEEPING]["orders"] == EXPECTED
        assert profile["order_count"] == 3 and profile["total_spend"] == 6300.49


def test_orders_are_announced_but_not_shown():
    profile = fold(EVENTS)
    assert announced(profile)["orders"] == EXPECTED
    assert "orders" not in public_view(profile)


def test_a_profile_from_before_the_orders_list_keeps_the_orders_counted_since():
    profile = fold(EVENTS[:2])
    del profile[BOOKKEEPING]["orders"]
    assert announced(profile)["orders"] == {"placed_at": [], "amount": []}
    later = apply_event(profile, EVENTS[3])
    assert later[BOOKKEEPING]["orders"] == {"placed_at": [1709287200000], "amount": [5000.0]}
    assert "orders" not in profile[BOOKKEEPING]
