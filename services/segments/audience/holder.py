"""The API process's audience index: loaded at start, kept current, serving audience requests.

`AudienceHolder.ensure_started()` (called by create_app and before every
request; it acts once per process, so also in a worker forked after the app
was built) starts one background thread that:

1. declares this replica's own queue of `profile.updated` (feed.py),
   retrying until the broker answers, noting whether it existed already;
2. THEN takes back the index the previous process of this replica saved at its
   graceful stop (snapshot.py), if the queue existed, nobody else consumed it and
   the profiles were not rebuilt since; otherwise reads every profile into the
   index (progress in `status()`, `/readyz` and the logs); an update written
   meanwhile is in what it reads or waits in the queue, and versions make both harmless;
3. then consumes the queue forever (feed.IndexFeed, own connection),
   and starts answering `audience.requested` from the queue shared by all
   replicas (shared.backbone.consumer.Consumer), only now, with a whole index.

The index lives in process memory: run the API as ONE gunicorn worker (with threads).

`stop()` is the graceful stop (registered with atexit, which a gunicorn worker
runs on SIGTERM and SIGINT/SIGQUIT after its last request): the feed stops
between batches and, while it still holds the queue, saves the index when
`config.snapshot_dir` is set.
"""
from __future__ import annotations

import atexit
import logging
import os
import threading
import time
from collections.abc import Callable

from pika.exceptions import ChannelWrongStateError
from pymongo.errors import PyMongoError

from segments.audience.feed import IndexFeed
from segments.audience.index import AudienceIndex
from segments.audience.snapshot import IndexSnapshot
from segments.audience.storage.heap import release_free_heap
from segments.audience.stream import answer_request
from segments.config import SegmentsConfig
from segments.database import SegmentsDatabase
from segments.projection.profile_store import ProfileStore
from segments.projection.profiles import BOOKKEEPING, is_stub, version_of
from segments.saved.store import AudienceStore
from shared.backbone.consumer import Consumer, ConsumerOptions
from shared.backbone.events import AUDIENCE_REQUESTED
from shared.backbone.outbox import EventLog

log = logging.getLogger(__name__)

PROGRESS_LOG_SECONDS = 5.0
AUDIENCE_PUBLISH_RETRY_SECONDS = 10.0


def load_index(index: AudienceIndex, store: ProfileStore, *, batch_size: int,
               progress=lambda loaded: None) -> int:
    """Every shown (non-stub) profile of `store` into `index`, newest version winning;
    returns how many profiles were read (stubs included)."""
    read = 0
    for documents in store.scan(batch_size):
        shown = []
        for document in documents:
            if not is_stub(document):
                document["version"] = version_of(document)
                document["orders"] = document[BOOKKEEPING].get("orders")  # the index checks it
                shown.append(document)
        index.upsert_newer(shown)
        read += len(documents)
        progress(read)
    return read


class AudienceHolder:
    def __init__(self, config: SegmentsConfig, database: SegmentsDatabase, *,
                 event_log: Callable[[], EventLog] | None = None):
        """`event_log` builds (in the serving process) the log audience answers go to."""
        self._config = config
        self._database = database
        self._event_log = event_log
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._stopping = threading.Event()
        self.index = AudienceIndex()
        self._status: dict = {"state": "idle"}
        self._last_load: dict = {}
        self._threads: list[threading.Thread] = []
        self._feed: IndexFeed | None = None
        self._audience_consumer: Consumer | None = None
        self._generation: str | None = None  # of the profiles the index was built from
        self._consumer: str | None = None  # recorded when the feed last began consuming
        self._snapshot = (IndexSnapshot(config.snapshot_dir, config.index_queue)
                          if config.snapshot_dir else None)

    @property
    def ready(self) -> bool:
        """The index is whole: previews and counts may use it."""
        return self._status["state"] in ("ready", "reloading")

    @property
    def serving(self) -> bool:
        """Ready, and consuming both profile updates and audience requests."""
        return (self.ready and self._feed is not None and self._feed.consuming
                and self._audience_consumer is not None and self._audience_consumer.consuming)

    def status(self) -> dict:
        return {**self._status, "index_size": len(self.index), "serving": self.serving,
                "replica_id": self._config.replica_id}

    def ensure_started(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()
            # A forked child has none of its parent's threads: start afresh.
            self.index = AudienceIndex()
            self._status = {"state": "starting"}
            self._start_thread(self._run, "audience-index")
            atexit.register(self.stop)

    def stop(self, timeout: float = 10.0) -> None:
        atexit.unregister(self.stop)
        self._stopping.set()
        for worker in (self._feed, self._audience_consumer):
            if worker is not None:
                worker.stop()
        for thread in self._threads:
            thread.join(timeout)

    def _start_thread(self, target, name: str) -> None:
        thread = threading.Thread(target=target, name=name, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _run(self) -> None:
        try:
            config = self._config
            self._feed = IndexFeed(config.settings, config.index_queue, self._apply_updates,
                                   expires_ms=config.index_queue_expires_ms,
                                   prefetch=config.index_feed_prefetch,
                                   on_queue_lost=self._reload,
                                   on_consuming=self._begin_consuming,
                                   on_stopping=self._save_snapshot)
            self._status = {"state": "declaring", "queue": config.index_queue}
            queue_existed = self._feed.declare()
            if self._stopping.is_set():
                return
            if not self._restore(queue_existed):
                self._load_until_done(self.index, "loading")
            if self._stopping.is_set():
                return
            self._status = {"state": "ready", **self._last_load}
            self._start_thread(self._feed.run, "index-feed")
            if not self._stopping.is_set():
                self._start_audience_consumer()
        except Exception:
            self._status = {"state": "failed"}
            log.exception("the audience index failed to start")

    def _restore(self, queue_existed: bool) -> bool:
        """Take back the snapshot if it is good for this start (it is deleted either way)."""
        snapshot = self._snapshot
        if snapshot is None:
            return False
        if not snapshot.exists():
            log.info("no index snapshot; reading every profile", extra={"path": str(snapshot.path)})
            return False
        if not queue_existed:
            log.info("index snapshot not used: the replica queue did not survive the downtime "
                     "(updates were lost with it); reading every profile",
                     extra={"queue": self._config.index_queue})
            snapshot.discard("replica queue gone")
            return False
        self._status = {"state": "restoring"}
        found = self._until_done(lambda: (
            self._database.profiles_generation().current(),
            self._database.replica_consumers().last(self._config.index_queue)),
            "reading the profiles generation")
        if found is None:
            return False
        generation, consumer = found
        restored, why = snapshot.take(generation, consumer)
        if restored is None:
            log.info("index snapshot not used: %s; reading every profile", why,
                     extra={"path": str(snapshot.path)})
            return False
        self.index, self._generation = restored.index, generation
        self._last_load = {"loaded": 0, "restored": len(restored.index),
                           "seconds": restored.seconds}
        log.info("audience index restored from its snapshot", extra=self._last_load)
        return True

    def _begin_consuming(self) -> None:
        """The feed holds the queue and is about to ack: any snapshot of it (another
        process of this replica saved it; ours was taken at start) would miss what
        it acks. The new consumer id makes every such snapshot refused, wherever it
        lies; the local file is deleted too. No ack before both."""
        if self._snapshot is not None:
            self._snapshot.discard("the replica queue is consumed again")
        self._consumer = None
        try:
            self._consumer = self._database.replica_consumers().begin(self._config.index_queue)
        except PyMongoError as error:
            log.warning("cannot record this replica queue's consumer; consuming later",
                        extra={"error": repr(error)})
            self._stopping.wait(1.0)
            raise ChannelWrongStateError("consumer not recorded") from error

    def _save_snapshot(self, still_ours) -> None:
        """The feed stopped between batches and still holds the queue (on_stopping)."""
        snapshot = self._snapshot
        if snapshot is None or not self._stopping.is_set():
            return
        if (self._status["state"] != "ready" or self._generation is None
                or self._consumer is None):
            log.info("no index snapshot: the index is not whole",
                     extra={"state": self._status["state"]})
            return
        try:
            written = snapshot.write(self.index, self._generation, self._consumer)
        except Exception:
            log.exception("index snapshot not written")
            snapshot.discard("failed write")
            return
        if not still_ours():  # another process may have taken the queue meanwhile
            snapshot.discard("the replica queue was lost while saving")
            return
        log.info("index snapshot written", extra={"path": str(snapshot.path), **written})
        snapshot.prune(self._config.index_queue_expires_ms / 1000)

    def _until_done(self, action, what: str):
        """action()'s result, retried while the database is down; None once stopping."""
        delay = 0.5
        while not self._stopping.is_set():
            try:
                return action()
            except PyMongoError as error:
                log.warning("%s failed; retrying in %.1fs", what, delay,
                            extra={"error": repr(error)})
                self._stopping.wait(delay)
                delay = min(delay * 2, 10.0)
        return None

    def _load_until_done(self, index: AudienceIndex, state: str) -> None:
        """Load, starting over (harmlessly: newest version wins) while the database is down."""
        self._until_done(lambda: self._load(index, state), "index load")

    def _load(self, index: AudienceIndex, state: str) -> None:
        # Read before the profiles: a replay during the read renews it after, so the
        # index is never saved under a generation newer than what it read.
        generation = self._database.profiles_generation().current()
        store = self._database.profiles()
        total = store.estimated_count()
        started = last_log = time.monotonic()
        self._status = {"state": state, "loaded": 0, "total": total}
        log.info("audience index loading", extra={"total": total})

        def progress(read: int) -> None:
            nonlocal last_log
            self._status = {"state": state, "loaded": read, "total": total,
                            "seconds": round(time.monotonic() - started, 1)}
            if time.monotonic() - last_log >= PROGRESS_LOG_SECONDS:
                last_log = time.monotonic()
                log.info("audience index loading", extra=self._status)

        read = load_index(index, store, batch_size=self._config.index_load_batch,
                          progress=progress)
        self._last_load = {"loaded": read, "seconds": round(time.monotonic() - started, 1)}
        release_free_heap()  # the documents read are gone: ~100 MB back at 1M profiles
        self._generation = generation
        log.info("audience index loaded", extra={**self._last_load, "index_size": len(index)})

    def _reload(self) -> None:
        """The queue was lost (updates missed): build a fresh index, keep serving the old."""
        fresh = AudienceIndex()
        self._load_until_done(fresh, "reloading")
        if self._stopping.is_set():
            return  # perhaps half loaded: keep the old index to the end
        self.index = fresh
        self._status = {"state": "ready", **self._last_load}

    def _apply_updates(self, updates: list[dict]) -> None:
        self.index.upsert_newer([update for update in updates if not update.get("stub")])

    def _start_audience_consumer(self) -> None:
        config = self._config
        if self._event_log is None:
            raise RuntimeError("no event log for audience answers: see segments.bootstrap")
        event_log = self._event_log()
        audiences = AudienceStore(self._database.database())

        def answer(envelopes: list[dict]) -> None:
            for envelope in envelopes:
                answer_request(envelope, index=self.index, audiences=audiences,
                               event_log=event_log, chunk_size=config.audience_chunk_size)

        options = ConsumerOptions(queue=config.audiences_queue, routing_keys=(AUDIENCE_REQUESTED,),
                                  batch_size=1, batch_wait=0.05, prefetch=1)
        self._audience_consumer = Consumer(config.settings, options, answer)
        self._start_thread(self._audience_consumer.run, "audience-requests")
