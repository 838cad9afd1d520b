"""Receipts handlers: the webhook's report, and the consumer's batch apply."""
from __future__ import annotations

import logging

from receipts import domain

log = logging.getLogger(__name__)


def report_receipts(receipts: list[dict], *, event_log, correlation_id: str) -> int:
    """Append one `delivery.reported` per distinct receipt (one log append); returns how many.

    Durable in the log once this returns, so the webhook may acknowledge."""
    events = domain.deliveries_reported(receipts, correlation_id)
    event_log.append(events)
    return len(events)


def apply_deliveries(events: list[dict], *, store) -> dict[str, dict[str, int]]:
    """Apply a batch of `delivery.reported` events; idempotent, returns counts per campaign.

    Per campaign: the statuses are inserted first (the first final status of a
    message wins; a later or repeated receipt inserts nothing), then every
    message of the batch is inserted into the collection of its WINNING status
    (read back by _id for those that lost, which also repairs a crash between
    the two inserts), then the stats cache is refreshed from collStats."""
    deliveries = [event["data"] for event in events]
    counts = {}
    for campaign_id, by_message in domain.first_statuses(deliveries).items():
        inserted = store.record_statuses(campaign_id, list(by_message.values()))
        winners = {message_id: by_message[message_id]["status"] for message_id in inserted}
        others = [message_id for message_id in by_message if message_id not in inserted]
        if others:
            winners.update(store.stored_statuses(campaign_id, others))
        for status in domain.FINAL_STATUSES:
            ids = [message_id for message_id, won in winners.items() if won == status]
            if ids:
                store.record_outcomes(campaign_id, status, ids)
        counts[campaign_id] = store.refresh_stats(campaign_id)
    return counts
