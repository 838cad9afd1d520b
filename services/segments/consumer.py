"""The profile projector worker: `python -m segments.consumer`.

One process consumes `<prefix>segments.profiles` (bound to `customer.upserted`
and `order.placed`). The queue is declared with single-active-consumer, so
extra replicas are hot standbys: exactly one projector applies events at a
time, in queue order, which is what lets it read-modify-write profiles
without transactions and keep a cache of them (see handlers.py).

Stop it (SIGTERM) while `crm replay profiles` runs; see commands.py.
"""
from __future__ import annotations

import functools
import logging
from collections.abc import Callable

from segments.config import SegmentsConfig
from segments.handlers import ProfileCache, project_events
from segments.profiles import PROJECTED_EVENT_TYPES
from segments.store import ProfileStore
from shared import mongo
from shared.consumer import Consumer, ConsumerOptions
from shared.logs import configure_logging

log = logging.getLogger(__name__)


class ProfileProjector(Consumer):
    """The shared consumer loop, plus a hook run on every (re)connect.

    While this process was disconnected a standby may have become the active
    consumer and written profiles, so the cache must be dropped before consuming
    again."""

    def __init__(self, *args, on_connect: Callable[[], None], **kwargs):
        super().__init__(*args, **kwargs)
        self._on_connect = on_connect

    def _consume(self, connection) -> None:  # Consumer's per-connection entry point
        self._on_connect()
        super()._consume(connection)


def consumer_options(config: SegmentsConfig) -> ConsumerOptions:
    return ConsumerOptions(
        queue=config.profiles_queue,
        routing_keys=PROJECTED_EVENT_TYPES,
        batch_size=config.projector_batch_size,
        batch_wait=config.projector_batch_wait,
        prefetch=config.projector_prefetch,
        single_active_consumer=True,
    )


def build_projector(config: SegmentsConfig, client) -> ProfileProjector:
    """The projector wired to its store and cache (`client`: a MongoClient of this process)."""
    store = ProfileStore(client[config.database_name])
    cache = ProfileCache(config.profile_cache_size)
    handle_batch = functools.partial(project_events, store=store, cache=cache)
    return ProfileProjector(config.settings, consumer_options(config), handle_batch,
                            on_connect=cache.clear)


def main() -> None:
    config = SegmentsConfig.from_env()
    configure_logging("segments-projector", config.settings.log_level)
    client = mongo.connect(config.settings)
    projector = build_projector(config, client)
    projector.install_signal_handlers()
    log.info("profile projector starting", extra={"queue": config.profiles_queue,
                                                  "database": config.database_name})
    try:
        projector.run()
    finally:
        client.close()
        log.info("profile projector stopped")


if __name__ == "__main__":
    main()
