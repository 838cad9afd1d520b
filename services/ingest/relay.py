"""`python -m ingest.relay`: publishes event batches whose request could not.

A request answers 202 once its events are in the log and the outbox; if the
broker was down (or the process died) before publishing, the batch stays in
the outbox and this loop publishes it, every `relay_interval_seconds`.
Batches younger than `relay_older_than_seconds` are left to their request.
SIGTERM/SIGINT finish the current pass and exit.
"""
from __future__ import annotations

import dataclasses
import functools
import importlib
import logging
import signal
import threading
from collections.abc import Callable
from datetime import timedelta

from pymongo.errors import PyMongoError

from ingest.bootstrap import Dependencies
from ingest.config import IngestConfig
from shared import broker
from shared.logs import configure_logging

log = logging.getLogger("ingest.relay")


def _readiness(action: str) -> None:
    # shared.readiness may not exist in every checkout; readiness is a courtesy, not a need.
    try:
        module = importlib.import_module("shared.readiness")
    except ImportError:
        return
    getattr(module, action)()


def relay_once(event_log, older_than: timedelta, broker_up: Callable[[], bool]) -> int:
    """One pass over the outbox; any failure is logged and retried on the next pass."""
    # relay_pending rewrites each batch to the log before publishing it: skip
    # the pass while the broker is down rather than rewrite every batch in vain.
    if not broker_up():
        return 0
    try:
        relayed = event_log.relay_pending(older_than=older_than)
    except PyMongoError as error:
        log.warning("outbox relay pass failed: %s", error)
        return 0
    except Exception:
        log.exception("outbox relay pass failed")
        return 0
    if relayed:
        log.info("relayed events from the outbox", extra={"events": relayed})
    return relayed


def run(config: IngestConfig, stop: threading.Event) -> None:
    # The relay paces itself (one pass per interval, skipped while the broker
    # is down); a hold-off would only starve the batches behind an unroutable one.
    dependencies = Dependencies(dataclasses.replace(config, publish_holdoff_seconds=0))
    older_than = timedelta(seconds=config.relay_older_than_seconds)
    event_log = dependencies.event_log
    broker_up = functools.partial(broker.broker_reachable, config.settings)
    _readiness("mark_ready")
    log.info("outbox relay started")
    try:
        while not stop.is_set():
            relay_once(event_log, older_than, broker_up)
            stop.wait(config.relay_interval_seconds)
    finally:
        _readiness("clear_ready")
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
