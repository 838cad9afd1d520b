"""The multi-host path on one machine (issue 12, item 4): the whole suite on a
three-node RabbitMQ cluster (scripts/cluster.sh, what `make cluster-up` runs),
its quorum queues replicated on all three nodes, and a campaign that keeps
sending while one node is killed -9 and another is restarted, ending with 0
lost, 0 duplicated and exact stats.

The cluster is the test's own (free ports, own node names, a temporary
directory): killing nodes of a broker anyone else uses would break them.
CRM_CLUSTER_CAMPAIGN_SIZE sets the audience (default 3,000 to keep `make test`
short; docs/cluster.md has the 10,000 run). The campaign is paced to last
about SEND_SECONDS, so both faults land mid-send.
"""
from __future__ import annotations

import os
import time

import pytest

from crm.seed import generate_customers
from tests.support.campaigns import (
    assert_exactly_once,
    post_customers,
    read_riding_out,
    wait_audience,
    watch_until_completed,
)
from tests.support.cluster import running_cluster
from tests.support.suite import api_session, running_suite

SIZE = int(os.environ.get("CRM_CLUSTER_CAMPAIGN_SIZE", "3000"))
SEND_SECONDS = 60
CITY = "Clusterabad"  # only this test's customers live here
RULES = {"field": "city", "op": "eq", "value": CITY}
TEMPLATE = "Hello {first_name|there}, three brokers, one message for you."
KILLED, RESTARTED = 1, 2  # node 1: the first every client tries; node 2: the next one


@pytest.fixture(scope="module")
def cluster(servers):
    with running_cluster() as started:
        yield started


@pytest.fixture(scope="module")
def cluster_suite(cluster):
    """The whole suite on the cluster: (stack, settings, api session)."""
    extra = {"AMQP_URL": cluster.amqp_url, "CRM_QUORUM_GROUP_SIZE": "3"}
    with running_suite("clu", extra) as (stack, settings):
        yield stack, settings, api_session(stack, settings, "cluster")


def test_every_quorum_queue_of_the_suite_has_a_member_on_each_node(cluster, cluster_suite):
    _, settings, _ = cluster_suite
    queues = cluster.queues(settings.queue_prefix)
    quorum = {name: queue for name, queue in queues.items() if queue["type"] == "quorum"}
    assert len(quorum) >= 10, sorted(queues)  # every worker's queue and its dead letters
    for name, queue in quorum.items():
        assert sorted(queue["members"]) == sorted(cluster.nodes), (name, queue)


def _ingest(api) -> set[str]:
    customers = generate_customers(SIZE, seed=12, prefix="clu-")
    for customer in customers:
        customer["city"] = CITY
    post_customers(api, customers)
    wait_audience(api, RULES, SIZE, timeout=300, interval=1.0)
    return {c["external_id"] for c in customers}


def _launch(api) -> str:
    created = api.post(f"{api.base_url}/api/v1/campaigns", timeout=30, json={
        "name": "Cluster node loss", "rules": RULES, "message": TEMPLATE,
        "send_rate": SIZE / SEND_SECONDS})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def _wait_progress(api, campaign_id: str, beyond: int, timeout: float = 120) -> int:
    """Until more than `beyond` messages are done (sent or failed) and some still
    pending: the campaign goes on sending, and the next fault still lands mid-send."""
    deadline, stats = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        campaign = read_riding_out(api, campaign_id)
        stats = campaign["stats"]
        assert campaign["status"] != "completed", f"completed before the next fault: {stats}"
        done = stats["sent"] + stats["failed"]
        if done > beyond and stats["pending"] > 0:
            return done
        time.sleep(0.5)
    raise AssertionError(f"no progress beyond {beyond} in {timeout}s: {stats}")


def _done(api, campaign_id: str) -> int:
    stats = read_riding_out(api, campaign_id)["stats"]
    return stats["sent"] + stats["failed"]


def _note(started: float, what: str) -> None:
    """A timeline in the test's output (shown on failure, or with -s): what the
    figures in docs/cluster.md are read from."""
    print(f"[{time.monotonic() - started:6.1f} s] {what}", flush=True)


def _until(condition, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within {timeout}s: {what}"
        time.sleep(0.5)


def test_a_node_killed_and_another_restarted_mid_send_lose_and_duplicate_nothing(
        cluster, cluster_suite):
    _, settings, api = cluster_suite
    started = time.monotonic()
    audience = _ingest(api)
    _note(started, f"{SIZE} customers ingested and in the audience")
    campaign_id = _launch(api)
    done = _wait_progress(api, campaign_id, beyond=0)
    _note(started, f"campaign sending: {done} done")

    cluster.kill(KILLED)
    _until(lambda: len(cluster.running_nodes(seen_by=RESTARTED)) == 2, "node 1 seen down")
    done = _done(api, campaign_id)
    _note(started, f"node {KILLED} killed -9: {done} done")
    # Sending goes on while a node is down (a tenth of the audience, some seconds of
    # sending, more than what was in flight): clients went to the other two.
    done = _wait_progress(api, campaign_id, beyond=done + SIZE // 10)
    _note(started, f"sending went on without node {KILLED}: {done} done")
    cluster.start(KILLED)
    assert cluster.running_nodes(seen_by=KILLED) == sorted(cluster.nodes)
    _note(started, f"node {KILLED} started again and back in the cluster")

    done = _wait_progress(api, campaign_id, beyond=done)
    _note(started, f"{done} done; restarting node {RESTARTED}")
    cluster.restart(RESTARTED)
    _note(started, f"node {RESTARTED} restarted: {read_riding_out(api, campaign_id)['stats']}")

    campaign = watch_until_completed(api, campaign_id, timeout=600, interval=1.0,
                                     read=read_riding_out)
    stats = campaign["stats"]
    _note(started, f"completed: {stats}")
    assert stats["sent"] + stats["failed"] == SIZE, stats
    assert_exactly_once(api, settings, campaign, audience)
    assert cluster.running_nodes() == sorted(cluster.nodes)
