"""Delivery outcomes of campaign messages, as the receipts service recorded them.

Receipts owns (and alone writes) `statuses_<cid>`, `sent_<cid>`, `failed_<cid>` in
its database; campaigns reads them read-only through receipts' `deliveries_view`
module: the one sanctioned cross-service read of the suite (docs/architecture.md).
This adapter is the only place campaigns touches it, so handlers take plain
`deliveries` objects and unit tests pass small fakes instead.
"""
from __future__ import annotations

from collections.abc import Iterator

from pymongo.database import Database


class Deliveries:
    def __init__(self, receipts_db: Database):
        from receipts import deliveries_view  # read-only by contract; see the module docstring

        self._view = deliveries_view
        self._db = receipts_db

    def counts(self, campaign_id: str) -> dict[str, int]:
        """{"sent": n, "failed": n}: messages with that final status (all attempts)."""
        return self._view.campaign_counts(self._db, campaign_id)

    def statuses(self, campaign_id: str, message_ids: list[str]) -> dict[str, str]:
        """message_id -> "SENT" | "FAILED" for those already reported."""
        return self._view.statuses_for(self._db, campaign_id, message_ids)

    def reasons(self, campaign_id: str, message_ids: list[str]) -> dict[str, str]:
        """message_id -> the vendor's reason, for those that failed with one."""
        return self._view.reasons_for(self._db, campaign_id, message_ids)

    def page(self, campaign_id: str, status: str, after: str | None, limit: int) -> list[str]:
        """Message ids with that final status, in id order, after `after`."""
        return self._view.page_by_status(self._db, campaign_id, status, after, limit)


def all_with_status(deliveries, campaign_id: str, status: str, page_size: int) -> Iterator[str]:
    """Every message id with that final status, in id order, read `page_size` at a time
    through `deliveries.page` (a real `Deliveries` or a test's fake)."""
    after = None
    while True:
        page = deliveries.page(campaign_id, status, after, page_size)
        yield from page
        if len(page) < page_size:
            return
        after = page[-1]
