"""The scheduler: launches scheduled campaigns at `send_at`, and finishes launches a
process died in the middle of. A thread of the dispatcher (campaigns/delivery/dispatcher.py).

Every `interval` seconds it reads the `launches` entries that are due (a tiny
collection: only campaigns not launched yet) and runs lifecycle.launch on each,
which is idempotent: the compare-and-set lets one launcher win, and the launch's
events have ids fixed by the campaign id. So a standby dispatcher running its own
scheduler, or a restart half-way through a launch, never launches twice; state
lives in the database only, so a kill -9 of any process loses nothing.
"""
from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime

from campaigns import domain
from campaigns.lifecycle import handlers as lifecycle

log = logging.getLogger(__name__)


def launch_due(now: datetime, *, store, event_log, segment_rules=None) -> list[str]:
    """One pass: the ids of the campaigns launched by it."""
    launched = []
    for entry in store.due_launches(now):
        cid = entry["_id"]
        campaign = store.find(cid)
        if entry.get("reason") == "schedule" and campaign is not None \
                and campaign["status"] == domain.DRAFT:
            store.drop_launch(cid)  # unscheduled by an edit that died before dropping it
            continue
        if lifecycle.launch(cid, now, store=store, event_log=event_log,
                            segment_rules=segment_rules):
            launched.append(cid)
    if launched:
        log.info("scheduled campaigns launched", extra={"campaigns": launched})
    return launched


def run_scheduler(dependencies, stop: threading.Event, *, interval: float = 1.0) -> None:
    while not stop.wait(interval):
        try:
            launch_due(datetime.now(UTC), store=dependencies.store,
                       event_log=dependencies.event_log,
                       segment_rules=dependencies.segment_rules)
        except Exception:  # the database or broker away: the next pass tries again
            log.exception("scheduler pass failed")


def start_scheduler(dependencies, stop: threading.Event, *,
                    interval: float = 1.0) -> threading.Thread:
    thread = threading.Thread(target=run_scheduler, args=(dependencies, stop),
                              kwargs={"interval": interval}, name="campaigns-scheduler",
                              daemon=True)
    thread.start()
    return thread
