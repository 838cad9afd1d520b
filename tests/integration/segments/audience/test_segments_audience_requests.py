"""audience.requested answered with audience.chunk events, on real RabbitMQ and FerretDB."""
from __future__ import annotations

import json
import threading
from datetime import timedelta

import pytest
from segments.projection.profile_store import ProfileStore
from segments.saved.store import AudienceStore

from shared import mongo
from shared.backbone import broker
from shared.backbone.envelope import new_event
from shared.backbone.events import AUDIENCE_CHUNK, AUDIENCE_FAILED, AUDIENCE_REQUESTED
from tests.support.audiences import EventWatcher, PausingDatabase, running_index
from tests.support.profiles import BASE, customer_upserted, iso, running_projector, wait_for

pytestmark = pytest.mark.integration


PUNE = {"field": "city", "op": "eq", "value": "pune"}
AS_OF = iso(BASE + timedelta(days=30))


@pytest.fixture
def watcher(config):
    watcher = EventWatcher(config, AUDIENCE_CHUNK, AUDIENCE_FAILED)
    yield watcher
    watcher.close()


def request(request_id: str, rules) -> dict:
    return new_event(AUDIENCE_REQUESTED, {"request_id": request_id, "rules": rules,
                                          "as_of": AS_OF}, producer="campaigns")


def project_shop(config, publisher, customers: int) -> list[str]:
    """Customers projected and in the database; every 6th not in Pune, every 50th with 7 visits."""
    ids = [f"c{i:05d}" for i in range(customers)]
    publisher.publish([customer_upserted(external_id, city="Mumbai" if n % 6 == 0 else "Pune",
                                         visits=7 if n % 50 == 0 else 2, phone=f"+91 98{n:05d}")
                       for n, external_id in enumerate(ids)])
    client = mongo.connect(config.settings)
    try:
        store = ProfileStore(client[config.database_name])
        wait_for(lambda: store.find(ids[-1]) and all(store.find(i) for i in ids[::97]),
                 "the customers to be projected", timeout=120)
    finally:
        client.close()
    return ids


def chunks_of(bodies: list[bytes], request_id: str) -> dict[str, dict]:
    """The chunk events of one request by event id (repeats dropped, as campaigns will)."""
    events = [json.loads(body) for body in bodies]
    return {e["event_id"]: e for e in events if e["data"]["request_id"] == request_id}


def assert_exactly_once(chunks: dict[str, dict], expected: list[str]) -> None:
    by_index = {e["data"]["chunk_index"]: e["data"] for e in chunks.values()}
    count = next(iter(by_index.values()))["chunk_count"]
    assert sorted(by_index) == list(range(count)) and len(by_index) == len(chunks)
    members = [r["external_id"] for data in by_index.values() for r in data["recipients"]]
    assert sorted(members) == sorted(expected)  # each exactly once
    assert all(data["audience_size"] == len(expected) for data in by_index.values())
    assert all(len(data["recipients"]) <= 1000 for data in by_index.values())


def test_an_audience_streams_in_chunks_with_every_member_once(config, publisher, watcher):
    with running_projector(config):
        ids = project_shop(config, publisher, 2400)
        pune = [i for n, i in enumerate(ids) if n % 6]
        sevens = ids[::50]
        with running_index(config) as (holder, _http):
            wait_for(lambda: len(holder.index) == len(ids), "every customer in the index")
            publisher.publish([request("big", PUNE),  # 2,000 of 2,400: two chunks
                               request("small", {"field": "visits", "op": "eq", "value": 7}),
                               request("none", {"field": "city", "op": "eq", "value": "Goa"})])
            bodies = watcher.take(2 + 1 + 1)
            first = chunks_of(bodies, "big")
            assert_exactly_once(first, pune)
            assert len(first) == 2
            assert_exactly_once(chunks_of(bodies, "small"), sevens)
            [none] = chunks_of(bodies, "none").values()
            assert none["data"]["recipients"] == [] and none["data"]["audience_size"] == 0

            recipient = next(r for e in first.values() for r in e["data"]["recipients"]
                             if r["external_id"] == "c00001")
            # From the index, as written (the index matches on casefolded text).
            assert (recipient["first_name"], recipient["city"], recipient["email"],
                    recipient["phone"]) == ("Customer", "Pune", "c00001@example.com", "+91 9800001")

            publisher.publish([request("big", PUNE)])  # asked again: the same events
            again = chunks_of(watcher.take(2), "big")
    assert again == first


def test_invalid_rules_are_answered_with_audience_failed(config, publisher, watcher):
    with running_index(config):
        publisher.publish([request("bad", {"field": "city", "op": "$regex", "value": ".*"})])
        [failed] = [json.loads(body) for body in watcher.take(1)]
    assert failed["event_type"] == AUDIENCE_FAILED
    assert failed["data"]["code"] == "INVALID_RULES"
    assert [problem["path"] for problem in failed["data"]["problems"]] == ["rules.op"]


def test_requests_wait_until_the_index_is_loaded(config, publisher, watcher):
    with running_projector(config):
        ids = project_shop(config, publisher, 120)
    connection = broker.connect(config.settings)
    channel = connection.channel()
    # Declared as the segments consumer declares it, so the request waits there.
    broker.declare_queue(channel, config.settings, config.audiences_queue, [AUDIENCE_REQUESTED])
    paused, resume = threading.Event(), threading.Event()
    database = PausingDatabase(config, paused, resume)
    result: dict = {}
    loading = threading.Thread(target=_serve_until_answered, args=(config, database, result))
    loading.start()
    try:
        assert paused.wait(30), "the load never started"
        publisher.publish([request("early", PUNE)])
        queue = channel.queue_declare(config.audiences_queue, passive=True).method
        assert (queue.message_count, queue.consumer_count) == (1, 0)
        assert watcher.take(1, timeout=1.0) == []
    finally:
        resume.set()
        loading.join(60)
        connection.close()
    assert result["answered"]
    assert_exactly_once(chunks_of(watcher.take(1), "early"),
                        [i for n, i in enumerate(ids) if n % 6])


def _serve_until_answered(config, database, result: dict) -> None:
    """Run the index until the request "early" is answered completely."""
    with running_index(config, database=database, ready_timeout=60):
        audiences = AudienceStore(database.database())
        result["answered"] = wait_for(lambda: (record := audiences.find("early")) and
                                      record["complete"], "the answer to 'early'")
