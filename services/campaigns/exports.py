"""CSV exports of a campaign (`.../messages.csv`, `.../results.csv`), streamed.

Rows are produced a page at a time (the communications log's own paging, by
`_id` reads), so an export of any size holds one page in memory and lists every
recipient exactly once. A cell that a spreadsheet would run as a formula (it
starts with =, +, -, @, a tab or a carriage return) is written with a leading
apostrophe, as OWASP advises against CSV injection: a customer's name or a
message text can be anything.
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

from campaigns.message_log import list_messages

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
PAGE = 500
MESSAGE_COLUMNS = ["customer_external_id", "variant", "message_id", "attempt", "to", "text",
                   "status", "queued_at"]


def safe_cell(value) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(rows: Iterable[list]) -> Iterator[str]:
    """Each row as one CSV line (RFC 4180 quoting), cells escaped against formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


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
