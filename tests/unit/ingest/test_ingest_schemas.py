"""Customer and order validation: each record on its own, strict types, times normalised to UTC."""
from datetime import UTC, datetime, timedelta

import pytest
from ingest.schemas import load_each, record_schemas

CUSTOMERS, ORDERS = record_schemas(timedelta(minutes=5))


def customer(**overrides):
    return {"external_id": "c-1", "name": "Asha Rao", "email": "asha@example.com", **overrides}


def order(**overrides):
    return {"external_id": "o-1", "customer_external_id": "c-1", "amount": 499.5,
            "placed_at": "2024-03-01T10:00:00Z", **overrides}


def errors_of(schema, record) -> dict:
    valid, rejected = load_each(schema, [record])
    assert not valid, f"expected {record!r} to be rejected"
    return rejected[0]["errors"]


def test_minimal_customer_carries_only_what_it_gave():
    # An omitted optional field stays out, so an update keeps it (API.md, Ingestion).
    [(index, loaded)] = load_each(CUSTOMERS, [customer()])[0]
    assert index == 0
    assert loaded == {"external_id": "c-1", "name": "Asha Rao", "email": "asha@example.com"}


def test_explicit_null_is_kept_to_clear_the_field():
    [(_, loaded)] = load_each(CUSTOMERS, [customer(city=None, tags=None, visits=None)])[0]
    assert loaded["city"] is None and loaded["tags"] is None and loaded["visits"] is None
    assert "phone" not in loaded


@pytest.mark.parametrize("consent", ["subscribed", "unsubscribed"])
def test_marketing_consent_is_taken(consent):
    [(_, loaded)] = load_each(CUSTOMERS, [customer(marketing_consent=consent)])[0]
    assert loaded["marketing_consent"] == consent


@pytest.mark.parametrize("consent", [None, "no", "", 1, "UNSUBSCRIBED "])
def test_marketing_consent_other_values_are_rejected(consent):
    assert "marketing_consent" in errors_of(CUSTOMERS, customer(marketing_consent=consent))


def test_full_customer_and_unknown_fields_ignored():
    [(_, loaded)] = load_each(CUSTOMERS, [customer(
        phone="+91 98450 00000", city="Pune", tags=["vip", "new"], visits=0,
        signed_up_at="2023-01-05", last_visit_at="2024-02-01T10:00:00+05:30", loyalty="gold")])[0]
    assert loaded["tags"] == ["vip", "new"] and loaded["visits"] == 0 and loaded["city"] == "Pune"
    assert loaded["signed_up_at"] == "2023-01-05T00:00:00.000000+00:00"
    assert loaded["last_visit_at"] == "2024-02-01T04:30:00.000000+00:00"
    assert "loyalty" not in loaded


@pytest.mark.parametrize("given, expected", [
    ("2024-03-01T10:00:00Z", "2024-03-01T10:00:00.000000+00:00"),
    ("2024-03-01T10:00:00+00:00", "2024-03-01T10:00:00.000000+00:00"),
    ("2024-03-01T15:30:00.25+05:30", "2024-03-01T10:00:00.250000+00:00"),
    ("2024-03-01T10:00:00", "2024-03-01T10:00:00.000000+00:00"),  # naive: taken as UTC
    ("2024-03-01", "2024-03-01T00:00:00.000000+00:00"),
])
def test_times_are_normalised_to_utc(given, expected):
    [(_, loaded)] = load_each(ORDERS, [order(placed_at=given)])[0]
    assert loaded["placed_at"] == expected


@pytest.mark.parametrize("field, value", [
    ("external_id", ""), ("external_id", "   "), ("external_id", 42), ("external_id", None),
    ("external_id", "x" * 201), ("name", ""), ("name", None), ("email", "not-an-email"),
    ("email", None), ("tags", "vip"), ("tags", [1]), ("tags", [""]), ("tags", ["t"] * 51),
    ("tags", ["x" * 101]), ("visits", -1), ("visits", True), ("visits", 2.5), ("visits", "3"),
    ("signed_up_at", "yesterday"), ("signed_up_at", 1700000000), ("phone", 12345),
])
def test_invalid_customer_fields(field, value):
    assert field in errors_of(CUSTOMERS, customer(**{field: value}))


@pytest.mark.parametrize("field", ["external_id", "name", "email"])
def test_customer_required_fields(field):
    record = customer()
    del record[field]
    assert errors_of(CUSTOMERS, record)[field] == ["Missing data for required field."]


@pytest.mark.parametrize("field, value", [
    ("amount", 0), ("amount", -5), ("amount", True), ("amount", False), ("amount", "499.5"),
    ("amount", float("inf")), ("amount", float("nan")), ("amount", 10**400), ("amount", None),
    ("customer_external_id", ""), ("placed_at", None), ("placed_at", "2024-13-01"),
    ("placed_at", "not a time"), ("external_id", ["o-1"]),
])
def test_invalid_order_fields(field, value):
    assert field in errors_of(ORDERS, order(**{field: value}))


@pytest.mark.parametrize("field", ["external_id", "customer_external_id", "amount", "placed_at"])
def test_order_required_fields(field):
    record = order()
    del record[field]
    assert field in errors_of(ORDERS, record)


def test_integer_amount_is_a_float():
    [(_, loaded)] = load_each(ORDERS, [order(amount=1200)])[0]
    assert loaded["amount"] == 1200.0 and isinstance(loaded["amount"], float)


def test_future_placed_at_is_rejected_but_clock_skew_is_allowed():
    now = datetime.now(UTC)
    future = (now + timedelta(minutes=10)).isoformat()
    assert errors_of(ORDERS, order(placed_at=future)) == {
        "placed_at": ["Must not be in the future."]}
    slightly_ahead = (now + timedelta(minutes=2)).isoformat()
    assert load_each(ORDERS, [order(placed_at=slightly_ahead)])[0]


def test_future_last_visit_is_rejected_too():
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert "last_visit_at" in errors_of(CUSTOMERS, customer(last_visit_at=future))


def test_each_record_is_judged_on_its_own():
    records = [order(), "not an object", order(amount=-1), order(external_id="o-2"), None]
    valid, rejected = load_each(ORDERS, records)
    assert [index for index, _ in valid] == [0, 3]
    assert [r["index"] for r in rejected] == [1, 2, 4]
    assert rejected[0]["errors"] == {"_schema": ["Invalid input type."]}
    assert list(rejected[1]["errors"]) == ["amount"]
