"""Accepting validated customers and orders: log their events once, then remember them.

`records` are `(index, record)` pairs that passed the schema; `index` is the
record's position in the request, used in per-record rejections. Events of
one request are appended in ONE `event_log.append` call, and the caller may
answer 202 only after it returned: from then on they are durable in the log
(publishing may be left to the relay).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ingest import domain


class CustomerNotFound(Exception):
    """No customer with this external_id was ever accepted."""


class NotSuppressed(Exception):
    """The customer is not on the suppression list."""


@dataclass
class Outcome:
    accepted: int = 0
    rejected: list[dict] = field(default_factory=list)


def ingest_customers(records: list[tuple[int, dict]], *, store, event_log,
                     correlation_id: str) -> Outcome:
    """Every valid customer is accepted; the last of a repeated `external_id` wins."""
    winners = domain.latest_customers(records)
    batch = domain.customers_upserted([customer for _, customer in winners], correlation_id)
    if batch:
        event_log.append(batch)
    # Only now may orders of these customers be accepted: their events come first.
    store.remember_customers([customer["external_id"] for _, customer in winners])
    return Outcome(accepted=len(records))


def ingest_orders(records: list[tuple[int, dict]], *, store, event_log,
                  correlation_id: str) -> Outcome:
    """Orders of known customers are accepted; an order already accepted (earlier, or
    earlier in this batch) counts as accepted again but emits nothing new."""
    customers = {order["customer_external_id"] for _, order in records}
    known = store.known_customers(customers) if customers else set()
    placeable, rejected = [], []
    for index, order in records:
        if order["customer_external_id"] in known:
            placeable.append((index, order))
        else:
            rejected.append(domain.unknown_customer(index))
    unique = domain.first_orders(placeable)
    event_ids = {order["external_id"]: domain.order_event_id(order["external_id"])
                 for _, order in unique}
    to_emit = store.claim_orders(event_ids) if event_ids else set()
    batch = domain.orders_placed([order for _, order in unique if order["external_id"] in to_emit],
                                 event_ids, correlation_id)
    if batch:
        event_log.append(batch)
    store.remember_orders(to_emit)
    return Outcome(accepted=len(placeable), rejected=rejected)


def change_consent(external_id: str, consent: str, *, source: str, campaign_id: str | None,
                   store, event_log, profiles, correlation_id: str) -> dict:
    """Log `customer.consent_changed`; the profile as it is with the change applied (the
    projection follows within a second; the change is durable once this returns)."""
    if not store.known_customers({external_id}):
        raise CustomerNotFound(external_id)
    event = domain.consent_changed(external_id, consent, source, campaign_id, correlation_id)
    event_log.append([event])
    profile = profiles.find(external_id) or {"external_id": external_id}
    return {**profile, "marketing_consent": consent, "marketing_consent_at": event["occurred_at"]}


def lift_suppression(external_id: str, *, store, event_log, profiles,
                     correlation_id: str) -> None:
    """Log `customer.suppression_lifted` for a customer the profiles show suppressed."""
    profile = profiles.find(external_id) if store.known_customers({external_id}) else None
    if profile is None:
        raise CustomerNotFound(external_id)
    if not profile.get("suppressed"):
        raise NotSuppressed(external_id)
    event_log.append([domain.suppression_lifted(external_id, correlation_id)])
