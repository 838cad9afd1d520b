"""`GET /api/v1/segments/<id>/members.csv`: a saved segment's customers now, as CSV.

Membership and fields come from the in-memory audience index (the preview's
evaluation and the fields a campaign's recipients get), so no profile is read
from the database. The rule is evaluated once, under the index's lock, and the
audience kept packed, one bit per customer of the index (125 KB at a million),
never a list of members: the response then unpacks WINDOW customers at a time
and writes their members 1,000 at a time as it streams, so every member comes
exactly once and what the export holds does not grow with the members it
writes. Formula cells are escaped (shared.csv_export).
"""
from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
from flask import Blueprint, Response, current_app, stream_with_context

from segments.audience.preview import IndexNotReady, ready_index
from segments.rules.language import parse_rules
from shared.csv_export import CONTENT_TYPE, csv_lines
from shared.http import error_response
from shared.openapi import Operation

members_csv = Blueprint("segment_members_csv", __name__)
COLUMNS = ["external_id", "name", "email", "phone", "city", "tags", "visits", "total_spend",
           "order_count", "last_order_at", "last_visit_at", "last_active_at", "signed_up_at",
           "marketing_consent"]
BATCH = 1000
WINDOW = 16 * 1024  # customers of the index unpacked at a time (a multiple of 8)
OPERATIONS = [
    Operation("/api/v1/segments/{segment_id}/members.csv", "get",
              "The segment's customers now, as CSV", tags=("segments",),
              response_schema={"type": "string", "description": "RFC 4180 CSV, a heading row"},
              media_type="text/csv",
              description="Every customer the saved rules match now, once each, streamed: "
                          + ", ".join(COLUMNS) + ". Cells starting with =, +, - or @ get a "
                          "leading apostrophe (no formula runs when it is opened).",
              statuses={200: "The CSV", 404: "SEGMENT_NOT_FOUND",
                        503: "The audience index is still loading (INDEX_LOADING)"}),
]


def member_rows(index, rule, now: datetime):
    yield COLUMNS
    packed, ids = index.read_audience(rule, now, _packed_audience)
    for rows in _row_batches(packed):
        # `ids` is the index's own list: rows never move, a removed customer's is None.
        part = [external_id for external_id in map(ids.__getitem__, rows)
                if external_id is not None]
        for external_id, shown in zip(part, index.shown(part), strict=True):
            shown = shown or {}
            yield [external_id] + [_cell(shown.get(column)) for column in COLUMNS[1:]]


def _packed_audience(audience, columns, ids):
    return np.packbits(audience), ids


def _row_batches(packed: np.ndarray):
    """The audience's rows in row order, at most BATCH at a time, unpacking one
    WINDOW of the bits at a time."""
    step = WINDOW // 8
    for start in range(0, len(packed), step):
        rows = np.flatnonzero(np.unpackbits(packed[start:start + step]))
        rows += start * 8
        for first in range(0, len(rows), BATCH):
            yield rows[first:first + BATCH].tolist()


def _cell(value):
    return ";".join(value) if isinstance(value, list) else value


@members_csv.get("/api/v1/segments/<segment_id>/members.csv")
def segment_members_csv(segment_id: str):
    segment = current_app.extensions["segments.database"].segments().find(segment_id)
    if segment is None:
        return error_response(404, "SEGMENT_NOT_FOUND", "No segment has this id.",
                              {"segment_id": segment_id})
    try:
        index = ready_index(current_app.extensions["segments.audience"])
    except IndexNotReady as error:
        return error_response(503, "INDEX_LOADING", str(error), error.status)
    now = current_app.extensions.get("segments.clock", lambda: datetime.now(UTC))()
    rows = member_rows(index, parse_rules(segment["rules"]), now)
    return Response(stream_with_context(csv_lines(rows)), content_type=CONTENT_TYPE,
                    headers={"Content-Disposition":
                             f'attachment; filename="segment-{segment_id}-members.csv"'})
