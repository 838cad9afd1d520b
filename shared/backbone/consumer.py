"""The consumer loop every worker runs: batches, manual acks, retries, dead letters.

- Messages are handled in batches (`batch_size` or `batch_wait` seconds,
  whichever comes first) by `handle_batch(envelopes)`, which must be
  idempotent: the batch is acked only after it returns, so a crash means
  redelivery.
- The handler runs in a worker thread while this thread keeps pika's I/O
  loop (and so its heartbeats) going; pika's connection never leaves this thread.
- When a batch fails, its events are retried one by one; one that still fails
  goes to `<queue>.retry` (a delay queue that dead-letters back to the queue)
  with an attempt count, and after `max_attempts` to `<queue>.dead`.
  A message that cannot be parsed goes to `<queue>.dead` at once. A consumer
  that crashes on a message over and over is stopped by the quorum queue's
  delivery limit, which also dead-letters it.
- SIGTERM/SIGINT: finish the current batch, ack it, close. stop() also ends
  a reconnect loop that waits for an unreachable broker.
"""
from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import pika
from pika.exceptions import (
    AMQPError,
    ChannelWrongStateError,
)
from pymongo.errors import ConnectionFailure
from tenacity import Retrying, retry_if_exception

from shared import metrics, readiness
from shared.backbone import broker, envelope
from shared.config import Settings
from shared.logs import log_context

log = logging.getLogger(__name__)
ATTEMPTS_HEADER = "x-crm-attempts"
ERROR_HEADER = "x-crm-error"
# How often the loop asks the broker how many messages wait in its queue (a metric).
DEPTH_EVERY_SECONDS = 10.0


def is_outage(error: BaseException | None) -> bool:
    """A dependency is down: wait for it instead of blaming (and dead-lettering) the events."""
    from shared.backbone.publisher import PublishError

    return isinstance(error, (ConnectionFailure, PublishError, *broker.CONNECTION_ERRORS))


@dataclass(frozen=True)
class ConsumerOptions:
    queue: str
    routing_keys: tuple[str, ...]
    batch_size: int = 500
    batch_wait: float = 0.2
    prefetch: int = 1000
    max_attempts: int = 5
    retry_delay_ms: int = 1000
    single_active_consumer: bool = False


def _attempts(props) -> int:
    try:
        return int((props.headers or {}).get(ATTEMPTS_HEADER, 0))
    except (TypeError, ValueError):
        return 0  # a header someone else set badly must not crash the loop


class Consumer:
    def __init__(self, settings: Settings, options: ConsumerOptions,
                 handle_batch: Callable[[list[dict]], None], *,
                 on_connect: Callable[[], None] | None = None):
        """`on_connect` runs at every (re)connect, after the queues are declared
        and before anything is consumed: for state that is only valid while
        connected (e.g. a cache a single-active-consumer may trust)."""
        self._settings = settings
        self._options = options
        self._handle_batch = handle_batch
        self._on_connect = on_connect
        self._stopping = threading.Event()
        self._consuming = threading.Event()
        self._failures = 0  # consecutive failed connections, for the reconnect backoff
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="handler")

    def stop(self, *_args) -> None:
        self._stopping.set()

    @property
    def consuming(self) -> bool:
        """True while connected and consuming (a worker's readiness)."""
        return self._consuming.is_set()

    def wait_until_consuming(self, timeout: float | None = None) -> bool:
        return self._consuming.wait(timeout)

    def install_signal_handlers(self) -> None:
        signal.signal(signal.SIGTERM, self.stop)
        signal.signal(signal.SIGINT, self.stop)

    def run(self) -> None:
        """Consume until stopped, reconnecting (and redeclaring) after broker failures."""
        metrics.serve_worker_metrics()  # each worker's metrics port (CRM_METRICS_PORT)
        retrying = Retrying(
            retry=retry_if_exception(broker.reconnectable), wait=self._reconnect_wait,
            stop=lambda _state: self._stopping.is_set(), sleep=self._stopping.wait,
            reraise=True, before_sleep=lambda state: log.warning(
                "broker connection lost; reconnecting",
                extra={"error": repr(state.outcome.exception())}))
        try:
            retrying(self._connect_and_consume)
        except Exception as error:
            if not (self._stopping.is_set() and broker.reconnectable(error)):
                raise  # stopped while the broker was unreachable: that is a clean stop
        finally:
            self._executor.shutdown(wait=False)

    def _reconnect_wait(self, _state) -> float:
        # Back off over consecutive failures only, so a drop after a long healthy
        # session reconnects at once instead of at the longest delay.
        self._failures += 1
        return min(0.5 * 2 ** (self._failures - 1), 10.0)

    def _connect_and_consume(self) -> None:
        if self._stopping.is_set():
            return  # stopped during the backoff sleep
        connection = broker.connect(self._settings)
        try:
            self._consume(connection)
        finally:
            self._consuming.clear()
            readiness.clear_ready()
            if connection.is_open:
                try:
                    connection.close()
                except AMQPError:
                    pass

    def _consume(self, connection: pika.BlockingConnection) -> None:
        options = self._options
        channel = connection.channel()
        broker.declare_queue(channel, self._settings, options.queue, list(options.routing_keys),
                             single_active_consumer=options.single_active_consumer)
        broker.declare_retry_queue(connection, self._settings, self._options.queue,
                                   self._options.retry_delay_ms)
        if self._on_connect is not None:
            self._on_connect()
        channel.basic_qos(prefetch_count=options.prefetch)
        # Retries and dead letters are published with confirms before the original is acked.
        self._republisher = connection.channel()
        self._republisher.confirm_delivery()
        pending: list[tuple] = []
        cancelled: list = []
        channel.add_on_cancel_callback(cancelled.append)
        channel.basic_consume(options.queue, lambda _ch, method, props, body:
                              pending.append((method, props, body)))
        self._consuming.set()
        readiness.mark_ready()  # tells `crm up` (which waits on it) that this worker is up
        self._failures = 0
        log.info("consuming", extra={"queue": options.queue})
        first_seen = None
        depth_seen = 0.0
        while not self._stopping.is_set():
            connection.process_data_events(time_limit=min(options.batch_wait, 0.1))
            self._check_channels(channel, cancelled)
            if time.monotonic() - depth_seen >= DEPTH_EVERY_SECONDS:
                self._report_depth(channel)
                depth_seen = time.monotonic()
            if not pending:
                first_seen = None
                continue
            first_seen = first_seen or time.monotonic()
            if (len(pending) >= options.batch_size
                    or time.monotonic() - first_seen >= options.batch_wait):
                batch = pending[:options.batch_size]
                del pending[:options.batch_size]
                self._process(connection, channel, batch)
                first_seen = time.monotonic() if pending else None

    def _check_channels(self, channel, cancelled: list) -> None:
        """pika's BlockingConnection does not raise when the broker closes a channel
        or cancels the consumer (queue deleted, consumer_timeout): without this
        check the loop would sit idle forever. Raising reconnects and redeclares."""
        if cancelled:
            raise ChannelWrongStateError("consumer cancelled by the broker")
        if not channel.is_open or not self._republisher.is_open:
            raise ChannelWrongStateError("channel closed by the broker")

    def _report_depth(self, channel) -> None:
        # A passive declare only reads the count; both queues were declared above.
        for queue in (self._options.queue, f"{self._options.queue}.dead"):
            frame = channel.queue_declare(queue, passive=True)
            metrics.QUEUE_DEPTH.labels(queue=queue).set(frame.method.message_count)

    def _run_handler(self, connection, channel, events: list[dict]) -> BaseException | None:
        """Run the handler in the worker thread, pumping pika I/O meanwhile.

        While a dependency is down, the same events are tried again with backoff
        for as long as it takes (or until stopped)."""
        delay = 0.5
        while True:
            future = self._executor.submit(self._handle_batch, events)
            while not future.done():
                connection.process_data_events(time_limit=0.05)
            error = future.exception()
            if not channel.is_open:
                # The deliveries died with the channel and will be redelivered;
                # acking or retrying them here is impossible.
                raise ChannelWrongStateError("channel closed while handling a batch")
            if not is_outage(error) or self._stopping.is_set():
                return error
            log.warning("dependency unavailable; retrying in %.1fs", delay,
                        extra={"error": repr(error)})
            deadline = time.monotonic() + delay
            while time.monotonic() < deadline and not self._stopping.is_set():
                connection.process_data_events(time_limit=0.1)
                if not channel.is_open:
                    raise ChannelWrongStateError("channel closed during an outage")
            delay = min(delay * 2, 10.0)

    def _process(self, connection, channel, batch: list[tuple]) -> None:
        decoded = []
        for method, props, body in batch:
            try:
                decoded.append((method, props, body, envelope.decode(body)))
            except envelope.BadEvent as error:
                self._dead_letter(channel, method, props, body, str(error))
        if not decoded:
            return
        error = self._run_handler(connection, channel, [item[3] for item in decoded])
        if error is None:
            channel.basic_ack(decoded[-1][0].delivery_tag, multiple=True)
            metrics.count_events(metrics.EVENTS_CONSUMED,
                                 (item[3]["event_type"] for item in decoded),
                                 queue=self._options.queue)
            return
        if self._stopping.is_set():
            return  # unacked: the broker redelivers them to the next consumer
        log.warning("batch failed; handling its events one by one", extra={"error": repr(error)})
        for method, props, body, event in decoded:
            with log_context(event_id=event["event_id"], correlation_id=event["correlation_id"]):
                error = self._run_handler(connection, channel, [event])
                if self._stopping.is_set() and error is not None:
                    return
                if error is None:
                    channel.basic_ack(method.delivery_tag)
                    metrics.count_events(metrics.EVENTS_CONSUMED, [event["event_type"]],
                                         queue=self._options.queue)
                else:
                    self._retry_later(channel, method, props, body, error)

    def _retry_later(self, channel, method, props, body, error: BaseException) -> None:
        attempts = _attempts(props) + 1
        metrics.count_events(metrics.EVENTS_FAILED, [props.type], queue=self._options.queue)
        if attempts >= self._options.max_attempts:
            self._dead_letter(channel, method, props, body, f"failed {attempts} times: {error!r}",
                              {ATTEMPTS_HEADER: attempts})
            return
        log.warning("event failed; will retry", extra={"attempt": attempts, "error": repr(error)})
        headers = {**(props.headers or {}), ATTEMPTS_HEADER: attempts,
                   ERROR_HEADER: repr(error)[:500]}
        # mandatory: a copy the broker drops (binding gone) would lose the event;
        # UnroutableError instead reconnects, and reconnecting redeclares the topology.
        self._republisher.basic_publish("", f"{self._options.queue}.retry", body,
                                        self._copy_properties(props, headers), mandatory=True)
        channel.basic_ack(method.delivery_tag)

    def _dead_letter(self, channel, method, props, body, reason: str,
                     extra_headers: dict | None = None) -> None:
        log.error("event dead-lettered", extra={"reason": reason, "message_id": props.message_id})
        headers = {**(props.headers or {}), **(extra_headers or {}), ERROR_HEADER: reason[:500]}
        self._republisher.basic_publish(self._settings.dead_letter_exchange, self._options.queue,
                                        body, self._copy_properties(props, headers), mandatory=True)
        channel.basic_ack(method.delivery_tag)
        metrics.count_events(metrics.EVENTS_DEAD_LETTERED, [props.type], queue=self._options.queue)

    @staticmethod
    def _copy_properties(props, headers: dict) -> pika.BasicProperties:
        return pika.BasicProperties(delivery_mode=2, content_type=props.content_type,
                                    message_id=props.message_id, type=props.type,
                                    correlation_id=props.correlation_id, headers=headers)
