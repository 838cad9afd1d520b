"""The segments outbox relay: publishes logged event batches their producer could not.

Runs as a thread of the projector process (`python -m segments.projection.consumer`):
profile.updated and audience events are appended to the segments event log
with an outbox entry, and a batch whose publish failed (broker down) stays in
the outbox until a pass here publishes it. Batches younger than
`older_than` are left to the producer still publishing them.
"""
from __future__ import annotations

import logging
import threading
from datetime import timedelta

from pymongo.errors import PyMongoError

log = logging.getLogger(__name__)


def relay_once(event_log, older_than: timedelta) -> int:
    """One pass; a failure is logged and retried on the next pass."""
    try:
        relayed = event_log.relay_pending(older_than=older_than)
    except PyMongoError as error:
        log.warning("segments outbox relay pass failed: %s", error)
        return 0
    except Exception:
        log.exception("segments outbox relay pass failed")
        return 0
    if relayed:
        log.info("relayed events from the segments outbox", extra={"events": relayed})
    return relayed


def start_relay(event_log, stop: threading.Event, *, interval: float,
                older_than: float) -> threading.Thread:
    """A daemon thread relaying every `interval` seconds until `stop` is set."""
    def loop() -> None:
        while not stop.wait(interval):
            relay_once(event_log, timedelta(seconds=older_than))

    thread = threading.Thread(target=loop, name="segments-relay", daemon=True)
    thread.start()
    return thread
