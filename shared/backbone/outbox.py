"""The event log and its outbox: nothing is published before it is logged, nothing logged is lost.

A producer calls `EventLog.append(envelopes)`:
1. one outbox document listing the batch's event ids is inserted (one small insert);
2. the events are appended to the log collection (`_id` = event id, so a
   repeated append of the same event changes nothing);
3. the batch is published with confirms, and then its outbox document is deleted.

A kill -9 anywhere in between leaves the outbox document behind; the relay
(`relay_pending`) finds it, reads its events back from the log by `_id`,
publishes them and deletes it. An event that never reached the log is not
published: its producer failed before answering, so nothing depends on it.
Consumers are idempotent, so a batch published twice changes nothing. The
outbox collection stays tiny, so the relay's scan of it is cheap even on
FerretDB, which can only look documents up by `_id`. The outbox holds ids, not
events: on FerretDB, inserting and deleting a document of a whole 1,000-event
batch cost ~0.4 s per request, the ids ~0.05 s. For the same reason an event
whose `data` holds a list of 100 or more records (an audience chunk, a chunk's
queued messages) is logged with `data` as one JSON string (envelope.to_log;
read back by envelope.logged / from_log): FerretDB converts every value of a
document, ~50 ms to insert a 1,000-recipient chunk as a document, ~8 ms as text.
"""
from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta, timezone

from pika.exceptions import AMQPError
from pymongo.database import Database

from shared import metrics
from shared.backbone import envelope as envelopes_module
from shared.backbone.publisher import PublishError, ThreadLocalPublisher, Unroutable
from shared.config import Settings
from shared.mongo import insert_many_new

log = logging.getLogger(__name__)

LOG_COLLECTION = "events"
OUTBOX_COLLECTION = "outbox"


class EventLog:
    def __init__(self, db: Database, publisher):
        self._log = db[LOG_COLLECTION]
        self._outbox = db[OUTBOX_COLLECTION]
        self._publisher = publisher

    def append(self, batch: list[dict]) -> bool:
        """Log `batch` durably and publish it. Returns False if publishing is left to the relay."""
        if not batch:
            return True
        outbox_id = str(uuid.uuid4())
        self._outbox.insert_one({"_id": outbox_id, "created_at": datetime.now(timezone.utc),
                                 "event_ids": [event["event_id"] for event in batch]})
        self._write_to_log(batch)
        return self._publish_and_clear(outbox_id, batch) is None

    def relay_pending(self, older_than: timedelta = timedelta(seconds=5)) -> int:
        """Publish every batch whose producer did not finish; returns how many events.

        Stops at the first batch the broker cannot take: with the broker down,
        every further batch would sit out the publisher's whole retry budget too.
        An Unroutable batch (its consumers not declared yet) does not stop the pass."""
        cutoff = datetime.now(timezone.utc) - older_than
        relayed = 0
        backlog = list(self._outbox.find({}))
        metrics.OUTBOX_BACKLOG.labels(outbox=self._outbox.database.name).set(len(backlog))
        for pending in backlog:
            created_at = pending["created_at"]
            if created_at.tzinfo is None:
                created_at = created_at.replace(tzinfo=timezone.utc)
            if created_at > cutoff:
                continue
            events = self._logged_events(pending.get("event_ids", []))
            error = self._publish_and_clear(pending["_id"], events)
            if error is None:
                relayed += len(events)
            elif not isinstance(error, Unroutable):
                break
        return relayed

    def pending_batches(self) -> int:
        return self._outbox.count_documents({})

    def _logged_events(self, event_ids: list[str]) -> list[dict]:
        # Republished exactly as first published: no upcasting on the way out.
        found = (self._log.find_one({"_id": event_id}) for event_id in event_ids)
        return [envelopes_module.logged(document) for document in found if document]

    def _write_to_log(self, batch: list[dict]) -> None:
        now = datetime.now(timezone.utc)
        documents = [{**envelopes_module.to_log(event), "recorded_at": now} for event in batch]
        insert_many_new(self._log, documents)

    def _publish_and_clear(self, outbox_id: str, batch: list[dict]) -> Exception | None:
        """None once published and cleared; else the error that left it to the relay."""
        try:
            if batch:
                self._publisher.publish(batch)
        except (PublishError, AMQPError, OSError) as error:
            log.warning("publish deferred to the outbox relay: %s", error,
                        extra={"outbox_id": outbox_id, "events": len(batch)})
            return error
        self._outbox.delete_one({"_id": outbox_id})
        return None


def service_event_log(settings: Settings, db: Database, *, retry_for: float,
                      wrap: Callable | None = None) -> EventLog:
    """A service's event log (`events` + `outbox` of `db`), publishing with a publisher
    per thread, created after any fork. `retry_for`: seconds publish() retries before
    the batch is left to the relay; `wrap(publisher)`: a publisher around that one."""
    publisher = ThreadLocalPublisher(settings, retry_for=retry_for)
    return EventLog(db, wrap(publisher) if wrap else publisher)


def read_log(db: Database, batch_size: int = 2000):
    """Every logged event in the order it was recorded (for replays)."""
    cursor = db[LOG_COLLECTION].find({}, batch_size=batch_size)
    documents = sorted(cursor, key=lambda d: (d["recorded_at"], d["occurred_at"]))
    for document in documents:
        yield envelopes_module.from_log(document)
