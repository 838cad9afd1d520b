"""The profile projector worker: `python -m segments.projection.consumer`.

One process consumes `<prefix>segments.profiles` (bound to `customer.upserted`
and `order.placed`). The queue is declared with single-active-consumer, so
extra replicas are hot standbys: exactly one projector applies events at a
time, in queue order, which is what lets it read-modify-write profiles
without transactions and keep a cache of them (see handlers.py).

Each batch first inserts its orders into `orders` (one insert_many, existing
ids skipped; see order_store.py), then writes the profiles, then appends
`profile.updated` for every profile the batch touched to the segments event
log (published with confirms; the outbox relay thread of this process,
shared.backbone.relay, publishes what could not be), and only then is the batch acked.

Stop it (SIGTERM) while `crm replay profiles` runs; see commands.py.
"""
from __future__ import annotations

import functools
import logging
import threading

from segments.bootstrap import projector_announcer, segments_event_log
from segments.config import SegmentsConfig
from segments.projection.handlers import ProfileCache, project_and_announce
from segments.projection.order_store import OrderStore
from segments.projection.profile_store import ProfileStore
from segments.projection.profiles import PROJECTED_EVENT_TYPES

from shared import mongo
from shared.backbone.consumer import Consumer, ConsumerOptions
from shared.backbone.outbox import EventLog
from shared.backbone.relay import start_relay
from shared.logs import configure_logging
from shared.readiness import clear_ready, mark_ready

log = logging.getLogger(__name__)


def consumer_options(config: SegmentsConfig) -> ConsumerOptions:
    return ConsumerOptions(
        queue=config.profiles_queue,
        routing_keys=PROJECTED_EVENT_TYPES,
        batch_size=config.projector_batch_size,
        batch_wait=config.projector_batch_wait,
        prefetch=config.projector_prefetch,
        single_active_consumer=True,
    )


def build_projector(config: SegmentsConfig, client, event_log: EventLog | None = None) -> Consumer:
    """The projector wired to its store, cache and event log (`client`: a MongoClient
    of this process)."""
    database = client[config.database_name]
    store = ProfileStore(database)
    cache = ProfileCache(config.profile_cache_size)
    if event_log is None:
        event_log = projector_announcer(config, client)
    handle_batch = functools.partial(project_and_announce, store=store, cache=cache,
                                     event_log=event_log, orders=OrderStore(database))

    def on_connect() -> None:
        # While this process was disconnected a standby may have become the active
        # consumer and written profiles: the cache must go before consuming again.
        cache.clear()
        mark_ready()

    return Consumer(config.settings, consumer_options(config), handle_batch,
                    on_connect=on_connect)


def main() -> None:
    config = SegmentsConfig.from_env()
    configure_logging("segments-projector", config.settings.log_level)
    client = mongo.connect(config.settings)
    projector = build_projector(config, client)
    projector.install_signal_handlers()
    stop_relay = threading.Event()
    relay_log = segments_event_log(config, client, retry_for=config.announce_retry_seconds)
    start_relay(relay_log, stop_relay, interval=config.relay_interval_seconds,
                older_than=config.relay_older_than_seconds, name="segments")
    log.info("profile projector starting", extra={"queue": config.profiles_queue,
                                                  "database": config.database_name})
    try:
        projector.run()
    finally:
        stop_relay.set()
        clear_ready()
        client.close()
        log.info("profile projector stopped")


if __name__ == "__main__":
    main()
