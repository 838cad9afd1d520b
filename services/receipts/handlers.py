"""Receipts handlers: the webhook's report, and the consumer's batch apply."""
from __future__ import annotations

import logging

from receipts import domain

from shared.backbone.events import CAMPAIGN_LAUNCHED

log = logging.getLogger(__name__)


class UnknownCampaign(Exception):
    """A receipt of a campaign never launched. The consumer loop retries the event a
    few times (its `campaign.launched` may be late) and then dead-letters it."""


def apply_batch(events: list[dict], *, store) -> dict[str, dict[str, int]]:
    """The consumer's handler: learn launched campaigns, then apply deliveries of known ones.

    Deliveries come from `deliveries.reported` (one per callback) and, for logs and
    queues from before it, `delivery.reported` (one per receipt). Deliveries of
    unknown campaigns are left out and reported by raising UnknownCampaign after
    the others are applied (the loop then retries the batch event by event, which
    for the applied ones, including the known part of a callback, changes nothing)."""
    launches = [e["data"] for e in events if e["event_type"] == CAMPAIGN_LAUNCHED]
    if launches:
        store.remember_campaigns(launches)
    deliveries = domain.deliveries_in(events)
    campaigns = {delivery["campaign_id"] for delivery in deliveries}
    known = store.known_campaigns(campaigns)
    unknown = sorted(campaigns - known)
    counts = record_deliveries([d for d in deliveries if d["campaign_id"] in known], store=store)
    if unknown:
        log.warning("receipts of unknown campaigns", extra={"campaigns": unknown[:20]})
        raise UnknownCampaign(f"receipts of campaigns never launched: {unknown[:5]}")
    return counts


def report_receipts(receipts: list[dict], *, event_log, correlation_id: str) -> int:
    """Append the callback's ONE `deliveries.reported` event; returns how many distinct
    receipts it holds. Durable in the log once this returns, so the webhook may acknowledge."""
    event = domain.deliveries_reported(receipts, correlation_id)
    event_log.append([event])
    return len(event["data"]["receipts"])


def apply_deliveries(events: list[dict], *, store) -> dict[str, dict[str, int]]:
    """Apply the deliveries of `delivery.reported` / `deliveries.reported` events, in
    order; idempotent, returns counts per campaign."""
    return record_deliveries(domain.deliveries_in(events), store=store)


def record_deliveries(deliveries: list[dict], *, store) -> dict[str, dict[str, int]]:
    """Apply deliveries (in order: the first final status of a message wins).

    Per campaign: the statuses are inserted first (a later or repeated receipt
    inserts nothing), then every message of the batch is inserted into the
    collection of its WINNING status (read back by _id for those that lost,
    which also repairs a crash between the two inserts), then the stats cache
    is refreshed from collStats."""
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
