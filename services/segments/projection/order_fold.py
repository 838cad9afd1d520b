"""Counting an `order.placed` into a profile's bookkeeping (profiles.py): pure, no I/O.

The bookkeeping (`projection`, never shown by the customer GET) keeps, per profile:

- `order_ids`: the ids of the orders counted, so an order is counted once
  (a redelivery, a retry, a replay);
- `spend_exact`: the spend as an exact decimal string, so the float
  `total_spend` does not depend on the order of additions;
- `orders`: `{"placed_at": [epoch ms, ...], "amount": [...]}`, one entry per
  counted order (two flat lists: FerretDB stores no array of arrays), for the
  order windows of rules (`in_last`: the spend or count of the orders placed
  in the last d, rules/language.py). Sorted by placed_at (then amount),
  so the list does not depend on the order the orders arrived in: an order
  accepted late but placed earlier lands where it was placed. Profiles
  projected before this list existed hold only the orders counted since
  (`crm replay profiles` rebuilds it whole).

The audience index gets `orders` from `profile.updated` (`window_orders`) and
from the profiles it reads at load.
"""
from __future__ import annotations

import bisect
from datetime import datetime
from decimal import Decimal

from segments.rules.values import epoch_us


def with_order(bookkeeping: dict, order: dict, placed_at: datetime | None) -> dict | None:
    """The bookkeeping after counting `order` (placed at `placed_at`, None when
    unreadable), or None when that order is counted already."""
    if order["external_id"] in bookkeeping["order_ids"]:
        return None
    spend = Decimal(bookkeeping["spend_exact"]) + Decimal(str(order["amount"]))
    orders = window_orders(bookkeeping)
    if placed_at is not None:
        pairs = list(zip(orders["placed_at"], orders["amount"], strict=True))
        bisect.insort(pairs, (epoch_us(placed_at) // 1000, float(order["amount"])))
        orders = {"placed_at": [placed for placed, _ in pairs],
                  "amount": [amount for _, amount in pairs]}
    return {**bookkeeping, "order_ids": [*bookkeeping["order_ids"], order["external_id"]],
            "spend_exact": str(spend), "orders": orders}


def window_orders(bookkeeping: dict) -> dict[str, list]:
    """`{"placed_at": [epoch ms], "amount": [...]}` of every order counted, oldest first."""
    orders = bookkeeping.get("orders") or {}
    return {"placed_at": [int(placed) for placed in orders.get("placed_at", ())],
            "amount": [float(amount) for amount in orders.get("amount", ())]}
