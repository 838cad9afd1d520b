"""The receipts worker: `python -m receipts.consumer`.

Consumes `<prefix>receipts.deliveries` (bound to `campaign.launched`,
`deliveries.reported`, one per vendor callback, and the older per-receipt
`delivery.reported`) in batches of RECEIPTS_BATCH_SIZE events or
RECEIPTS_BATCH_WAIT_MS, applies each batch (handlers.apply_batch, idempotent)
and only then acks it. A malformed delivery (not one of our message ids)
fails the event schema and is dead-lettered at once (with its whole
callback); a delivery of a campaign never launched is retried a few times (its
event's other deliveries are re-applied harmlessly), then dead-lettered. A
thread of this process also relays receipts' outbox (webhook batches whose
publish failed). Several replicas may run: every write is an insert keyed by
message id, so they never conflict.
"""
from __future__ import annotations

import functools
import logging

from receipts.bootstrap import receipts_event_log
from receipts.config import ReceiptsConfig
from receipts.handlers import apply_batch
from receipts.store import DeliveryStore

from shared import mongo
from shared.backbone.consumer import Consumer, ConsumerOptions
from shared.backbone.events import CAMPAIGN_LAUNCHED, DELIVERIES_REPORTED, DELIVERY_REPORTED
from shared.backbone.relay import start_relay
from shared.backbone.worker import run_worker
from shared.logs import configure_logging
from shared.readiness import clear_ready

log = logging.getLogger(__name__)


def build_consumer(config: ReceiptsConfig, client) -> Consumer:
    options = ConsumerOptions(queue=config.deliveries_queue,
                              routing_keys=(CAMPAIGN_LAUNCHED, DELIVERIES_REPORTED,
                                            DELIVERY_REPORTED),
                              batch_size=config.batch_size, batch_wait=config.batch_wait_ms / 1000,
                              prefetch=max(2 * config.batch_size, 100))
    store = DeliveryStore(client[config.database_name])
    return Consumer(config.settings, options, functools.partial(apply_batch, store=store))


def main() -> None:
    config = ReceiptsConfig.from_env()
    configure_logging("receipts-consumer", config.settings.log_level)
    client = mongo.connect(config.settings)
    relay = functools.partial(start_relay, receipts_event_log(config, client, retry_for=30.0),
                              interval=config.relay_interval_seconds,
                              older_than=config.relay_older_than_seconds, name="receipts")
    run_worker(build_consumer(config, client), log, "receipts consumer",
               {"queue": config.deliveries_queue}, beside=(relay,),
               on_stop=(clear_ready, client.close))


if __name__ == "__main__":
    main()
