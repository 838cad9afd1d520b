"""A three-node RabbitMQ cluster of a test's own, driven through scripts/cluster.sh
(the script `make cluster-up` runs), on free ports, its own node names and a
temporary directory, so neither the default broker nor a developer's
`make cluster-up` is touched. Stopped and deleted afterwards."""
from __future__ import annotations

import json
import os
import random
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from crm.stack import port_free

CLUSTER_SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "cluster.sh"
NODES = (1, 2, 3)


class Cluster:
    def __init__(self, env: dict[str, str], base_port: int):
        self.env = env
        self.ports = tuple(base_port + n - 1 for n in NODES)
        self.nodes = tuple(f"{env['CLUSTER_NODE_PREFIX']}-{n}@localhost" for n in NODES)

    def run(self, *args: str, timeout: float = 300) -> str:
        done = subprocess.run(["bash", str(CLUSTER_SCRIPT), *args], env=self.env,
                              timeout=timeout, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
        assert done.returncode == 0, f"cluster.sh {' '.join(args)}:\n{done.stdout}"
        return done.stdout

    @property
    def amqp_url(self) -> str:
        """AMQP_URL listing the three nodes."""
        return self.run("urls").strip()

    def kill(self, node: int) -> None:
        self.run("kill", str(node))

    def start(self, node: int) -> None:
        self.run("start", str(node))

    def restart(self, node: int) -> None:
        self.run("restart", str(node))

    def running_nodes(self, seen_by: int = 1) -> list[str]:
        status = json.loads(self.run("ctl", str(seen_by), "cluster_status", "--formatter", "json"))
        return sorted(status["running_nodes"])

    def queues(self, prefix: str) -> dict[str, dict]:
        """name -> {type, members} of the queues whose name starts with `prefix`."""
        listed = json.loads(self.run("ctl", "1", "list_queues", "name", "type", "members",
                                     "--formatter", "json"))
        return {queue["name"]: queue for queue in listed if queue["name"].startswith(prefix)}


def _free_base_port() -> int:
    # cluster.sh puts node n on base + n - 1 and its distribution port 20000 higher;
    # all stay below the ephemeral range (32768+), where outgoing connections take ports.
    for _ in range(50):
        base = random.randrange(10000, 12700)
        if all(port_free(base + i) and port_free(base + i + 20000) for i in range(len(NODES))):
            return base
    raise RuntimeError("no free ports for a private cluster")


@contextmanager
def running_cluster():
    """Yield a started Cluster whose three nodes all run; stop and delete it afterwards."""
    directory = tempfile.mkdtemp(prefix="crm-cluster-")
    base = _free_base_port()
    env = {**os.environ, "CLUSTER_PORT": str(base), "CLUSTER_DIR": directory,
           "CLUSTER_NODE_PREFIX": f"crm-rabbit-{base}"}
    cluster = Cluster(env, base)
    try:
        cluster.run("up")
        yield cluster
    finally:
        subprocess.run(["bash", str(CLUSTER_SCRIPT), "clean"], env=env, timeout=180,
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        shutil.rmtree(directory, ignore_errors=True)
