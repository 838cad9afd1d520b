"""The attribution worker: `python -m campaigns.results.worker`.

Consumes `<prefix>campaigns.attribution` (bound to `order.placed`) as a single
active consumer (a second process waits as a standby: the in-memory sums of
campaigns/results/attributor.py need one writer) and acks a batch once its conversions
and sums are written. A thread ticks every `attribution_tick_seconds` so orders
that waited for an audience are attributed even when no new order arrives.
`crm replay attribution` rebuilds everything it writes from ingest's log.
"""
from __future__ import annotations

import logging
import threading

from campaigns.config import CampaignsConfig
from campaigns.results.attribution_store import AttributionStore
from campaigns.results.attributor import Attributor
from campaigns.store import CampaignStore
from shared import mongo
from shared.backbone.consumer import Consumer, ConsumerOptions
from shared.backbone.events import ORDER_PLACED
from shared.logs import configure_logging
from shared.readiness import clear_ready

log = logging.getLogger(__name__)


def build_attributor(config: CampaignsConfig, client) -> Attributor:
    db = client[config.database_name]
    return Attributor(store=CampaignStore(db), attribution_store=AttributionStore(db),
                      refresh_seconds=config.attribution_tick_seconds)


def build_consumer(config: CampaignsConfig, attributor: Attributor) -> Consumer:
    options = ConsumerOptions(queue=config.attribution_queue, routing_keys=(ORDER_PLACED,),
                              batch_size=config.attribution_batch_size, batch_wait=0.2,
                              prefetch=2 * config.attribution_batch_size,
                              single_active_consumer=True)
    return Consumer(config.settings, options, attributor.handle_batch)


def start_ticker(attributor: Attributor, stop: threading.Event,
                 interval: float) -> threading.Thread:
    def loop() -> None:
        while not stop.wait(interval):
            try:
                attributor.tick()
            except Exception:  # the next tick tries again; a database outage passes
                log.exception("attribution tick failed")

    thread = threading.Thread(target=loop, name="attribution-ticker", daemon=True)
    thread.start()
    return thread


def main() -> None:
    config = CampaignsConfig.from_env()
    configure_logging("campaigns-attribution", config.settings.log_level)
    client = mongo.connect(config.settings)
    attributor = build_attributor(config, client)
    consumer = build_consumer(config, attributor)
    consumer.install_signal_handlers()
    stop = threading.Event()
    start_ticker(attributor, stop, config.attribution_tick_seconds)
    log.info("attribution worker starting", extra={"queue": config.attribution_queue})
    try:
        consumer.run()
    finally:
        stop.set()
        clear_ready()
        client.close()
        log.info("attribution worker stopped")


if __name__ == "__main__":
    main()
