"""EventLog (log + outbox + relay) against real FerretDB and RabbitMQ, including a kill -9."""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import textwrap
from datetime import timedelta
from pathlib import Path

import pytest

from shared.backbone.consumer import Consumer, ConsumerOptions
from shared.backbone.events import CUSTOMER_UPSERTED, ORDER_PLACED
from shared.backbone.outbox import LOG_COLLECTION, OUTBOX_COLLECTION, EventLog
from shared.backbone.publisher import Publisher
from shared.mongo import insert_many_new
from tests.support import backbone
from tests.support.backbone import ConsumerThread, broker_address, order_events, via, wait_for
from tests.support.faultproxy import FaultProxy

pytestmark = pytest.mark.integration
sandbox = backbone.sandbox  # fixture: pytest finds fixtures by module-level name
ROOT = Path(__file__).resolve().parents[3]  # the checkout, where the killed child runs


@pytest.fixture
def publisher(sandbox):
    working = Publisher(sandbox.settings, confirm_timeout=10, retry_for=5)
    yield working
    working.close()


def _logged_ids(sandbox) -> list[str]:
    return sorted(document["_id"] for document in sandbox.db[LOG_COLLECTION].find({}))


def _ids(events) -> list[str]:
    return sorted(event["event_id"] for event in events)


def _queued_ids(sandbox, queue, at_least) -> list[str]:
    return sorted(json.loads(body)["event_id"] for _props, body in sandbox.take(queue, at_least))


def test_append_logs_publishes_and_leaves_no_outbox_document(sandbox, publisher):
    queue = sandbox.queue("orders", [ORDER_PLACED])
    events = order_events(25)
    assert EventLog(sandbox.db, publisher).append(events) is True
    assert _logged_ids(sandbox) == _ids(events)
    assert sandbox.db[OUTBOX_COLLECTION].count_documents({}) == 0
    assert _queued_ids(sandbox, queue, 25) == _ids(events)


def test_with_the_broker_down_the_outbox_keeps_the_batch_until_the_relay(sandbox, publisher):
    queue = sandbox.queue("orders", [ORDER_PLACED])
    events = order_events(10)
    with FaultProxy(*broker_address(sandbox.settings)) as proxy:
        proxy.refuse()
        unreachable = Publisher(via(sandbox.settings, proxy.port), retry_for=0.5)
        assert EventLog(sandbox.db, unreachable).append(events) is False
    assert _logged_ids(sandbox) == _ids(events)
    [pending] = sandbox.db[OUTBOX_COLLECTION].find({})
    assert sorted(pending["event_ids"]) == _ids(events)
    assert sandbox.ready_count(queue) == 0

    event_log = EventLog(sandbox.db, publisher)
    assert event_log.relay_pending(older_than=timedelta(minutes=5)) == 0  # too young to relay
    assert event_log.relay_pending(older_than=timedelta(0)) == 10
    assert event_log.pending_batches() == 0
    assert _logged_ids(sandbox) == _ids(events)  # relayed, not logged twice
    assert _queued_ids(sandbox, queue, 10) == _ids(events)


class CountingPublisher:
    def __init__(self, inner):
        self.inner, self.calls = inner, 0

    def publish(self, envelopes):
        self.calls += 1
        self.inner.publish(envelopes)


def test_the_relay_stops_at_a_broker_failure_but_not_at_an_unroutable_batch(sandbox, publisher):
    queue = sandbox.queue("orders", [ORDER_PLACED])
    with FaultProxy(*broker_address(sandbox.settings)) as proxy:
        proxy.refuse()
        down = CountingPublisher(Publisher(via(sandbox.settings, proxy.port), retry_for=0))
        event_log = EventLog(sandbox.db, down)
        stray = [e | {"event_type": CUSTOMER_UPSERTED} for e in order_events(2, "stray")]
        for batch in (stray, order_events(3, "a"), order_events(3, "b")):
            event_log.append(batch)
        down.calls = 0
        assert event_log.relay_pending(older_than=timedelta(0)) == 0
        assert down.calls == 1  # not one full retry budget per pending batch
    # Nobody is bound to the stray batch's type: it stays, the others go.
    assert EventLog(sandbox.db, publisher).relay_pending(older_than=timedelta(0)) == 6
    [left] = sandbox.db[OUTBOX_COLLECTION].find({})
    assert sorted(left["event_ids"]) == _ids(stray)
    assert len(sandbox.take(queue, at_least=6)) == 6


CHILD = textwrap.dedent("""
    import json, sys, time
    from shared import mongo
    from shared.config import Settings
    from shared.backbone.outbox import EventLog
    from shared.backbone.publisher import Publisher

    class StallingPublisher:
        '''Stalls (to be killed) before or after really publishing.'''
        def __init__(self, inner, when):
            self.inner, self.when = inner, when
        def publish(self, envelopes):
            if self.when == "before":
                print("stalled", flush=True); time.sleep(60)
            self.inner.publish(envelopes)
            if self.when == "after":
                print("stalled", flush=True); time.sleep(60)

    settings = Settings.from_env()
    events = json.loads(sys.stdin.readline())
    db = mongo.connect(settings)[settings.database_name("backbone")]
    EventLog(db, StallingPublisher(Publisher(settings), sys.argv[1])).append(events)
    print("finished", flush=True)
""")


def _child_env(settings) -> dict[str, str]:
    return {**os.environ, "MONGO_URL": settings.mongo_url, "AMQP_URL": settings.amqp_url,
            "CRM_DB_PREFIX": settings.db_prefix, "CRM_EXCHANGE": settings.exchange,
            "CRM_DEAD_LETTER_EXCHANGE": settings.dead_letter_exchange}


def _wait_for_line(child: subprocess.Popen, expected: str, timeout: float = 15.0) -> None:
    ready, _, _ = select.select([child.stdout], [], [], timeout)
    line = child.stdout.readline().strip() if ready else "(nothing)"
    assert line == expected, f"child said {line!r}: {child.stderr.read() if not ready else ''}"


@pytest.mark.parametrize("killed", ["before", "after"], ids=["killed-before-publish",
                                                            "killed-after-publish"])
def test_kill_9_between_write_and_publish_loses_nothing(sandbox, publisher, killed):
    queue = sandbox.queue("orders", [ORDER_PLACED])
    events = order_events(40)
    child = subprocess.Popen([sys.executable, "-c", CHILD, killed], cwd=ROOT, text=True,
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             env=_child_env(sandbox.settings))
    try:
        child.stdin.write(json.dumps(events) + "\n")
        child.stdin.flush()
        _wait_for_line(child, "stalled")
        # The writes are visible before the kill: outbox batch and log.
        assert sandbox.db[OUTBOX_COLLECTION].count_documents({}) == 1
        assert _logged_ids(sandbox) == _ids(events)
        child.send_signal(signal.SIGKILL)
        assert child.wait(10) == -signal.SIGKILL
    finally:
        if child.poll() is None:
            child.kill()
        child.communicate()

    assert EventLog(sandbox.db, publisher).relay_pending(older_than=timedelta(0)) == 40
    assert sandbox.db[OUTBOX_COLLECTION].count_documents({}) == 0
    assert _logged_ids(sandbox) == _ids(events)  # each event logged exactly once

    # At least once on the queue (twice when the child had published), and a
    # consumer keyed by event id applies each once.
    projection = sandbox.db["projection"]
    deliveries: list[str] = []

    def project(batch):
        deliveries.extend(e["event_id"] for e in batch)
        insert_many_new(projection, [{"_id": e["event_id"]} for e in batch])

    copies = 2 if killed == "after" else 1
    consumer = Consumer(sandbox.settings, ConsumerOptions(queue=queue, routing_keys=(ORDER_PLACED,),
                                                          batch_wait=0.1), project)
    running = ConsumerThread(consumer).start()
    assert wait_for(lambda: len(deliveries) >= copies * 40)
    running.stop()
    assert sorted(deliveries) == sorted(_ids(events) * copies)
    assert sorted(d["_id"] for d in projection.find({})) == _ids(events)
    assert sandbox.ready_count(queue) == 0
