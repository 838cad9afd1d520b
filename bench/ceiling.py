"""The raw ceiling of this machine: what the database and the broker do with no suite around them.

The ingest scenario compares the suite's records per second with this:
- database: the same event documents written with pymongo `insert_many` in
  batches of 1,000 (the best size measured here);
- broker: the same message bodies published persistently to a quorum queue
  and consumed with prefetch and multiple acks, in two threads at once.
The ceiling time is the sum of both (one write pass plus one broker pass is the
least work any design with a log and a queue must do).
"""
from __future__ import annotations

import threading
import time
import uuid

import pika

from shared.backbone import broker, envelope
from shared.config import Settings
from shared.mongo import connect


def database_seconds(settings: Settings, documents: list[dict], batch: int = 1000) -> float:
    client = connect(settings)
    collection = client[f"{settings.db_prefix}_ceiling"]["events"]
    collection.drop()
    started = time.perf_counter()
    for start in range(0, len(documents), batch):
        collection.insert_many([dict(d) for d in documents[start:start + batch]], ordered=False)
    elapsed = time.perf_counter() - started
    client.drop_database(f"{settings.db_prefix}_ceiling")
    return elapsed


def broker_seconds(settings: Settings, bodies: list[bytes], prefetch: int = 2000) -> float:
    queue = f"{settings.queue_prefix}ceiling.{uuid.uuid4().hex[:8]}"
    setup = broker.connect(settings)
    channel = setup.channel()
    channel.queue_declare(queue, durable=True, arguments={"x-queue-type": "quorum"})
    consumed = threading.Event()

    def consume():
        connection = broker.connect(settings)
        ch = connection.channel()
        ch.basic_qos(prefetch_count=prefetch)
        count = 0
        for method, _props, _body in ch.consume(queue, inactivity_timeout=30):
            if method is None:
                break
            count += 1
            if count % 500 == 0 or count == len(bodies):
                ch.basic_ack(method.delivery_tag, multiple=True)
            if count == len(bodies):
                break
        ch.cancel()
        connection.close()
        consumed.set()

    started = time.perf_counter()
    consumer = threading.Thread(target=consume)
    consumer.start()
    publisher = broker.connect(settings)
    pub = publisher.channel()
    properties = pika.BasicProperties(delivery_mode=2, content_type="application/json")
    for body in bodies:
        pub.basic_publish("", queue, body, properties)
    consumer.join()
    elapsed = time.perf_counter() - started
    publisher.close()
    channel.queue_delete(queue)
    setup.close()
    return elapsed


def measure(settings: Settings, events: list[dict]) -> dict:
    documents = [envelope.to_log(e) for e in events]
    bodies = [envelope.encode(e) for e in events]
    db_s = database_seconds(settings, documents)
    broker_s = broker_seconds(settings, bodies)
    return {"database_seconds": round(db_s, 2), "broker_seconds": round(broker_s, 2),
            "seconds": round(db_s + broker_s, 2)}
