"""The consumer's ack bookkeeping, with a fake channel that acks the way RabbitMQ does.

RabbitMQ closes the channel (406 "unknown delivery tag") when an ack names a
tag that is not outstanding, even with multiple=True; the fake raises instead.
"""
from __future__ import annotations

import json
from types import SimpleNamespace

import pika
import pytest
from pika.exceptions import ChannelWrongStateError
from pymongo.errors import AutoReconnect

from shared.backbone.consumer import ATTEMPTS_HEADER, ERROR_HEADER, Consumer, ConsumerOptions
from shared.backbone.envelope import encode, new_event
from shared.backbone.events import ORDER_PLACED
from shared.config import Settings


class UnknownDeliveryTag(Exception):
    pass


class FakeChannel:
    def __init__(self, tags):
        self.unacked = list(tags)
        self.acks: list[tuple[int, bool]] = []
        self.is_open = True

    def basic_ack(self, delivery_tag, multiple=False):
        if delivery_tag not in self.unacked:
            raise UnknownDeliveryTag(delivery_tag)
        self.acks.append((delivery_tag, multiple))
        if multiple:
            self.unacked = [t for t in self.unacked if t > delivery_tag]
        else:
            self.unacked.remove(delivery_tag)


class FakeRepublisher:
    is_open = True

    def __init__(self):
        self.published: list[tuple[str, str, bytes, pika.BasicProperties]] = []

    def basic_publish(self, exchange, routing_key, body, properties, mandatory=False):
        assert mandatory, "a copy the broker drops for want of a binding would be lost"
        self.published.append((exchange, routing_key, body, properties))


class FakeConnection:
    def process_data_events(self, time_limit=0):
        pass


def _consumer(handler, **options) -> Consumer:
    consumer_options = ConsumerOptions(queue="test.orders", routing_keys=(ORDER_PLACED,),
                                       **options)
    consumer = Consumer(Settings(), consumer_options, handler)
    consumer._republisher = FakeRepublisher()
    return consumer


def _order(n: int) -> dict:
    return new_event(ORDER_PLACED, {"external_id": f"o-{n}", "customer_external_id": "c",
                                    "amount": 5, "placed_at": "2024-01-01T00:00:00Z"},
                     producer="test", event_id=f"e-{n}")


def _delivery(tag: int, body: bytes, headers=None):
    return SimpleNamespace(delivery_tag=tag), pika.BasicProperties(headers=headers), body


@pytest.fixture
def stop_consumers():
    made: list[Consumer] = []
    yield made
    for consumer in made:
        consumer._executor.shutdown(wait=True)


def test_dead_lettered_messages_anywhere_in_a_batch_leave_every_tag_acked_once(stop_consumers):
    handled = []
    consumer = _consumer(handled.extend)
    stop_consumers.append(consumer)
    batch = [_delivery(1, b"garbage"), _delivery(2, encode(_order(2))), _delivery(3, b"{}"),
             _delivery(4, encode(_order(4))), _delivery(5, b"[1]")]
    channel = FakeChannel([1, 2, 3, 4, 5, 6])  # 6: delivered after the batch was cut
    consumer._process(FakeConnection(), channel, batch)
    assert [e["event_id"] for e in handled] == ["e-2", "e-4"]
    assert channel.unacked == [6]
    dead = consumer._republisher.published
    assert [(exchange, key, body) for exchange, key, body, _ in dead] == [
        ("crm.dead", "test.orders", b"garbage"), ("crm.dead", "test.orders", b"{}"),
        ("crm.dead", "test.orders", b"[1]")]
    assert all(ERROR_HEADER in props.headers for *_, props in dead)


def test_a_failing_event_is_retried_alone_and_its_batch_mates_are_acked(stop_consumers):
    def handler(events):
        if any(e["event_id"] == "e-2" for e in events):
            raise ValueError("cannot apply e-2")

    consumer = _consumer(handler, max_attempts=3)
    stop_consumers.append(consumer)
    channel = FakeChannel([1, 2, 3])
    batch = [_delivery(n, encode(_order(n))) for n in (1, 2, 3)]
    consumer._process(FakeConnection(), channel, batch)
    assert channel.unacked == []
    [(exchange, key, body, props)] = consumer._republisher.published
    assert (exchange, key) == ("", "test.orders.retry")
    assert json.loads(body)["event_id"] == "e-2"
    assert props.headers[ATTEMPTS_HEADER] == 1 and "cannot apply" in props.headers[ERROR_HEADER]


def test_the_last_attempt_goes_to_dead_with_the_final_count(stop_consumers):
    def handler(_events):
        raise ValueError("still broken")

    consumer = _consumer(handler, max_attempts=3)
    stop_consumers.append(consumer)
    channel = FakeChannel([7])
    consumer._process(FakeConnection(), channel,
                      [_delivery(7, encode(_order(7)), {ATTEMPTS_HEADER: 2})])
    [(exchange, _key, _body, props)] = consumer._republisher.published
    assert exchange == "crm.dead"
    assert props.headers[ATTEMPTS_HEADER] == 3
    assert "failed 3 times" in props.headers[ERROR_HEADER]
    assert channel.unacked == []


def test_a_malformed_attempts_header_counts_as_none(stop_consumers):
    def handler(_events):
        raise ValueError("nope")

    consumer = _consumer(handler, max_attempts=5)
    stop_consumers.append(consumer)
    consumer._process(FakeConnection(), FakeChannel([1]),
                      [_delivery(1, encode(_order(1)), {ATTEMPTS_HEADER: "many"})])
    [(_exchange, _key, _body, props)] = consumer._republisher.published
    assert props.headers[ATTEMPTS_HEADER] == 1


def test_a_channel_that_dies_during_the_handler_is_not_acked_on(stop_consumers):
    channel = FakeChannel([1, 2])

    def handler(_events):
        channel.is_open = False  # the broker closed it meanwhile

    consumer = _consumer(handler)
    stop_consumers.append(consumer)
    with pytest.raises(ChannelWrongStateError):
        consumer._process(FakeConnection(), channel,
                          [_delivery(n, encode(_order(n))) for n in (1, 2)])
    assert channel.acks == [] and consumer._republisher.published == []


def test_stopping_during_an_outage_leaves_the_batch_for_redelivery(stop_consumers):
    consumer = None

    def handler(_events):
        consumer.stop()
        raise AutoReconnect("database down")

    consumer = _consumer(handler)
    stop_consumers.append(consumer)
    channel = FakeChannel([1, 2])
    consumer._process(FakeConnection(), channel, [_delivery(n, encode(_order(n))) for n in (1, 2)])
    assert channel.unacked == [1, 2] and consumer._republisher.published == []
