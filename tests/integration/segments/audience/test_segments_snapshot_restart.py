"""A segments API replica restarts from its index snapshot only when that is safe
(RabbitMQ + FerretDB; the real projector announces the updates).

A graceful stop saves the index; updates announced while the replica is down
wait in its queue; the next start takes the snapshot back (reading no profile),
deletes it and applies what waited. No snapshot (a replica killed), a queue
that did not survive, a queue another process consumed since, or profiles
rebuilt since: the start reads every profile.
The last test runs the API under gunicorn and stops it with SIGTERM, as the
supervisor does.
"""
from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys

import pytest
import requests
from click.testing import CliRunner
from segments.database import SegmentsDatabase
from segments.projection.profile_store import ProfilesGeneration, ProfileStore
from segments.projection.replay import replay

from crm.stack import free_service_ports
from shared import mongo
from shared.backbone import broker
from shared.backbone.outbox import EventLog
from tests.support.audiences import (
    clean_up_segments,
    count,
    running_index,
    segments_config,
    waiting,
)
from tests.support.profiles import customer_upserted, environment, running_projector, wait_for

pytestmark = pytest.mark.integration


PUNE = {"field": "city", "op": "eq", "value": "pune"}


@pytest.fixture
def config(tmp_path):
    config = segments_config(snapshot_dir=str(tmp_path / "snapshots"))
    yield config
    clean_up_segments(config)


class CountingDatabase(SegmentsDatabase):
    """The real database, counting the full reads of `profiles` (index loads)."""

    def __init__(self, config):
        super().__init__(config.settings, config.database_name)
        self.scans = 0

    def profiles(self):
        database, store = self, super().profiles()

        class Counting(ProfileStore):
            def scan(self, batch_size=5000):
                database.scans += 1
                return store.scan(batch_size)

        counting = Counting.__new__(Counting)
        counting.__dict__.update(store.__dict__)
        return counting


def snapshot_path(config):
    return os.path.join(config.snapshot_dir, f"{config.index_queue}.snapshot")


def serve_then_stop(config, publish, store) -> None:
    """Five customers (two in Pune) through a replica that then stops gracefully;
    then, while it is down, c4 moves to Pune and c5 (in Pune) arrives.
    `publish`: a Publisher's publish, or an EventLog's append."""
    publish([customer_upserted(f"c{i}", city="Pune" if i < 2 else "Delhi")
                       for i in range(5)])
    wait_for(lambda: all(store.find(f"c{i}") for i in range(5)), "the customers")
    with running_index(config) as (holder, http):
        wait_for(lambda: count(http, PUNE) == 2, "two customers in Pune")
        publish([customer_upserted("c3", city="Pune")])  # through the feed
        wait_for(lambda: count(http, PUNE) == 3, "c3 moving to Pune")
    publish([customer_upserted("c4", city="Pune")])
    publish([customer_upserted("c5", city="Pune")])
    wait_for(lambda: waiting(config) >= 2, "the updates waiting in the replica queue")


def test_a_gracefully_stopped_replica_restarts_from_its_snapshot(config, publisher, store):
    with running_projector(config):
        serve_then_stop(config, publisher.publish, store)
        assert os.path.exists(snapshot_path(config))
        database = CountingDatabase(config)
        with running_index(config, database) as (holder, http):
            assert database.scans == 0, "the restart read the profiles"
            assert holder.status()["restored"] == 5 and holder.status()["loaded"] == 0
            assert not os.path.exists(snapshot_path(config))
            wait_for(lambda: count(http, PUNE) == 5, "the updates announced while down")
            assert len(holder.index) == 6
            publisher.publish([customer_upserted("c0", city="Delhi")])
            wait_for(lambda: count(http, PUNE) == 4, "updates flowing after the restart")
        assert os.path.exists(snapshot_path(config))  # and again at this stop


def test_a_replica_stopped_without_a_snapshot_reads_every_profile(config, publisher, store):
    killed = dataclasses.replace(config, snapshot_dir=None)  # as if killed: nothing saved
    with running_projector(config):
        serve_then_stop(killed, publisher.publish, store)
        assert not os.path.exists(snapshot_path(config))
        database = CountingDatabase(config)
        with running_index(config, database) as (holder, http):
            assert database.scans == 1 and "restored" not in holder.status()
            wait_for(lambda: count(http, PUNE) == 5, "the updates announced while down")


def test_a_snapshot_is_not_used_when_the_queue_did_not_survive(config, publisher, store):
    with running_projector(config):
        serve_then_stop(config, publisher.publish, store)
        connection = broker.connect(config.settings)
        connection.channel().queue_delete(config.index_queue)  # as x-expires would
        connection.close()
        database = CountingDatabase(config)
        with running_index(config, database) as (holder, http):
            assert database.scans == 1 and "restored" not in holder.status()
            assert not os.path.exists(snapshot_path(config))
            assert count(http, PUNE) == 5  # the database has what the queue lost


def test_a_snapshot_is_not_used_once_another_process_consumed_the_queue(config, publisher,
                                                                         store):
    elsewhere = dataclasses.replace(config, snapshot_dir=None)  # e.g. another snapshot dir
    with running_projector(config):
        serve_then_stop(config, publisher.publish, store)
        with running_index(elsewhere) as (_holder, http):
            wait_for(lambda: count(http, PUNE) == 5, "the other process applying the updates")
        assert os.path.exists(snapshot_path(config))
        publisher.publish([customer_upserted("c0", city="Delhi")])
        wait_for(lambda: waiting(config) >= 1, "the update in the replica queue")
        database = CountingDatabase(config)
        with running_index(config, database) as (holder, http):
            assert database.scans == 1 and "restored" not in holder.status()
            assert not os.path.exists(snapshot_path(config))
            wait_for(lambda: count(http, PUNE) == 4, "every profile, and what waited")


def test_a_snapshot_is_not_used_after_the_profiles_were_replayed(config, publisher, store):
    client = mongo.connect(config.settings)
    ingest_log = EventLog(client[config.settings.database_name("ingest")], publisher)
    try:
        with running_projector(config):
            serve_then_stop(config, ingest_log.append, store)
        generation = ProfilesGeneration(store._db).current()
        replayed = CliRunner().invoke(replay, ["profiles"], env=environment(config))
        assert replayed.exit_code == 0, replayed.output
        assert ProfilesGeneration(store._db).current() != generation
    finally:
        client.close()
    with running_projector(config):
        database = CountingDatabase(config)
        with running_index(config, database) as (holder, http):
            assert database.scans == 1 and "restored" not in holder.status()
            assert not os.path.exists(snapshot_path(config))
            wait_for(lambda: count(http, PUNE) == 5, "every profile, and what waited")


def free_port() -> int:
    # Below the ephemeral range: a port the kernel picks (bind to 0) can be taken by
    # an outgoing connection before gunicorn binds it.
    return int(free_service_ports()["SEGMENTS_PORT"])


def gunicorn_api(config, port: int) -> subprocess.Popen:
    env = {**environment(config),
           "SEGMENTS_REPLICA_ID": config.replica_id, "SEGMENTS_SNAPSHOT_DIR": config.snapshot_dir,
           "SEGMENTS_PORT": str(port)}
    return subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}",
                             "--workers", "1", "--threads", "2", "--graceful-timeout", "10",
                             "segments.app:create_app()"], env=env)


def ready_body(port: int) -> dict | None:
    try:
        response = requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2)
    except requests.RequestException:
        return None
    return response.json() if response.status_code == 200 else None


def test_sigterm_to_gunicorn_saves_the_snapshot_the_next_start_uses(config, publisher, store):
    port = free_port()
    with running_projector(config):
        publisher.publish([customer_upserted(f"c{i}", city="Pune") for i in range(3)])
        wait_for(lambda: all(store.find(f"c{i}") for i in range(3)), "the customers")
        for attempt in ("first", "second"):
            api = gunicorn_api(config, port)
            try:
                body = wait_for(lambda: ready_body(port), f"the {attempt} API", timeout=60)
                if attempt == "second":
                    assert body["audience_index"]["restored"] == 3
                    assert not os.path.exists(snapshot_path(config))
                    wait_for(lambda: requests.post(
                        f"http://127.0.0.1:{port}/api/v1/segments/preview",
                        json={"rules": PUNE}, timeout=5).json()["count"] == 4,
                        "the customer announced while the API was down")
                else:
                    assert "restored" not in body["audience_index"]
            finally:
                api.send_signal(signal.SIGTERM)
                assert api.wait(timeout=30) == 0
            assert os.path.exists(snapshot_path(config))
            if attempt == "first":
                publisher.publish([customer_upserted("c3", city="Pune")])
                wait_for(lambda: waiting(config) >= 1, "the update in the replica queue")
