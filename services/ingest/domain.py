"""Pure rules of ingestion: which records of a batch count, and the events they become."""
from __future__ import annotations

import uuid

from shared.backbone import events
from shared.backbone.envelope import new_event

PRODUCER = "ingest"
# Fixed forever: order event ids derive from it, so changing it would let a
# re-sent order produce a second, different `order.placed`.
ORDER_EVENT_NAMESPACE = uuid.UUID("6f1c2a43-9a57-4d1e-8d4b-2f0c8e5b7a11")

UNKNOWN_CUSTOMER = "unknown customer"
ORDER_FIELDS = ("external_id", "customer_external_id", "amount", "placed_at")


def order_event_id(order_external_id: str) -> str:
    """The one event id an order can ever have, however often it is sent."""
    return str(uuid.uuid5(ORDER_EVENT_NAMESPACE, "order:" + order_external_id))


def latest_customers(records: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
    """Within one batch the last record of an `external_id` wins (as if sent one after another);
    the winners keep their order in the batch."""
    last: dict[str, tuple[int, dict]] = {}
    for index, customer in records:
        last[customer["external_id"]] = (index, customer)
    return sorted(last.values(), key=lambda pair: pair[0])


def first_orders(records: list[tuple[int, dict]]) -> list[tuple[int, dict]]:
    """Within one batch the first record of an order `external_id` wins; later ones are
    duplicates, accepted and ignored, exactly as a re-send in a later request would be."""
    first: dict[str, tuple[int, dict]] = {}
    for index, order in records:
        first.setdefault(order["external_id"], (index, order))
    return list(first.values())


def customers_upserted(customers: list[dict], correlation_id: str) -> list[dict]:
    """A re-sent customer is an update, so every accepted record is a new event (uuid4)."""
    template = _envelope(events.CUSTOMER_UPSERTED, correlation_id)
    return [{**template, "event_id": str(uuid.uuid4()), "data": customer} for customer in customers]


def orders_placed(orders: list[dict], event_ids: dict[str, str], correlation_id: str) -> list[dict]:
    """`event_ids`: order external id -> `order_event_id` of it."""
    template = _envelope(events.ORDER_PLACED, correlation_id)
    return [{**template, "event_id": event_ids[order["external_id"]],
             "data": {key: order[key] for key in ORDER_FIELDS}} for order in orders]


def _envelope(event_type: str, correlation_id: str) -> dict:
    # One envelope per request, copied per event: the events of a request share
    # their `occurred_at`, and a 1,000-record batch skips 1,000 envelope builds.
    return new_event(event_type, {}, producer=PRODUCER, correlation_id=correlation_id)


def consent_changed(external_id: str, consent: str, source: str, campaign_id: str | None,
                    correlation_id: str) -> dict:
    """Each change is a new fact (uuid4): unsubscribing twice is two events, the later wins."""
    return new_event(events.CUSTOMER_CONSENT_CHANGED,
                     {"external_id": external_id, "marketing_consent": consent,
                      "source": source, "campaign_id": campaign_id},
                     producer=PRODUCER, correlation_id=correlation_id)


def suppression_lifted(external_id: str, correlation_id: str) -> dict:
    return new_event(events.CUSTOMER_SUPPRESSION_LIFTED, {"external_id": external_id},
                     producer=PRODUCER, correlation_id=correlation_id)


def unknown_customer(index: int) -> dict:
    return {"index": index, "errors": {"customer_external_id": [UNKNOWN_CUSTOMER]}}
