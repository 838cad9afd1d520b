"""The `orders` collection of the segments database: one document per projected order.

Written ONLY by the profile projector (handlers.py: one `insert_many` per
batch, before the batch's profiles, so a profile never lists an order that has
no document) and by `crm replay profiles` (commands.py: rebuilt from the log
into `orders_rebuild` and swapped in before the profiles). Documents are
facts that never change: `_id` = the order's external_id,
`customer_external_id`, `amount` (INR, as ingested), `placed_at` (UTC
datetime, ms). A duplicate `_id` is ignored, so redelivery and replay are
idempotent (the first event of an order id wins, as ingest emits one per id).

Reads are by `_id` only (the one fast FerretDB lookup): the customer's order
ids come from their profile (`projection.order_ids`).
"""
from __future__ import annotations

from collections.abc import Iterable

from pymongo.database import Database

from segments.projection.profiles import parse_time
from shared.mongo import DocumentsById, insert_many_new

ORDERS = "orders"
ORDERS_REBUILD = "orders_rebuild"
ORDERS_RETIRED = "orders_retired"
INSERT_CHUNK = 1000


def order_document(order: dict) -> dict:
    """The `orders` document of an `order.placed` event's data."""
    return {"_id": order["external_id"],
            "customer_external_id": order["customer_external_id"],
            "amount": order["amount"],
            "placed_at": parse_time(order["placed_at"])}


class OrderStore(DocumentsById):
    thread_name_prefix = "order-read"

    def __init__(self, db: Database, collection: str = ORDERS):
        super().__init__(db, collection)
        self._orders = self._documents

    def insert_new(self, orders: list[dict]) -> int:
        """Insert order documents in one request, skipping `_id`s that exist;
        returns how many were new."""
        return len(insert_many_new(self._orders, orders))

    def all_orders(self) -> Iterable[dict]:
        return self._orders.find({})



class OrderRebuild:
    """Collects the order documents of a replay and inserts them into
    `orders_rebuild` a chunk at a time, so the log's orders never sit in memory."""

    def __init__(self, db: Database, chunk: int = INSERT_CHUNK):
        self._store = OrderStore(db, ORDERS_REBUILD)
        self._chunk = chunk
        self._pending: list[dict] = []
        self.written = 0
        self._store.recreate()  # possibly left over from an interrupted replay

    def add(self, order: dict) -> None:
        self._pending.append(order_document(order))
        if len(self._pending) >= self._chunk:
            self.flush()

    def flush(self) -> None:
        self.written += self._store.insert_new(self._pending)
        self._pending = []
