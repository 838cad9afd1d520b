"""Connecting to RabbitMQ and declaring the suite's topology."""
from __future__ import annotations

import itertools
import logging
import os

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.adapters.utils.connection_workflow import AMQPConnectorException
from pika.exceptions import AMQPError

from shared.config import Settings

log = logging.getLogger(__name__)

# What "the broker is unreachable" looks like: pika raises its connection-workflow
# errors (a handshake timeout, say) outside the AMQPError hierarchy.
CONNECTION_ERRORS = (AMQPError, AMQPConnectorException, OSError)

# A message redelivered this many times (consumer crashed or rejected it) goes
# to the dead-letter queue instead of looping forever.
DELIVERY_LIMIT = 10


# Where the next connect() starts in the list of nodes: one further along each time,
# so a process whose node died tries another one first, and processes spread out.
_next_node = itertools.count(os.getpid())


def connection_parameters(settings: Settings, heartbeat: int = 30,
                          url: str | None = None) -> pika.URLParameters:
    """For `url`, by default the first node of AMQP_URL."""
    parameters = pika.URLParameters(url or settings.amqp_urls[0])
    parameters.heartbeat = heartbeat
    parameters.blocked_connection_timeout = 60
    parameters.connection_attempts = 1
    parameters.socket_timeout = 5
    return parameters


def connect(settings: Settings, heartbeat: int = 30) -> pika.BlockingConnection:
    """A connection to the first node of AMQP_URL that answers, trying them all in
    turn from a rotating start (pika goes down the list)."""
    urls = settings.amqp_urls
    start = next(_next_node) % len(urls)
    return pika.BlockingConnection([connection_parameters(settings, heartbeat, url)
                                    for url in urls[start:] + urls[:start]])


def declare_exchanges(channel: BlockingChannel, settings: Settings) -> None:
    channel.exchange_declare(settings.exchange, exchange_type="topic", durable=True)
    channel.exchange_declare(settings.dead_letter_exchange, exchange_type="direct", durable=True)


def expiry(settings: Settings) -> dict:
    """`x-expires` for queues of a run that sets CRM_QUEUE_EXPIRES_MS (tests, benches)."""
    return {"x-expires": settings.queue_expires_ms} if settings.queue_expires_ms > 0 else {}


def replication(settings: Settings) -> dict:
    """`x-quorum-initial-group-size` for a quorum queue on a cluster (CRM_QUORUM_GROUP_SIZE)."""
    size = settings.quorum_group_size
    return {"x-quorum-initial-group-size": size} if size > 0 else {}


def reconnectable(error: BaseException) -> bool:
    """A lost or refused connection, worth reconnecting for; a 406 PRECONDITION_FAILED
    is a declaration bug and is never retried."""
    if isinstance(error, pika.exceptions.ChannelClosedByBroker) and error.reply_code == 406:
        return False
    return isinstance(error, CONNECTION_ERRORS)


def declare_retry_queue(connection, settings: Settings, queue: str, delay_ms: int) -> None:
    """`<queue>.retry`: a delay queue dead-lettering back to `queue`, declared on a
    channel of its own: a classic queue lives on one node of a cluster, and while
    that node is down its declaration answers 404 (closing the channel). Consuming
    goes on without it: a retry published meanwhile is returned unroutable
    (mandatory), which reconnects with the event unacked, never lost."""
    channel = connection.channel()
    try:
        channel.queue_declare(f"{queue}.retry", durable=True, arguments={
            "x-queue-type": "classic",
            "x-message-ttl": delay_ms,
            "x-dead-letter-exchange": "",
            "x-dead-letter-routing-key": queue,
            **expiry(settings),
        })
    except pika.exceptions.ChannelClosedByBroker as error:
        if error.reply_code != 404:
            raise
        log.warning("retry queue unavailable (its broker node is down?); consuming "
                    "without it", extra={"queue": queue, "error": str(error)})
        return
    channel.close()


def declare_queue(channel: BlockingChannel, settings: Settings, queue: str,
                  routing_keys: list[str], single_active_consumer: bool = False) -> None:
    """A quorum queue bound to `routing_keys`, with its dead-letter queue `<queue>.dead`.

    Every argument is explicit so RabbitMQ 3.10 and 4.x behave the same.
    """
    declare_exchanges(channel, settings)
    dead = f"{queue}.dead"
    channel.queue_declare(dead, durable=True, arguments={
        "x-queue-type": "quorum", **replication(settings), **expiry(settings)})
    channel.queue_bind(dead, settings.dead_letter_exchange, routing_key=queue)
    arguments = {
        "x-queue-type": "quorum",
        "x-delivery-limit": DELIVERY_LIMIT,
        "x-dead-letter-exchange": settings.dead_letter_exchange,
        "x-dead-letter-routing-key": queue,
    }
    if single_active_consumer:
        arguments["x-single-active-consumer"] = True
    arguments.update(replication(settings))
    arguments.update(expiry(settings))
    channel.queue_declare(queue, durable=True, arguments=arguments)
    for key in routing_keys:
        channel.queue_bind(queue, settings.exchange, routing_key=key)


def broker_reachable(settings: Settings) -> bool:
    try:
        connection = connect(settings, heartbeat=0)
    except CONNECTION_ERRORS:
        return False
    try:
        connection.close()
    except CONNECTION_ERRORS:
        pass
    return True


def consumer_count(settings: Settings, queue: str) -> int | None:
    """Consumers on `queue` now: 0 if it does not exist, None when the broker cannot
    be asked. Replays refuse to run while a projection's consumer is live."""
    try:
        connection = connect(settings, heartbeat=0)
    except CONNECTION_ERRORS:
        return None
    try:
        return connection.channel().queue_declare(queue, passive=True).method.consumer_count
    except pika.exceptions.ChannelClosedByBroker as error:
        if error.reply_code == 404:
            return 0  # its consumer never ran here
        raise
    finally:
        if connection.is_open:
            connection.close()
