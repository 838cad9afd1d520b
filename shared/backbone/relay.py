"""The outbox relay: publishes the event batches a producer logged but could not publish.

Every service with an event log (shared.backbone.outbox.EventLog) runs this loop: ingest
as a process of its own (`python -m ingest.relay`), campaigns, receipts and
segments as a thread of a worker. A pass is `EventLog.relay_pending(older_than)`;
a batch younger than `older_than` is left to the producer still publishing it.

One error policy for every relay:
- the broker unreachable (where the caller gives `broker_up`): the pass is
  skipped, rather than sit out the publisher's retry budget on the first batch;
- a broker failure or an unroutable batch (no queue bound yet) during a pass is
  relay_pending's business: it stops at the first failure and steps over an
  unroutable batch, and either batch stays in the outbox for a later pass;
- the database unreachable (PyMongoError) or a broker error escaping the pass:
  a warning, and the next pass tries again;
- anything else is a bug: logged with its traceback, and the loop goes on, for
  a relay that died would leave every later batch in the outbox without a word.
After a failed pass the wait doubles (at least FIRST_BACKOFF_SECONDS, at most
MAX_BACKOFF_SECONDS or `interval`), so an outage is neither spun on nor
hammered; a good pass sets it back to `interval`.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta

from pymongo.errors import PyMongoError

from shared import metrics
from shared.backbone.broker import CONNECTION_ERRORS
from shared.backbone.publisher import PublishError

log = logging.getLogger(__name__)

FIRST_BACKOFF_SECONDS = 0.5
MAX_BACKOFF_SECONDS = 10.0
OUTAGES = (PyMongoError, PublishError, *CONNECTION_ERRORS)


def _relay_pass(event_log, older_than: timedelta, broker_up: Callable[[], bool] | None,
                name: str) -> int | None:
    """How many events one pass relayed; None if it failed."""
    try:
        if broker_up is not None and not broker_up():
            return 0
        relayed = event_log.relay_pending(older_than=older_than)
    except OUTAGES as error:
        log.warning("outbox relay pass failed: %s", error, extra={"outbox": name})
        return None
    except Exception:
        log.exception("outbox relay pass failed", extra={"outbox": name})
        return None
    if relayed:
        log.info("relayed events from the outbox", extra={"outbox": name, "events": relayed})
    return relayed


def relay_once(event_log, older_than: timedelta, broker_up: Callable[[], bool] | None = None,
               *, name: str = "outbox") -> int:
    """One pass: how many events it relayed (0 if it was skipped or failed)."""
    return _relay_pass(event_log, older_than, broker_up, name) or 0


def run_relay(event_log, stop: threading.Event, *, interval: float, older_than: float,
              broker_up: Callable[[], bool] | None = None, name: str = "outbox") -> None:
    """Pass, then wait `interval` seconds (longer after failures), until `stop` is set."""
    # A worker whose only loop is this one (ingest-relay) serves its metrics from here.
    metrics.serve_worker_metrics()
    age = timedelta(seconds=older_than)
    longest = max(interval, MAX_BACKOFF_SECONDS)
    wait = interval
    while not stop.is_set():
        failed = _relay_pass(event_log, age, broker_up, name) is None
        wait = min(max(wait * 2, FIRST_BACKOFF_SECONDS), longest) if failed else interval
        stop.wait(wait)


def start_relay(event_log, stop: threading.Event, *, interval: float, older_than: float,
                broker_up: Callable[[], bool] | None = None,
                name: str = "outbox") -> threading.Thread:
    """run_relay in a daemon thread (`<name>-relay`)."""
    thread = threading.Thread(
        target=run_relay, args=(event_log, stop), name=f"{name}-relay", daemon=True,
        kwargs={"interval": interval, "older_than": older_than, "broker_up": broker_up,
                "name": name})
    thread.start()
    return thread
