"""`GET /api/v1/campaigns/<id>/holdout`: the held-out customers, paged by `_id` reads only.

Each audience chunk document lists its held-out customers in audience order
(`held_out_ids`, written with the chunk), so a page walks the chunks in order as
the communications log does; the cursor is "c<chunk>.<position>". Every
held-out customer appears exactly once.
"""
from __future__ import annotations

import re

from campaigns.delivery.message_log import BadCursor
from campaigns.domain import CampaignNotFound

CURSOR_PATTERN = r"^(c[0-9]{1,9}\.[0-9]{1,9})?$"  # every cursor a page gives out; else BadCursor


def list_held_out(campaign_id: str, cursor: str | None, limit: int, *,
                  store) -> tuple[list[dict], str | None]:
    campaign = store.find(campaign_id)
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    chunk, position = _cursor(cursor)
    chunk_count = campaign.get("chunk_count") or 0
    items: list[dict] = []
    while chunk < chunk_count and len(items) < limit:
        document = store.find_chunk(campaign_id, chunk)
        if document is None:
            break  # not queued yet: the page ends here, the cursor resumes at it
        ids = document.get("held_out_ids", [])
        taken = ids[position:position + limit - len(items)]
        items += [{"customer_external_id": customer, "held_out_at": document.get("queued_at")}
                  for customer in taken]
        position += len(taken)
        if position >= len(ids):
            chunk, position = chunk + 1, 0
    more = chunk < chunk_count
    return items, (f"c{chunk}.{position}" if more else None)


def _cursor(cursor: str | None) -> tuple[int, int]:
    if not cursor:
        return 0, 0
    if re.fullmatch(CURSOR_PATTERN, cursor) is None:
        raise BadCursor(cursor)
    try:
        if cursor[0] != "c":
            raise ValueError(cursor)
        chunk, position = cursor[1:].split(".")
        return int(chunk), int(position)
    except ValueError as error:
        raise BadCursor(cursor) from error
