"""`crm replay attribution`: rebuild the attribution read model from ingest's event log.

Every campaign's `conversions_<cid>`, waiting orders and sums are dropped, then
every `order.placed` in ingest's log (the owner of orders) goes through the
attribution worker's own code (campaigns/results/attributor.py) in log order. An order
counts once per campaign however often it was logged or delivered, so the
result is what the worker would have built. Membership comes from the
campaigns' own communications logs and holdouts, which a replay leaves alone.

Run it with the attribution worker stopped (the command refuses while its queue
has a consumer; `--force` skips the check): orders the worker took in between
would otherwise be counted into sums the replay then drops. Orders accepted
meanwhile wait in the queue and are counted once the worker starts again.
"""
from __future__ import annotations

import time

import click

from campaigns.config import CampaignsConfig
from campaigns.results.attribution_store import AttributionStore
from campaigns.results.attributor import Attributor
from campaigns.store import CampaignStore
from crm.replay import refuse_while_consumed
from shared import mongo
from shared.backbone.events import ORDER_PLACED
from shared.backbone.outbox import read_log

BATCH = 5000


def rebuild_attribution(campaigns_db, ingest_db, *, echo=print, batch: int = BATCH) -> dict:
    """Drop and rebuild; returns {"orders": n read, "campaigns": n rebuilt, "seconds": s}."""
    started = time.monotonic()
    attribution = AttributionStore(campaigns_db)
    campaigns = attribution.launched_campaigns()
    for campaign in campaigns:
        attribution.drop_campaign(campaign["_id"])
    attributor = Attributor(store=CampaignStore(campaigns_db), attribution_store=attribution,
                            track_days=None)
    pending, orders = [], 0
    for envelope in read_log(ingest_db):
        if envelope["event_type"] != ORDER_PLACED:
            continue
        pending.append(envelope)
        orders += 1
        if len(pending) >= batch:
            attributor.handle_batch(pending)
            pending = []
    attributor.handle_batch(pending)
    attributor.tick()
    echo(f"replayed {orders:,} orders into {len(campaigns):,} campaigns' attribution")
    return {"orders": orders, "campaigns": len(campaigns),
            "seconds": round(time.monotonic() - started, 1)}


@click.command("attribution")
@click.option("--force", is_flag=True,
              help="Run even while an attribution worker consumes its queue (stop it first).")
def attribution_command(force: bool) -> None:
    """Rebuild campaign attribution (orders counted per campaign) from ingest's log."""
    config = CampaignsConfig.from_env()
    refuse_while_consumed(config.settings, config.attribution_queue,
                          "attribution worker (python -m campaigns.results.worker)",
                          force=force)
    client = mongo.connect(config.settings)
    try:
        summary = rebuild_attribution(client[config.database_name],
                                      client[config.settings.database_name("ingest")],
                                      echo=click.echo)
    finally:
        client.close()
    click.echo(f"done in {summary['seconds']}s")
