"""`crm replay deliveries`: rebuild receipts' projections from receipts' event log.

For every campaign with receipts in the log (`deliveries.reported` and the older
per-receipt `delivery.reported`), its `statuses_<cid>`, `sent_<cid>`,
`failed_<cid>` and `campaign_stats` document are dropped and rebuilt by applying
its receipts in log order with the consumer's own code (handlers.record_deliveries:
the first final status wins). Receipts of campaigns receipts never saw launched
(not in `campaigns`) are skipped, as the consumer dead-letters them.

Run it with the receipts consumer stopped: a receipt it applied between the
replay's read of the log and the drop would be lost. The command checks the
consumer's queue and refuses while it has a consumer (`--force` skips that
check). Nothing is lost meanwhile: receipts the webhook logs during the replay
wait in the queue, and when the consumer starts again it applies them; those
the replay already applied change nothing (inserts by `_id`). While a campaign
is being rebuilt its counts read low (the campaigns API shows them as they grow).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

import click
from pymongo.database import Database

from crm.replay import refuse_while_consumed
from receipts import domain
from receipts.config import ReceiptsConfig
from receipts.handlers import record_deliveries
from receipts.store import DeliveryStore
from shared import mongo
from shared.backbone.outbox import read_log

APPLY_CHUNK = 5000  # receipts per apply: one insert_many per collection of a campaign


@dataclass
class ReplaySummary:
    events_read: int = 0
    receipts_read: int = 0
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)  # never launched: receipts
    read_seconds: float = 0.0
    write_seconds: float = 0.0


def receipts_by_campaign(db: Database, summary: ReplaySummary) -> dict[str, list[dict]]:
    """Every logged delivery, grouped by campaign, each group in log order."""
    started = time.monotonic()
    by_campaign: dict[str, list[dict]] = {}
    for envelope in read_log(db):
        summary.events_read += 1
        for delivery in domain.deliveries_in([envelope]):
            by_campaign.setdefault(delivery["campaign_id"], []).append(delivery)
            summary.receipts_read += 1
    summary.read_seconds = time.monotonic() - started
    return by_campaign


def rebuild_deliveries(db: Database, *, echo=print, chunk: int = APPLY_CHUNK) -> ReplaySummary:
    """Rebuild the delivery projections in receipts' database `db` from its event log."""
    summary = ReplaySummary()
    by_campaign = receipts_by_campaign(db, summary)
    started = time.monotonic()
    store = DeliveryStore(db)
    known = store.known_campaigns(set(by_campaign))
    for campaign_id in sorted(by_campaign):
        deliveries = by_campaign[campaign_id]
        if campaign_id not in known:
            summary.skipped[campaign_id] = len(deliveries)
            continue
        store.drop_campaign_projections(campaign_id)
        for start in range(0, len(deliveries), chunk):
            record_deliveries(deliveries[start:start + chunk], store=store)
        summary.counts[campaign_id] = store.refresh_stats(campaign_id)
        echo(f"  {campaign_id}: {len(deliveries):,} receipts -> "
             f"{summary.counts[campaign_id]['sent']:,} sent, "
             f"{summary.counts[campaign_id]['failed']:,} failed")
    summary.write_seconds = time.monotonic() - started
    return summary


@click.command("deliveries")
@click.option("--force", is_flag=True,
              help="Run even while a receipts consumer consumes its queue (it should be stopped).")
def deliveries_command(force: bool) -> None:
    """Rebuild delivery statuses and campaign stats from receipts' event log."""
    config = ReceiptsConfig.from_env()
    refuse_while_consumed(config.settings, config.deliveries_queue,
                          "receipts consumer (python -m receipts.consumer)", force=force)
    client = mongo.connect(config.settings)
    try:
        db = client[config.database_name]
        click.echo(f"replay deliveries: {db.name} (reading the whole event log first)")
        summary = rebuild_deliveries(db, echo=click.echo)
    finally:
        client.close()
    for campaign_id, receipts in summary.skipped.items():
        click.echo(f"skipped {receipts:,} receipts of {campaign_id} (never launched)", err=True)
    click.echo(f"replayed {summary.events_read:,} events ({summary.receipts_read:,} receipts) "
               f"in {summary.read_seconds:.1f}s; rebuilt {len(summary.counts):,} campaigns "
               f"in {summary.write_seconds:.1f}s")
