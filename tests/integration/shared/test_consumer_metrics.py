"""The consumer loop's figures against real RabbitMQ: events consumed, failed and
dead-lettered by queue and event type, and the depth of its queues."""
from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from shared.backbone.consumer import Consumer, ConsumerOptions
from shared.backbone.envelope import encode
from shared.backbone.events import ORDER_PLACED
from tests.support import backbone
from tests.support.backbone import ConsumerThread, order_events, wait_for

pytestmark = pytest.mark.integration
sandbox = backbone.sandbox  # fixture: found by module-level name


def figure(name: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(name, labels)


def test_a_poison_event_counts_as_failed_then_dead_and_its_batch_mates_as_consumed(sandbox):
    events = order_events(5)
    poison = events[2]["event_id"]

    def handle(batch: list[dict]) -> None:
        if poison in {event["event_id"] for event in batch}:
            raise ValueError("cannot apply")

    queue = sandbox.queue("metrics", [ORDER_PLACED])
    consumer = Consumer(sandbox.settings, ConsumerOptions(
        queue=queue, routing_keys=(ORDER_PLACED,), batch_wait=0.2, max_attempts=3,
        retry_delay_ms=100), handle)
    for event in events:  # as shared.backbone.publisher sends them: the type in `type`
        sandbox.publish_raw(ORDER_PLACED, encode(event), message_id=event["event_id"],
                            type=event["event_type"])
    labels = {"queue": queue, "event_type": ORDER_PLACED}
    running = ConsumerThread(consumer).start()
    try:
        assert wait_for(lambda: figure("crm_events_dead_lettered_total", **labels) == 1,
                        timeout=20)
    finally:
        running.stop()
    assert figure("crm_events_consumed_total", **labels) == 4
    assert figure("crm_events_failed_total", **labels) == 3  # every attempt, the last included
    # Depths were read from the broker for the queue and its dead letters.
    assert figure("crm_queue_messages", queue=queue) is not None
    assert figure("crm_queue_messages", queue=f"{queue}.dead") is not None
