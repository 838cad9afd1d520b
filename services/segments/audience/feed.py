"""Keeping one replica's audience index current: its own queue of `profile.updated`.

Every API replica declares `<prefix>segments.index.<replica id>`, bound to
`profile.updated`, so each replica receives every update (a shared queue
would split them between replicas). It is a classic durable queue with
`x-expires`: the broker deletes it once no replica has used it for that long
(a replica that is gone for good), instead of collecting updates forever.

The replica declares the queue BEFORE it loads the profiles from the database
(audience.py), so an update written during the load is either in the data it
reads or waiting in the queue; versions make applying both harmless.

`declare()` tells whether the queue existed before: only then may a start
take back the index snapshot of its previous process (index_snapshot.py),
which `on_stopping` saves while this consumer still holds the queue and
`on_consuming` deletes before anything is acked again.

If the queue is found missing on a reconnect (the replica was cut off longer
than `x-expires`), updates were lost: the queue is declared again and
`on_queue_lost` (a full reload) runs before consuming resumes.

The shared consumer loop (shared.backbone.consumer) declares quorum queues with dead
letters and retries; none of that fits a per-replica, disposable queue whose
handling is an in-memory write that cannot fail for the broker's reasons, so
this is a small loop of its own: batches acked after they are applied,
unreadable messages logged and acked, reconnects with tenacity. The consumer
is exclusive: a second process with the same replica id is refused (and
keeps retrying, so a restart whose old connection the broker has not
dropped yet still gets the queue a moment later).
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import pika
from pika.exceptions import (
    AMQPError,
    ChannelClosedByBroker,
    ChannelWrongStateError,
)
from tenacity import Retrying, retry_if_exception, wait_exponential

from shared.backbone import broker, envelope
from shared.backbone.events import PROFILE_UPDATED
from shared.config import Settings

log = logging.getLogger(__name__)


def declare_index_queue(channel, settings: Settings, queue: str, expires_ms: int) -> None:
    """Every argument explicit, so RabbitMQ 3.10 and 4.x declare the same queue."""
    broker.declare_exchanges(channel, settings)
    channel.queue_declare(queue, durable=True, arguments={
        "x-queue-type": "classic",
        "x-expires": expires_ms,
    })
    channel.queue_bind(queue, settings.exchange, routing_key=PROFILE_UPDATED)


class IndexFeed:
    """`apply(updates)` gets the `data` of a batch of profile.updated events in
    queue order; it runs in this feed's thread and should be quick."""

    def __init__(self, settings: Settings, queue: str, apply: Callable[[list[dict]], None], *,
                 expires_ms: int, prefetch: int = 2000, batch_wait: float = 0.05,
                 on_queue_lost: Callable[[], None] | None = None,
                 on_consuming: Callable[[], None] | None = None,
                 on_stopping: Callable[[Callable[[], bool]], None] | None = None):
        """`on_consuming()`: runs once the queue is ours, before the first ack.
        `on_stopping(still_ours)`: runs when stop() ends consuming, after the last
        applied batch was acked and while this consumer still holds the queue (no
        other process can take a message meanwhile); `still_ours()` tells whether
        it still does."""
        self._on_consuming = on_consuming
        self._on_stopping = on_stopping
        self._settings = settings
        self._queue = queue
        self._apply = apply
        self._expires_ms = expires_ms
        self._prefetch = prefetch
        self._batch_wait = batch_wait
        self._on_queue_lost = on_queue_lost
        self._stopping = threading.Event()
        self._consuming = threading.Event()

    @property
    def consuming(self) -> bool:
        return self._consuming.is_set()

    def wait_until_consuming(self, timeout: float | None = None) -> bool:
        return self._consuming.wait(timeout)

    def stop(self) -> None:
        self._stopping.set()

    def _retrying(self) -> Retrying:
        return Retrying(retry=retry_if_exception(broker.reconnectable),
                        wait=wait_exponential(0.5, max=10),
                        stop=lambda _state: self._stopping.is_set(), sleep=self._stopping.wait,
                        reraise=True, before_sleep=lambda state: log.warning(
                            "index feed: broker unavailable; retrying",
                            extra={"error": repr(state.outcome.exception())}))

    def declare(self) -> bool:
        """Declare the queue (retrying until the broker answers or stop()); returns
        whether it existed before (it survived since this replica last used it)."""
        existed: list[bool] = []

        def once() -> None:
            connection = broker.connect(self._settings)
            try:
                if not existed:  # the first answer: a retry may find our own declaration
                    existed.append(self._queue_exists(connection))
                declare_index_queue(connection.channel(), self._settings, self._queue,
                                    self._expires_ms)
            finally:
                _close(connection)

        self._run_until_stopped(once)
        return bool(existed) and existed[0]

    def run(self) -> None:
        """Consume until stop(), reconnecting after broker failures."""
        self._run_until_stopped(self._connect_and_consume)

    def _run_until_stopped(self, action: Callable[[], None]) -> None:
        try:
            self._retrying()(action)
        except Exception as error:
            if not (self._stopping.is_set() and broker.reconnectable(error)):
                raise

    def _connect_and_consume(self) -> None:
        if self._stopping.is_set():
            return
        connection = broker.connect(self._settings)
        try:
            if not self._queue_exists(connection):
                log.warning("index queue was gone (expired?); reloading the index",
                            extra={"queue": self._queue})
                declare_index_queue(connection.channel(), self._settings, self._queue,
                                    self._expires_ms)
                _close(connection)  # the reload may take minutes: no idle connection meanwhile
                if self._on_queue_lost is not None:
                    self._on_queue_lost()
                raise ChannelWrongStateError("reconnect after reloading")
            self._consume(connection)
        finally:
            self._consuming.clear()
            _close(connection)

    def _queue_exists(self, connection) -> bool:
        try:
            connection.channel().queue_declare(self._queue, passive=True)
            return True
        except ChannelClosedByBroker as error:
            if error.reply_code == 404:
                return False
            raise

    def _consume(self, connection: pika.BlockingConnection) -> None:
        channel = connection.channel()
        declare_index_queue(channel, self._settings, self._queue, self._expires_ms)
        channel.basic_qos(prefetch_count=self._prefetch)
        pending: list[tuple] = []
        cancelled: list = []
        channel.add_on_cancel_callback(cancelled.append)
        try:
            # Exclusive: a second process on this replica's queue would take half of
            # the updates and leave both indexes wrong; it is refused (403) instead.
            channel.basic_consume(self._queue, lambda _ch, method, _props, body:
                                  pending.append((method, body)), exclusive=True)
        except ChannelClosedByBroker as error:
            if error.reply_code == 403:
                log.error("another process consumes this replica's queue: run the segments "
                          "API as one worker, and give each replica its own "
                          "SEGMENTS_REPLICA_ID", extra={"queue": self._queue})
            raise
        if self._on_consuming is not None:
            self._on_consuming()
        self._consuming.set()
        log.info("index feed consuming", extra={"queue": self._queue})
        while not self._stopping.is_set():
            connection.process_data_events(time_limit=self._batch_wait)
            if cancelled or not channel.is_open:
                raise ChannelWrongStateError("index queue consumer cancelled or channel closed")
            if pending:
                batch, pending[:] = list(pending), []
                self._apply_batch(channel, batch)
        # Stopped between batches: whatever was acked is applied. The messages received
        # but not applied go back to the queue when the connection closes, after this.
        if self._on_stopping is not None:
            self._on_stopping(lambda: _still_consuming(connection, channel, cancelled))

    def _apply_batch(self, channel, batch: list[tuple]) -> None:
        updates = []
        for _method, body in batch:
            try:
                updates.append(envelope.decode(body)["data"])
            except envelope.BadEvent as error:
                # Nothing to retry: a later update of that profile, or a reload, repairs it.
                log.error("unreadable profile.updated skipped", extra={"error": str(error)})
        if updates:
            self._apply_each_if_needed(updates)
        channel.basic_ack(batch[-1][0].delivery_tag, multiple=True)


    def _apply_each_if_needed(self, updates: list[dict]) -> None:
        """A profile the index cannot take (a bug, not an outage) must not stop the feed."""
        try:
            self._apply(updates)
            return
        except Exception:
            log.exception("applying a batch of profile updates failed; applying one by one")
        for update in updates:
            try:
                self._apply([update])
            except Exception:
                log.exception("profile update skipped",
                              extra={"external_id": update.get("external_id")})


def _still_consuming(connection, channel, cancelled: list) -> bool:
    try:
        connection.process_data_events(time_limit=0)
    except AMQPError:
        return False
    return channel.is_open and not cancelled


def _close(connection) -> None:
    if connection.is_open:
        try:
            connection.close()
        except AMQPError:
            pass
