"""The servers `make reliability` may kill: a FerretDB and a RabbitMQ node of its own
(scripts/servers.sh on free ports, data in a temporary directory), each behind a
FaultProxy (tests/support/faultproxy.py) through which the suite reaches it, so a
connection can be cut or slowed. Killing the database or broker that every other
test and engineer on the machine shares would break them.
"""
from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from crm.stack import SERVERS_SCRIPT, port_free
from crm.supervisor import port_answers
from tests.support.faultproxy import FaultProxy

RABBITMQCTL = "/usr/lib/rabbitmq/bin/rabbitmqctl"


def _free_port(low: int, high: int, offset: int = 0) -> int:
    # servers.sh puts a node's distribution port at AMQP_PORT + 20000; both stay
    # below the ephemeral range, where outgoing connections take ports.
    for _ in range(100):
        port = random.randrange(low, high)
        if port_free(port) and (not offset or port_free(port + offset)):
            return port
    raise RuntimeError("no free port for a private server")


class PrivateServers:
    def __init__(self) -> None:
        self.var = Path(tempfile.mkdtemp(prefix="crm-reliability-"))
        self.mongo_port = _free_port(12700, 13500)
        self.amqp_port = _free_port(10000, 12600, offset=20000)
        self.node = f"crm-{self.amqp_port}@localhost"
        env = {k: v for k, v in os.environ.items() if k not in ("MONGO_URL", "AMQP_URL")}
        self.env = {**env, "CRM_VAR_DIR": str(self.var), "MONGO_PORT": str(self.mongo_port),
                    "AMQP_PORT": str(self.amqp_port)}
        self.database_proxy = FaultProxy("127.0.0.1", self.mongo_port)
        self.broker_proxy = FaultProxy("127.0.0.1", self.amqp_port)

    @property
    def urls(self) -> dict[str, str]:
        """Where the suite finds them: through the proxies."""
        return {"MONGO_URL": f"mongodb://127.0.0.1:{self.database_proxy.port}",
                "AMQP_URL": f"amqp://guest:guest@127.0.0.1:{self.broker_proxy.port}/%2F"}

    @property
    def direct_urls(self) -> dict[str, str]:
        """Where the reliability run itself reads them, around the proxies."""
        return {"MONGO_URL": f"mongodb://127.0.0.1:{self.mongo_port}",
                "AMQP_URL": f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/%2F"}

    def start(self) -> PrivateServers:
        self._servers("start")
        self.database_proxy.start()
        self.broker_proxy.start()
        return self

    def stop(self) -> None:
        self.database_proxy.stop()
        self.broker_proxy.stop()
        self._servers("stop")
        shutil.rmtree(self.var, ignore_errors=True)

    def _servers(self, *args: str) -> None:
        done = subprocess.run(["bash", str(SERVERS_SCRIPT), *args], env=self.env, timeout=240,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"servers.sh {' '.join(args)} failed:\n{done.stdout}")

    def _kill(self, pid_file: Path, port: int) -> int:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 30
        while port_answers(port) and time.monotonic() < deadline:
            time.sleep(0.1)
        return pid

    def kill_database(self) -> int:
        """kill -9 of FerretDB; returns its pid."""
        return self._kill(self.var / "servers" / "ferretdb.pid", self.mongo_port)

    def kill_broker(self) -> int:
        """kill -9 of the RabbitMQ node (its Erlang VM); returns its pid."""
        return self._kill(self.var / "rabbitmq" / "rabbit.pid", self.amqp_port)

    def restart(self) -> None:
        """Start again whatever was killed, on the same port and data (servers.sh
        starts only what does not answer)."""
        self._servers("start")

    def queue_depths(self) -> dict[str, int]:
        """Messages ready in every queue of the private broker."""
        done = subprocess.run([RABBITMQCTL, "-q", "-n", self.node, "list_queues", "name",
                               "messages", "--no-table-headers"], capture_output=True,
                              text=True, timeout=60, check=True)
        depths = {}
        for line in done.stdout.splitlines():
            name, _, count = line.rpartition("\t")
            if name:
                depths[name] = int(count)
        return depths
