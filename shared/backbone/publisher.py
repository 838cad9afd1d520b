"""Publishing events with publisher confirms, batched for throughput.

pika's BlockingChannel waits for the broker's confirm after every single
publish (one round trip per event). We instead publish a whole batch on the
underlying channel and wait once for all its confirms, which keeps the
at-least-once guarantee at a fraction of the cost. One Publisher per thread:
pika connections are not thread-safe.
"""
from __future__ import annotations

import logging
import threading
import time

import pika
from pika.exceptions import AMQPError
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

from shared import metrics
from shared.backbone import broker, envelope
from shared.config import Settings

log = logging.getLogger(__name__)


class PublishError(Exception):
    """The broker refused (nack) or did not confirm a message in time."""


class Unroutable(PublishError):
    """No queue is bound for an event type yet. Not retried here: the outbox keeps the
    events and its relay publishes them again once a consumer has declared its queue."""


def _retryable(error: BaseException) -> bool:
    # 406 PRECONDITION_FAILED is a declaration bug; retrying cannot fix it.
    if isinstance(error, pika.exceptions.ChannelClosedByBroker) and error.reply_code == 406:
        return False
    if isinstance(error, Unroutable):
        return False
    return isinstance(error, (*broker.CONNECTION_ERRORS, PublishError))


class Publisher:
    """`retry_for`: how long publish() keeps reconnecting before it gives up and raises.
    A request handler that has an outbox behind it wants this short."""

    def __init__(self, settings: Settings, confirm_timeout: float = 30.0, retry_for: float = 60.0):
        self._settings = settings
        self._confirm_timeout = confirm_timeout
        self._retry_for = retry_for
        self._connection: pika.BlockingConnection | None = None
        self._channel = None
        self._channel_closed: BaseException | None = None
        self._next_tag = 0
        self._unconfirmed: set[int] = set()
        self._refused: list[str] = []
        self._unroutable: list[str] = []

    # -- connection -------------------------------------------------------
    def _open(self) -> None:
        self.close()
        self._connection = broker.connect(self._settings)
        channel = self._connection.channel()
        broker.declare_exchanges(channel, self._settings)
        self._channel = channel._impl  # the asynchronous channel under the blocking wrapper
        self._channel_closed = None
        self._channel.add_on_return_callback(self._on_return)
        self._channel.add_on_close_callback(self._on_channel_closed)
        selected = threading.Event()
        self._channel.confirm_delivery(ack_nack_callback=self._on_confirm,
                                       callback=lambda _frame: selected.set())
        deadline = time.monotonic() + self._confirm_timeout
        while not selected.is_set():
            # A broker that stopped answering (no RST, no heartbeat yet) must not hang us.
            if time.monotonic() > deadline:
                raise PublishError("the broker did not enable publisher confirms in time")
            self._connection.process_data_events(time_limit=0.05)
        self._next_tag = 0
        self._unconfirmed.clear()

    def close(self) -> None:
        if self._connection is not None and self._connection.is_open:
            try:
                self._connection.close()
            except AMQPError:
                pass
        self._connection = None
        self._channel = None

    def _on_confirm(self, frame) -> None:
        method = frame.method
        tags = ({t for t in self._unconfirmed if t <= method.delivery_tag}
                if method.multiple else {method.delivery_tag})
        self._unconfirmed -= tags
        if isinstance(method, pika.spec.Basic.Nack):
            self._refused.append(f"nack for {len(tags)} message(s)")

    def _on_return(self, _channel, method, properties, _body) -> None:
        self._unroutable.append(f"{properties.type} {properties.message_id}")

    def _on_channel_closed(self, _channel, reason: BaseException) -> None:
        # The blocking connection does not raise for a channel closed under it
        # (e.g. 404 when the exchange was deleted): without this the confirms
        # wait would sit out its whole timeout.
        self._channel_closed = reason

    # -- publishing -------------------------------------------------------
    def publish(self, envelopes: list[dict]) -> None:
        """Publish persistently with `mandatory`; return once the broker confirmed every one."""
        if not envelopes:
            return
        retrying = Retrying(retry=retry_if_exception(_retryable), wait=wait_exponential(0.2, max=5),
                            stop=stop_after_delay(self._retry_for), reraise=True)
        retrying(self._publish_once, envelopes)

    def _publish_once(self, envelopes: list[dict]) -> None:
        try:
            self._publish_batch(envelopes)
        except Unroutable:
            raise
        except (*broker.CONNECTION_ERRORS, PublishError) as error:
            log.warning("publish failed; reconnecting: %s", error)
            self.close()
            raise

    def _publish_batch(self, envelopes: list[dict]) -> None:
        if (self._connection is None or not self._connection.is_open
                or self._channel is None or not self._channel.is_open):
            self._open()
        self._refused.clear()
        self._unroutable.clear()
        exchange = self._settings.exchange
        for event in envelopes:
            properties = pika.BasicProperties(
                delivery_mode=2, content_type="application/json",
                message_id=event["event_id"], correlation_id=event["correlation_id"],
                type=event["event_type"])
            self._channel.basic_publish(exchange, event["event_type"], envelope.encode(event),
                                        properties, mandatory=True)
            self._next_tag += 1
            self._unconfirmed.add(self._next_tag)
        self._wait_for_confirms()
        metrics.count_events(metrics.EVENTS_PUBLISHED, (event["event_type"] for event in envelopes))

    def _wait_for_confirms(self) -> None:
        # A real clock: process_data_events returns early whenever a frame
        # arrives, so counting its time limits would cut the wait short.
        deadline = time.monotonic() + self._confirm_timeout
        while self._unconfirmed and time.monotonic() < deadline:
            if self._channel_closed is not None:
                raise self._channel_closed
            self._connection.process_data_events(time_limit=0.01)
        if self._unconfirmed:
            raise PublishError(f"{len(self._unconfirmed)} message(s) not confirmed in time")
        if self._refused:
            raise PublishError("; ".join(self._refused[:5]))
        if self._unroutable:
            raise Unroutable(f"{len(self._unroutable)} unroutable: "
                             + ", ".join(self._unroutable[:5]))


class ThreadLocalPublisher:
    """A Publisher per thread, created on first use (after any fork)."""

    def __init__(self, settings: Settings, **options):
        self._settings = settings
        self._options = options  # Publisher's keyword options (confirm_timeout, retry_for)
        self._local = threading.local()

    def publish(self, envelopes: list[dict]) -> None:
        publisher = getattr(self._local, "publisher", None)
        if publisher is None:
            publisher = self._local.publisher = Publisher(self._settings, **self._options)
        publisher.publish(envelopes)
