"""Paging through a campaign's communications log (`GET .../messages`), by `_id` lookups only.

- No status filter, or PENDING: walk the audience chunks in order (chunk documents
  list their customers); the cursor is "c<chunk>.<position>". A PENDING page stops
  after `scan_limit` customers looked at, so a page may be short yet carry a cursor.
- SENT or FAILED: walk receipts' id-ordered outcome list; the cursor is "m<message_id>".
  A FAILED message sent again by a retry is not shown as FAILED (its customer's
  latest message is the one that counts), so FAILED pages may be short too.
Every customer appears once, with the status of their latest message.
"""
from __future__ import annotations

import re

from campaigns import domain
from campaigns.domain import CampaignNotFound
from campaigns.recipients.groups import DEFAULT_VARIANT

SEQUENCE_STRIDE = 10_000  # message sequence = chunk index * stride + position in the chunk
# Every cursor either listing gives out; any other is a BadCursor.
CURSOR_PATTERN = r"^(c[0-9]{1,9}\.[0-9]{1,9}|m[0-9a-f]{1,64}\.[0-9]{1,9}\.[0-9]{1,9})?$"


class BadCursor(ValueError):
    pass


def list_messages(campaign_id: str, status: str | None, cursor: str | None, limit: int, *,
                  store, deliveries, scan_limit: int = 2000) -> tuple[list[dict], str | None]:
    campaign = store.find(campaign_id)
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    if cursor and re.fullmatch(CURSOR_PATTERN, cursor) is None:
        raise BadCursor(cursor)
    if status in ("SENT", "FAILED"):
        return _by_outcome(campaign_id, status, cursor, limit, store, deliveries)
    chunk, position = _chunk_cursor(cursor)
    chunk_count = campaign.get("chunk_count") or 0
    scan_budget = scan_limit if status == "PENDING" else limit
    items: list[dict] = []
    while chunk < chunk_count and len(items) < limit and scan_budget > 0:
        document = store.find_chunk(campaign_id, chunk)
        ids = document["ids"] if document else []
        taken = ids[position:position + min(limit - len(items), scan_budget)]
        scan_budget -= len(taken)
        entries = _entries(campaign_id, [c for c in taken if c], store, deliveries)
        items += [e for e in entries if status is None or e["status"] == status]
        position += len(taken)
        if position >= len(ids):
            chunk, position = chunk + 1, 0
    more = chunk < chunk_count
    return items, (f"c{chunk}.{position}" if more else None)


def _chunk_cursor(cursor: str | None) -> tuple[int, int]:
    """(chunk, position) of a cursor; an "m" cursor (from a SENT or FAILED listing)
    continues after its message's place in the audience order."""
    if not cursor:
        return 0, 0
    if cursor[0] == "m":
        parsed = domain.parse_message_id(cursor[1:])
        if parsed is None:
            raise BadCursor(cursor)
        return parsed[2] // SEQUENCE_STRIDE, parsed[2] % SEQUENCE_STRIDE + 1
    try:
        chunk, position = cursor[1:].split(".")
        if cursor[0] != "c":
            raise ValueError(cursor)
        return int(chunk), int(position)
    except ValueError as error:
        raise BadCursor(cursor) from error


def _message_cursor(campaign_id: str, cursor: str | None) -> str | None:
    """The message id a SENT or FAILED page starts after; a "c" cursor (from the
    unfiltered or PENDING listing) names the first attempt's message at its place."""
    if not cursor:
        return None
    if cursor[0] == "m":
        return cursor[1:]
    chunk, position = _chunk_cursor(cursor)
    return domain.message_id(campaign_id, 1, chunk * SEQUENCE_STRIDE + position)


def _by_outcome(campaign_id, status, cursor, limit, store, deliveries):
    message_ids = deliveries.page(campaign_id, status, _message_cursor(campaign_id, cursor), limit)
    if status == "FAILED":
        retried = store.find_retried(campaign_id, message_ids)
        shown = [mid for mid in message_ids if mid not in retried]
    else:
        shown = message_ids
    customers = customers_of(campaign_id, shown, store)
    entries = _entries(campaign_id, [c for c in customers if c], store, deliveries)
    next_cursor = f"m{message_ids[-1]}" if len(message_ids) == limit else None
    return entries, next_cursor


def customers_of(campaign_id: str, message_ids: list[str], store) -> list[str | None]:
    """The customer each message went to, from the chunk documents that froze them."""
    chunks: dict[tuple[int, int], list[str]] = {}
    customers = []
    for message_id in message_ids:
        parsed = domain.parse_message_id(message_id)
        if parsed is None:
            customers.append(None)
            continue
        _, attempt, sequence = parsed
        key = (attempt, sequence // SEQUENCE_STRIDE)
        if key not in chunks:
            document = (store.find_chunk(campaign_id, key[1]) if attempt == 1
                        else store.find_retry_chunk(campaign_id, attempt, key[1]))
            chunks[key] = document["ids"] if document else []
        ids, position = chunks[key], sequence % SEQUENCE_STRIDE
        customers.append(ids[position] if position < len(ids) else None)
    return customers


def _entries(campaign_id: str, customer_ids: list[str], store, deliveries) -> list[dict]:
    logged = store.find_messages(campaign_id, customer_ids)
    latest = {cid: entry["message_id"] for cid, entry in logged.items()}
    statuses: dict[str, str] = {}
    pending_lookup = set(latest.values())
    while pending_lookup:  # follow FAILED -> retried -> newer message, attempt by attempt
        found = deliveries.statuses(campaign_id, sorted(pending_lookup))
        statuses.update(found)
        failed = [mid for mid, status in found.items() if status == "FAILED"]
        retried = store.find_retried(campaign_id, failed) if failed else {}
        newer = {mid: entry["message_id"] for mid, entry in retried.items()}
        for customer, mid in latest.items():
            if mid in newer:
                latest[customer] = newer[mid]
        pending_lookup = set(newer.values())
    failed = [mid for mid in latest.values() if statuses.get(mid) == "FAILED"]
    reasons = deliveries.reasons(campaign_id, failed) if failed else {}
    return [{**_entry(customer, logged[customer], latest[customer], statuses),
             "reason": reasons.get(latest[customer]),
             "unsubscribed_at": logged[customer].get("unsubscribed_at")}
            for customer in customer_ids if customer in logged]


def _entry(customer: str, logged: dict, message_id: str, statuses: dict) -> dict:
    parsed = domain.parse_message_id(message_id)
    return {"customer_external_id": customer, "message_id": message_id,
            "attempt": parsed[1] if parsed else logged.get("attempt", 1),
            "to": logged.get("to"), "text": logged["text"],
            "variant": logged.get("variant", DEFAULT_VARIANT),
            "status": statuses.get(message_id, "PENDING"),
            "queued_at": logged.get("queued_at"), "reported_at": None}
