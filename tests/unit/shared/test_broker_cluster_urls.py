"""A cluster's nodes in AMQP_URL, and quorum queues replicated on CRM_QUORUM_GROUP_SIZE
nodes (docs/cluster.md). The broker itself is exercised by tests/e2e/test_cluster_faults.py."""
from __future__ import annotations

import pytest

from shared.backbone import broker
from shared.config import Settings

NODES = ",".join(f"amqp://guest:guest@127.0.0.1:{port}/%2F" for port in (5681, 5682, 5683))


def test_amqp_url_lists_a_clusters_nodes_comma_separated():
    assert Settings.from_env({}).amqp_urls == ["amqp://guest:guest@127.0.0.1:5672/%2F"]
    spaced = Settings.from_env({"AMQP_URL": NODES.replace(",", ", ") + ","})
    assert [url.split(":")[-1] for url in spaced.amqp_urls] == ["5681/%2F", "5682/%2F",
                                                                  "5683/%2F"]


class Recorded(Exception):
    """Raised by the stand-in for pika.BlockingConnection, carrying what it was given."""


@pytest.fixture
def tried(monkeypatch):
    def connection(parameters):
        raise Recorded([p.port for p in parameters])

    monkeypatch.setattr(broker.pika, "BlockingConnection", connection)

    def ports(settings: Settings) -> list[int]:
        with pytest.raises(Recorded) as recorded:
            broker.connect(settings)
        return recorded.value.args[0]

    return ports


def test_each_connect_tries_every_node_starting_one_further_along(tried):
    settings = Settings.from_env({"AMQP_URL": NODES})
    attempts = [tried(settings) for _ in range(4)]
    assert all(sorted(ports) == [5681, 5682, 5683] for ports in attempts)
    starts = [ports[0] for ports in attempts]
    assert len(set(starts[:3])) == 3 and starts[3] == starts[0]
    assert attempts[0] in ([5681, 5682, 5683], [5682, 5683, 5681], [5683, 5681, 5682])


def test_a_single_url_is_the_only_one_tried(tried):
    assert tried(Settings.from_env({"AMQP_URL": "amqp://u:p@rabbit:5679/crm"})) == [5679]


class DeclaringChannel:
    def __init__(self):
        self.queues: dict[str, dict] = {}

    def exchange_declare(self, *_args, **_kwargs):
        pass

    def queue_bind(self, *_args, **_kwargs):
        pass

    def queue_declare(self, queue, durable, arguments):
        assert durable
        self.queues[queue] = arguments


def test_quorum_queues_name_their_replication_only_when_configured():
    plain, clustered = DeclaringChannel(), DeclaringChannel()
    broker.declare_queue(plain, Settings.from_env({}), "q", ["order.placed"])
    broker.declare_queue(clustered, Settings.from_env({"CRM_QUORUM_GROUP_SIZE": "3"}), "q",
                         ["order.placed"])
    # Left out by default: queues declared before the setting existed must still match.
    assert all("x-quorum-initial-group-size" not in args for args in plain.queues.values())
    assert {name: args["x-quorum-initial-group-size"]
            for name, args in clustered.queues.items()} == {"q": 3, "q.dead": 3}
    assert clustered.queues["q"] == {**plain.queues["q"], "x-quorum-initial-group-size": 3}
