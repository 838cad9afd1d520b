"""The demo data generator that `crm seed`, tests and benchmarks share."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from crm.seed import CITIES, generate_customers, generate_orders

NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


def parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def test_same_seed_same_customers_other_seed_other_customers():
    assert generate_customers(50, seed=7, now=NOW) == generate_customers(50, seed=7, now=NOW)
    assert generate_customers(50, seed=7, now=NOW) != generate_customers(50, seed=8, now=NOW)


def test_customers_are_complete_unique_and_in_the_past():
    customers = generate_customers(500, seed=1, now=NOW)
    assert len({c["external_id"] for c in customers}) == 500
    assert len({c["email"] for c in customers}) == 500
    for customer in customers:
        assert customer["name"].strip() and "@" in customer["email"]
        assert customer["city"] in CITIES
        assert customer["visits"] >= 0 and len(customer["tags"]) == len(set(customer["tags"]))
        signed_up = parse(customer["signed_up_at"])
        assert signed_up < NOW
        if customer["visits"]:
            assert signed_up <= parse(customer["last_visit_at"]) <= NOW
        else:
            assert "last_visit_at" not in customer


def test_orders_belong_to_generated_customers_and_are_placed_after_sign_up():
    customers = generate_customers(300, seed=3, now=NOW)
    orders = generate_orders(customers, avg=4, seed=3, now=NOW)
    by_id = {c["external_id"]: c for c in customers}
    assert 3 * 300 < len(orders) < 5 * 300
    assert len({o["external_id"] for o in orders}) == len(orders)
    for order in orders:
        customer = by_id[order["customer_external_id"]]
        placed = parse(order["placed_at"])
        assert parse(customer["signed_up_at"]) <= placed <= NOW - timedelta(minutes=1)
        assert order["amount"] > 0 and round(order["amount"], 2) == order["amount"]


def test_no_orders_when_the_average_is_zero():
    assert generate_orders(generate_customers(20, seed=5, now=NOW), avg=0, seed=5, now=NOW) == []


def test_prefix_keeps_two_data_sets_apart():
    first = generate_customers(3, seed=1, prefix="a-", now=NOW)
    second = generate_customers(3, seed=1, prefix="b-", now=NOW)
    assert {c["external_id"] for c in first}.isdisjoint(c["external_id"] for c in second)
