"""CSV for exports: RFC 4180 lines, one row at a time (so an export streams), with
every cell that a spreadsheet would run as a formula (it starts with =, +, -, @, a
tab or a carriage return) written with a leading apostrophe, as OWASP advises
against CSV injection: a customer's name or a message text can be anything."""
from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CONTENT_TYPE = "text/csv; charset=utf-8"


def safe_cell(value) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_lines(rows: Iterable[list]) -> Iterator[str]:
    """Each row as one CSV line, cells escaped against formulas."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
