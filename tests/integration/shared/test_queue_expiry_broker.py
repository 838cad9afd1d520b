"""A run that sets CRM_QUEUE_EXPIRES_MS leaves no queue behind on a shared broker."""
import dataclasses
import time

import pika.exceptions

from shared.backbone import broker


def _exists(settings, queue: str) -> bool:
    connection = broker.connect(settings)
    try:
        connection.channel().queue_declare(queue, passive=True)
        return True
    except pika.exceptions.ChannelClosedByBroker:
        return False
    finally:
        if connection.is_open:
            connection.close()


def test_unused_queues_of_an_expiring_run_are_deleted_by_the_broker(settings):
    expiring = dataclasses.replace(settings, queue_expires_ms=1000)
    queue = expiring.queue_name("expiry", "probe")
    connection = broker.connect(expiring)
    broker.declare_queue(connection.channel(), expiring, queue, ["nothing.routes.here"])
    connection.close()
    assert _exists(expiring, queue) and _exists(expiring, f"{queue}.dead")
    # The broker checks expiry periodically (every few seconds), not to the millisecond.
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and (_exists(expiring, queue) or
                                            _exists(expiring, f"{queue}.dead")):
        time.sleep(1)
    assert not _exists(expiring, queue) and not _exists(expiring, f"{queue}.dead")
