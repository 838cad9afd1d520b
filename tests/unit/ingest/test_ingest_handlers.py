"""ingest_customers / ingest_orders with a fake store and event log (tests/support/fakes.py)."""
from __future__ import annotations

import uuid

from ingest import domain
from ingest.handlers import ingest_customers, ingest_orders

from shared.backbone import events
from tests.support.fakes import FakeEventLog
from tests.support.fakes import FakeIngestStore as FakeStore


def customer(external_id, **fields):
    return {"external_id": external_id, "name": "Asha Rao", "email": "asha@example.com",
            "phone": None, "city": None, "tags": [], "signed_up_at": None, "visits": None,
            "last_visit_at": None, **fields}


def order(external_id, customer_id="c-1", amount=100.0):
    return {"external_id": external_id, "customer_external_id": customer_id, "amount": amount,
            "placed_at": "2024-03-01T10:00:00.000000+00:00"}


def indexed(*records):
    return list(enumerate(records))


def test_each_customer_becomes_one_customer_upserted_in_one_append():
    journal = []
    store, log = FakeStore(journal=journal), FakeEventLog(journal=journal)
    outcome = ingest_customers(indexed(customer("c-1"), customer("c-2", city="Pune")),
                               store=store, event_log=log, correlation_id="corr-1")
    assert outcome.accepted == 2 and outcome.rejected == []
    assert len(log.batches) == 1
    first, second = log.batches[0]
    for event in (first, second):
        assert event["event_type"] == events.CUSTOMER_UPSERTED
        assert event["producer"] == "ingest" and event["correlation_id"] == "corr-1"
        assert uuid.UUID(event["event_id"]).version == 4
        events.upcast(event)  # the data satisfies CustomerUpsertedV1
    assert second["data"]["city"] == "Pune"
    # Customers count as known only once their events are in the log.
    assert journal == [("append", 2), ("remember_customers", ["c-1", "c-2"])]


def test_resent_customer_is_a_new_event():
    store, log = FakeStore(), FakeEventLog()
    for _ in range(2):
        ingest_customers(indexed(customer("c-1")), store=store, event_log=log, correlation_id="c")
    first, second = log.events
    assert first["event_id"] != second["event_id"]


def test_last_customer_of_a_repeated_id_wins_within_a_batch():
    log = FakeEventLog()
    outcome = ingest_customers(
        indexed(customer("c-1", city="Pune"), customer("c-2"), customer("c-1", city="Goa")),
        store=FakeStore(), event_log=log, correlation_id="c")
    assert outcome.accepted == 3
    assert [(e["data"]["external_id"], e["data"]["city"]) for e in log.events] == [
        ("c-2", None), ("c-1", "Goa")]


def test_orders_of_known_customers_are_placed_with_deterministic_ids():
    journal = []
    store = FakeStore(customers={"c-1"}, journal=journal)
    log = FakeEventLog(journal=journal)
    outcome = ingest_orders(indexed(order("o-1"), order("o-2", amount=20)),
                            store=store, event_log=log, correlation_id="corr")
    assert outcome.accepted == 2 and outcome.rejected == []
    [batch] = log.batches
    assert [e["event_id"] for e in batch] == [
        str(uuid.uuid5(domain.ORDER_EVENT_NAMESPACE, "order:o-1")),
        str(uuid.uuid5(domain.ORDER_EVENT_NAMESPACE, "order:o-2"))]
    assert batch[1]["data"] == order("o-2", amount=20)
    assert all(e["event_type"] == events.ORDER_PLACED for e in batch)
    assert journal == [("append", 2), ("remember_orders", ["o-1", "o-2"])]


def test_order_of_unknown_customer_is_rejected_per_record():
    log = FakeEventLog()
    outcome = ingest_orders(indexed(order("o-1", "nobody"), order("o-2")),
                            store=FakeStore(customers={"c-1"}), event_log=log, correlation_id="c")
    assert outcome.accepted == 1
    assert outcome.rejected == [
        {"index": 0, "errors": {"customer_external_id": ["unknown customer"]}}]
    assert [e["data"]["external_id"] for e in log.events] == ["o-2"]


def test_resent_order_is_accepted_but_emits_nothing():
    store, log = FakeStore(customers={"c-1"}), FakeEventLog()
    ingest_orders(indexed(order("o-1")), store=store, event_log=log, correlation_id="c")
    outcome = ingest_orders(indexed(order("o-1", amount=999)), store=store, event_log=log,
                            correlation_id="c")
    assert outcome.accepted == 1
    assert len(log.batches) == 1  # no second append at all


def test_first_order_of_a_repeated_id_wins_and_later_ones_count_as_accepted():
    store, log = FakeStore(customers={"c-1"}), FakeEventLog()
    outcome = ingest_orders(indexed(order("o-1", amount=10), order("o-1", amount=99), order("o-2")),
                            store=store, event_log=log, correlation_id="c")
    assert outcome.accepted == 3
    assert [(e["data"]["external_id"], e["data"]["amount"]) for e in log.events] == [
        ("o-1", 10.0), ("o-2", 100.0)]
    assert store.claims == [{"o-1": domain.order_event_id("o-1"),
                             "o-2": domain.order_event_id("o-2")}]


def test_a_duplicate_of_an_order_with_unknown_customer_does_not_shadow_a_valid_one():
    log = FakeEventLog()
    outcome = ingest_orders(indexed(order("o-1", "nobody"), order("o-1", "c-1")),
                            store=FakeStore(customers={"c-1"}), event_log=log, correlation_id="c")
    assert outcome.accepted == 1 and [r["index"] for r in outcome.rejected] == [0]
    assert [e["data"]["customer_external_id"] for e in log.events] == ["c-1"]


def test_no_known_customer_means_nothing_accepted_and_no_append():
    log = FakeEventLog()
    outcome = ingest_orders(indexed(order("o-1", "x"), order("o-2", "y")),
                            store=FakeStore(), event_log=log, correlation_id="c")
    assert outcome.accepted == 0 and len(outcome.rejected) == 2
    assert log.batches == []
