"""The consumer loop against real RabbitMQ and FerretDB, with a fault proxy in between."""
from __future__ import annotations

import json
import threading

import pytest
from pymongo.errors import AutoReconnect

from shared.backbone.consumer import ATTEMPTS_HEADER, ERROR_HEADER, Consumer, ConsumerOptions
from shared.backbone.envelope import encode
from shared.backbone.events import ORDER_PLACED
from shared.mongo import insert_many_new
from tests.support import backbone
from tests.support.backbone import ConsumerThread, order_events, via, wait_for

pytestmark = pytest.mark.integration
sandbox, proxy = backbone.sandbox, backbone.proxy  # fixtures: found by module-level name


class Recorder:
    """A handler that records every call; `block_first` holds the first call until released."""

    def __init__(self, block_first: bool = False, fail=None):
        self.calls: list[list[str]] = []
        self.handled: list[str] = []  # event ids of calls that returned normally
        self.entered = threading.Event()
        self.release = threading.Event()
        self._block_first = block_first
        self._fail = fail  # fail(call_number, events) -> exception to raise, or None
        self._lock = threading.Lock()

    def __call__(self, events: list[dict]) -> None:
        with self._lock:
            self.calls.append([event["event_id"] for event in events])
            number = len(self.calls)
        if number == 1 and self._block_first:
            self.entered.set()
            assert self.release.wait(10), "test never released the handler"
        error = self._fail(number, events) if self._fail else None
        if error is not None:
            raise error
        with self._lock:
            self.handled.extend(event["event_id"] for event in events)


def _consumer(sandbox, settings, handler, **options) -> tuple[Consumer, str]:
    queue = sandbox.settings.queue_name("test", "orders")
    sandbox.track(queue)
    defaults = {"batch_wait": 0.2, "max_attempts": 3, "retry_delay_ms": 100}
    consumer = Consumer(settings, ConsumerOptions(queue=queue, routing_keys=(ORDER_PLACED,),
                                                  **(defaults | options)), handler)
    return consumer, queue


def _ids(events) -> list[str]:
    return [event["event_id"] for event in events]


def test_a_batch_is_acked_only_after_its_handler_returns(sandbox, proxy):
    handler = Recorder(block_first=True)
    consumer, queue = _consumer(sandbox, via(sandbox.settings, proxy.port), handler)
    sandbox.queue("orders", [ORDER_PLACED])
    events = order_events(20)
    sandbox.publish(events)  # queued before the consumer starts: one batch
    running = ConsumerThread(consumer).start()
    assert handler.entered.wait(10)
    assert proxy.cut() == 1  # the consumer's connection dies while its handler runs
    handler.release.set()
    assert wait_for(lambda: len(handler.calls) >= 2)
    running.stop()
    assert handler.calls[0] == _ids(events)
    assert handler.calls[1] == _ids(events)  # redelivered: it had not been acked
    assert proxy.accepted == 2
    assert sandbox.ready_count(queue) == 0  # and the redelivery was acked
    assert sandbox.ready_count(f"{queue}.dead") == 0


def test_a_redelivered_batch_changes_nothing_with_an_idempotent_handler(sandbox, proxy):
    collection = sandbox.db["handled"]
    inserted_per_call: list[int] = []
    written = threading.Event()
    release = threading.Event()

    def record_orders(events):
        documents = [{"_id": e["event_id"], "external_id": e["data"]["external_id"]}
                     for e in events]
        inserted_per_call.append(len(insert_many_new(collection, documents)))
        if len(inserted_per_call) == 1:  # crash after the write, before the ack
            written.set()
            release.wait(10)

    consumer, queue = _consumer(sandbox, via(sandbox.settings, proxy.port), record_orders)
    sandbox.queue("orders", [ORDER_PLACED])
    events = order_events(30)
    sandbox.publish(events)
    running = ConsumerThread(consumer).start()
    assert written.wait(10)
    proxy.cut()
    release.set()
    assert wait_for(lambda: len(inserted_per_call) >= 2)
    running.stop()
    assert inserted_per_call == [30, 0]
    assert sorted(d["_id"] for d in collection.find({})) == sorted(_ids(events))
    assert sandbox.ready_count(queue) == 0


def test_a_poison_event_is_dead_lettered_after_max_attempts_and_its_batch_mates_handled(sandbox):
    events = order_events(5)
    poison = events[2]["event_id"]

    def fail(_number, batch):
        return ValueError("cannot apply") if poison in _ids(batch) else None

    handler = Recorder(fail=fail)
    consumer, queue = _consumer(sandbox, sandbox.settings, handler, max_attempts=3)
    sandbox.queue("orders", [ORDER_PLACED])
    sandbox.publish(events)  # queued before the consumer starts: one batch
    running = ConsumerThread(consumer).start()
    dead = sandbox.take(f"{queue}.dead", at_least=1, timeout=15)
    running.stop()
    assert handler.calls[0] == _ids(events)
    assert sorted(handler.handled) == sorted(set(_ids(events)) - {poison})
    assert len(dead) == 1
    props, body = dead[0]
    assert json.loads(body)["event_id"] == poison
    assert props.headers[ATTEMPTS_HEADER] == 3
    assert "cannot apply" in props.headers[ERROR_HEADER]
    assert sum(poison in call for call in handler.calls) >= 3
    assert sandbox.ready_count(queue) == 0 and sandbox.ready_count(f"{queue}.retry") == 0


def test_malformed_bodies_go_straight_to_dead_and_the_rest_of_the_batch_is_acked(sandbox, proxy):
    handler = Recorder()
    consumer, queue = _consumer(sandbox, via(sandbox.settings, proxy.port), handler,
                                batch_wait=0.5)
    sandbox.queue("orders", [ORDER_PLACED])
    good = order_events(3)
    unknown_type = encode(good[0] | {"event_id": "bad-type", "event_type": "order.teleported"})
    # Bad ones in the middle and at the end: the good ones' ack (multiple=True up to
    # the last good tag) must not ack anything twice or leave anything unacked.
    sandbox.publish(good[:1])
    sandbox.publish_raw(ORDER_PLACED, b"{not json", message_id="bad-json")
    sandbox.publish(good[1:])
    sandbox.publish_raw(ORDER_PLACED, unknown_type, message_id="bad-type")
    running = ConsumerThread(consumer).start()
    dead = sandbox.take(f"{queue}.dead", at_least=2, timeout=10)
    assert wait_for(lambda: len(handler.handled) >= 3)
    running.stop()
    assert handler.calls == [_ids(good)]  # one batch, the bad ones never reached it
    assert sorted(props.message_id for props, _ in dead) == ["bad-json", "bad-type"]
    assert all(ERROR_HEADER in props.headers and ATTEMPTS_HEADER not in props.headers
               for props, _ in dead)
    assert proxy.accepted == 1  # no channel error (e.g. a double ack) forced a reconnect
    assert sandbox.ready_count(queue) == 0


def test_an_outage_is_retried_without_dead_lettering(sandbox):
    def fail(number, _batch):
        return AutoReconnect("database restarting") if number <= 2 else None

    handler = Recorder(fail=fail)
    consumer, queue = _consumer(sandbox, sandbox.settings, handler, max_attempts=1)
    sandbox.queue("orders", [ORDER_PLACED])
    events = order_events(4)
    sandbox.publish(events)
    running = ConsumerThread(consumer).start()
    assert wait_for(lambda: len(handler.handled) >= 4)
    running.stop()
    # max_attempts=1 would dead-letter any blamed event at once: none was blamed.
    assert handler.calls == [_ids(events)] * 3
    assert sandbox.ready_count(f"{queue}.dead") == 0
    assert sandbox.ready_count(f"{queue}.retry") == 0
    assert sandbox.ready_count(queue) == 0


def test_a_handler_failing_while_the_connection_drops_loses_nothing(sandbox, proxy):
    def fail(number, _batch):
        return ValueError("failed as the connection went") if number == 1 else None

    handler = Recorder(block_first=True, fail=fail)
    consumer, queue = _consumer(sandbox, via(sandbox.settings, proxy.port), handler,
                                max_attempts=1)
    running = ConsumerThread(consumer).start()
    events = order_events(10)
    sandbox.publish(events)
    assert handler.entered.wait(10)
    proxy.cut()
    handler.release.set()
    assert wait_for(lambda: len(set(handler.handled)) >= 10)
    running.stop()
    assert sorted(set(handler.handled)) == sorted(_ids(events))
    # The failure belonged to a dead connection: nothing was blamed for it.
    assert sandbox.ready_count(f"{queue}.dead") == 0
    assert sandbox.ready_count(f"{queue}.retry") == 0
    assert sandbox.ready_count(queue) == 0


def test_stop_finishes_the_current_batch_acks_it_and_closes(sandbox, proxy):
    handler = Recorder(block_first=True)
    consumer, queue = _consumer(sandbox, via(sandbox.settings, proxy.port), handler)
    sandbox.queue("orders", [ORDER_PLACED])
    events = order_events(8)
    sandbox.publish(events)
    running = ConsumerThread(consumer).start()
    assert handler.entered.wait(10)
    consumer.stop()
    handler.release.set()
    running.stop()
    assert handler.calls == [_ids(events)]
    assert not consumer.consuming
    assert wait_for(lambda: proxy.open_connections == 0, timeout=3)
    assert sandbox.ready_count(queue) == 0  # acked before closing, not redelivered


def test_stop_ends_the_reconnect_loop_while_the_broker_is_unreachable(sandbox, proxy):
    proxy.refuse()
    consumer, _queue = _consumer(sandbox, via(sandbox.settings, proxy.port), Recorder())
    running = ConsumerThread(consumer)
    running._thread.start()
    assert not consumer.wait_until_consuming(1.5)  # a few failed attempts meanwhile
    running.stop(timeout=3)


def test_the_consumer_comes_back_after_its_queue_is_deleted(sandbox, proxy):
    handler = Recorder()
    consumer, queue = _consumer(sandbox, via(sandbox.settings, proxy.port), handler)
    running = ConsumerThread(consumer).start()
    sandbox.channel.queue_delete(queue)  # the broker cancels the consumer
    assert wait_for(lambda: proxy.accepted >= 2, timeout=10), "consumer never reconnected"
    assert consumer.wait_until_consuming(10)
    events = order_events(3)
    sandbox.publish(events)  # routable again: the reconnect redeclared and rebound the queue
    assert wait_for(lambda: len(handler.handled) >= 3)
    running.stop()
    assert handler.handled == _ids(events)
