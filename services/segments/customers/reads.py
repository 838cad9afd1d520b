"""Reading customers: one profile, a page of profiles, a customer's orders, the overview.

Profiles and orders are read from the database by `_id` (the one fast FerretDB
lookup); the overview is summed over the in-memory audience index.
"""
from __future__ import annotations

from segments.audience.preview import ready_index
from segments.projection.order_store import OrderStore
from segments.projection.profile_store import ProfileStore
from segments.projection.profiles import BOOKKEEPING, epoch_ms, public_view


def find_customer(external_id: str, *, store: ProfileStore) -> dict | None:
    """The customer's profile as the API shows it, or None (unknown, or only a stub)."""
    profile = store.shown(external_id)
    return public_view(profile) if profile is not None else None


def list_customers(limit: int, after: str | None, *,
                   store: ProfileStore) -> tuple[list[dict], str | None]:
    """One page of profiles in external_id order, and the last id when more follow."""
    page = store.page(after, limit + 1)
    items = page[:limit]
    last = items[-1]["_id"] if len(page) > limit else None
    return [public_view(profile) for profile in items], last


def order_position(order: dict) -> tuple[int, str]:
    """Where an order document sorts in a customer's list: newest `placed_at` first,
    ties by external_id (an order without a time, which ingest never accepts, last)."""
    return -epoch_ms(order["placed_at"]), order["_id"]


def customer_orders(external_id: str, limit: int, after: tuple[int, str] | None, *,
                    profiles: ProfileStore, orders: OrderStore
                    ) -> tuple[list[dict], tuple[int, str] | None] | None:
    """One page of the customer's orders (newest first) and the position of its last
    order when more follow, or None for an unknown customer (or a stub).

    The profile lists the order ids; their documents are read by `_id` (the fast
    lookup) and sorted here. `after` is an `order_position`, so orders placed
    while a client walks the pages neither repeat nor shift the ones to come.
    An id without a document (only for profiles projected before `orders`
    existed and not replayed since) is left out."""
    profile = profiles.shown(external_id)
    if profile is None:
        return None
    found = orders.find_many(list(profile[BOOKKEEPING]["order_ids"]))
    ordered = sorted((order for order in found.values() if order is not None), key=order_position)
    if after is not None:
        ordered = [order for order in ordered if order_position(order) > after]
    items = ordered[:limit]
    last = order_position(items[-1]) if len(ordered) > limit else None
    return [{"external_id": order["_id"], "amount": order["amount"],
             "placed_at": order["placed_at"]} for order in items], last


def business_overview(*, audience) -> dict:
    """Customers, orders and revenue over the audience index, which holds customers
    only: stubs (orders whose customer is not ingested yet) are left out, their
    orders and spend too, until their customer arrives."""
    totals = ready_index(audience).totals()
    return {"customers": totals["customers"],
            "customers_with_orders": totals["customers_with_orders"],
            "orders": totals["orders"], "revenue": round(totals["spend"], 2), "currency": "INR"}
