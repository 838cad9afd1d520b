"""CSV exports of a campaign (`.../messages.csv`, `.../results.csv`), streamed.

Rows are produced a page at a time (the communications log's own paging, by
`_id` reads), so an export of any size holds one page in memory and lists every
recipient exactly once; shared.csv_export writes them, formula cells escaped.
"""
from __future__ import annotations

from collections.abc import Iterator

from campaigns.delivery.message_log import list_messages

PAGE = 500
MESSAGE_COLUMNS = ["customer_external_id", "variant", "message_id", "attempt", "to", "text",
                   "status", "queued_at"]


def message_rows(campaign_id: str, *, store, deliveries, iso) -> Iterator[list]:
    """A heading, then every recipient's latest message, in audience order."""
    yield MESSAGE_COLUMNS
    cursor = None
    while True:
        items, cursor = list_messages(campaign_id, None, cursor, PAGE, store=store,
                                      deliveries=deliveries)
        for item in items:
            yield [item["customer_external_id"], item.get("variant"), item["message_id"],
                   item["attempt"], item.get("to"), item["text"], item["status"],
                   iso(item.get("queued_at"))]
        if cursor is None:
            return
