"""Publisher confirms against the real RabbitMQ, including a cut connection."""
from __future__ import annotations

import json
import threading
import time

import pytest

from shared.backbone.events import CUSTOMER_UPSERTED, ORDER_PLACED
from shared.backbone.publisher import Publisher, Unroutable
from tests.support import backbone
from tests.support.backbone import order_events, via

pytestmark = pytest.mark.integration
sandbox, proxy = backbone.sandbox, backbone.proxy  # fixtures: found by module-level name


def _ids(messages) -> list[str]:
    return [json.loads(body)["event_id"] for _props, body in messages]


def test_a_confirmed_batch_is_all_in_the_bound_queue(sandbox):
    queue = sandbox.queue("orders", [ORDER_PLACED])
    batch = order_events(300)
    publisher = Publisher(sandbox.settings, confirm_timeout=10)
    try:
        publisher.publish(batch)
    finally:
        publisher.close()
    # Confirmed means enqueued: nothing more to wait for.
    assert sandbox.ready_count(queue) == len(batch)
    messages = sandbox.take(queue, at_least=len(batch))
    assert _ids(messages) == [event["event_id"] for event in batch]
    props = messages[0][0]
    assert props.delivery_mode == 2 and props.type == ORDER_PLACED
    assert props.message_id == batch[0]["event_id"]


def test_an_event_type_nobody_is_bound_to_is_unroutable(sandbox):
    queue = sandbox.queue("orders", [ORDER_PLACED])
    publisher = Publisher(sandbox.settings, confirm_timeout=10, retry_for=5)
    stray = order_events(1)[0] | {"event_type": CUSTOMER_UPSERTED}
    try:
        with pytest.raises(Unroutable, match=stray["event_id"]):
            publisher.publish(order_events(2) + [stray])
        # The publisher stays usable after an Unroutable.
        publisher.publish(order_events(1, prefix="after"))
    finally:
        publisher.close()
    assert len(sandbox.take(queue, at_least=3)) == 3


def test_publisher_reconnects_after_its_connection_is_cut(sandbox, proxy):
    queue = sandbox.queue("orders", [ORDER_PLACED])
    publisher = Publisher(via(sandbox.settings, proxy.port), confirm_timeout=5, retry_for=10)
    first, second, third = order_events(5, "a"), order_events(5, "b"), order_events(5, "c")
    try:
        publisher.publish(first)
        assert proxy.cut() == 1
        publisher.publish(second)  # the first try meets the dead socket, the retry reconnects
        assert proxy.accepted == 2
        publisher.publish(third)   # confirm bookkeeping restarted cleanly on the new channel
    finally:
        publisher.close()
    received = _ids(sandbox.take(queue, at_least=15))
    assert sorted(set(received)) == sorted(e["event_id"] for e in first + second + third)


def test_publisher_waits_out_a_broker_that_refuses_connections(sandbox, proxy):
    queue = sandbox.queue("orders", [ORDER_PLACED])
    publisher = Publisher(via(sandbox.settings, proxy.port), confirm_timeout=5, retry_for=20)
    batch = order_events(3)
    proxy.refuse()
    proxy.cut()
    threading.Timer(1.0, proxy.accept).start()
    started = time.monotonic()
    try:
        publisher.publish(batch)
    finally:
        publisher.close()
    assert time.monotonic() - started >= 0.9  # it really did wait for the broker
    assert sorted(_ids(sandbox.take(queue, at_least=3))) == sorted(e["event_id"] for e in batch)


def test_publisher_gives_up_after_retry_for(sandbox, proxy):
    publisher = Publisher(via(sandbox.settings, proxy.port), confirm_timeout=2, retry_for=0.5)
    proxy.refuse()
    started = time.monotonic()
    with pytest.raises(Exception) as raised:
        publisher.publish(order_events(1))
    assert time.monotonic() - started < 5
    assert not isinstance(raised.value, Unroutable)


def test_a_channel_closed_under_the_publisher_is_reopened_without_waiting_for_confirms(sandbox):
    queue = sandbox.queue("orders", [ORDER_PLACED])
    publisher = Publisher(sandbox.settings, confirm_timeout=20, retry_for=10)
    try:
        publisher.publish(order_events(1, "before"))
        # Deleting the exchange (and with it the binding) makes the broker close the
        # publisher's channel (404) on its next publish; the reconnect redeclares the
        # exchange, which then has no binding: Unroutable, at once.
        sandbox.channel.exchange_delete(sandbox.settings.exchange)
        started = time.monotonic()
        with pytest.raises(Unroutable):
            publisher.publish(order_events(1, "lost"))
        assert time.monotonic() - started < 10  # not the 20 s confirm timeout
        sandbox.queue("orders", [ORDER_PLACED])
        publisher.publish(order_events(1, "after"))
    finally:
        publisher.close()
    assert sorted(e["data"]["external_id"] for e in map(json.loads, (
        body for _p, body in sandbox.take(queue, at_least=2)))) == ["after-0", "before-0"]
