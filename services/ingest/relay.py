"""`python -m ingest.relay`: publishes event batches whose request could not.

A request answers 202 once its events are in the log and the outbox; if the
broker was down (or the process died) before publishing, the batch stays in
the outbox and this loop (shared.backbone.relay) publishes it, every `relay_interval_seconds`.
Batches younger than `relay_older_than_seconds` are left to their request.
SIGTERM/SIGINT finish the current pass and exit.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import signal
import threading

from ingest.bootstrap import Dependencies
from ingest.config import IngestConfig

from shared.backbone import broker
from shared.backbone.relay import run_relay
from shared.logs import configure_logging
from shared.readiness import clear_ready, mark_ready

log = logging.getLogger("ingest.relay")


def run(config: IngestConfig, stop: threading.Event) -> None:
    # The relay paces itself (one pass per interval, skipped while the broker
    # is down); a hold-off would only starve the batches behind an unroutable one.
    dependencies = Dependencies(dataclasses.replace(config, publish_holdoff_seconds=0))
    # relay_pending would sit out the publisher's retry budget on the first
    # batch while the broker is down: skip the pass instead.
    broker_up = functools.partial(broker.broker_reachable, config.settings)
    mark_ready()
    log.info("outbox relay started")
    try:
        run_relay(dependencies.event_log, stop, interval=config.relay_interval_seconds,
                  older_than=config.relay_older_than_seconds, broker_up=broker_up,
                  name="ingest")
    finally:
        clear_ready()
        dependencies.close()
        log.info("outbox relay stopped")


def main() -> None:
    config = IngestConfig.from_env()
    configure_logging("ingest-relay", config.settings.log_level)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    run(config, stop)


if __name__ == "__main__":
    main()
