"""`crm up`: the servers plus every process of crm/processes.py, kept running.

The servers come from scripts/servers.sh, the processes from the supervisor
(crm/supervisor.py). Tests and benchmarks use it directly:

    with Stack(env, servers=False) as stack:
        stack.wait_ready(120)
        stack.kill("segments-projector")   # like `kill -9`, it comes back
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Self

import click

from crm.processes import Process, gateway_url, process_table
from crm.supervisor import ROOT, Output, StackError, Supervisor

SERVERS_SCRIPT = ROOT / "scripts" / "servers.sh"
def free_service_ports(attempts: int = 50) -> dict[str, str]:
    """`<SERVICE>_PORT` and `<WORKER>_METRICS_PORT` settings for a block of free ports,
    so a test or benchmark suite never collides with a developer's `crm up` or with
    another run.

    The block lies below the kernel's ephemeral range: a port in that range can be
    taken at any moment as the local end of an outgoing connection (the suite's own
    database and broker clients make hundreds), and the service then cannot bind it."""
    import random

    from crm.processes import WORKERS
    from shared.config import SERVICE_PORTS

    names = [f"{s.upper()}_PORT" for s in SERVICE_PORTS]
    names += [f"{w.upper().replace('-', '_')}_METRICS_PORT" for w in WORKERS]
    lowest_ephemeral = _ephemeral_ports()[0]
    top = max(lowest_ephemeral - len(names), 10020)
    for _ in range(attempts):
        base = random.randrange(10000, top, 20)
        ports = {name: str(base + i) for i, name in enumerate(names)}
        if all(port_free(int(port)) for port in ports.values()):
            return ports
    raise StackError("no free block of ports for the suite")


def _ephemeral_ports() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


def port_free(port: int) -> bool:
    """Whether this process could listen on 127.0.0.1:`port` now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def with_server_urls(env: Mapping[str, str]) -> dict[str, str]:
    """The URLs of the local servers, unless MONGO_URL / AMQP_URL say otherwise."""
    env = dict(env)
    env.setdefault("MONGO_URL", f"mongodb://127.0.0.1:{env.get('MONGO_PORT', '27017')}")
    env.setdefault("AMQP_URL", f"amqp://guest:guest@127.0.0.1:{env.get('AMQP_PORT', '5672')}/%2F")
    return env


def var_dir(env: Mapping[str, str]) -> Path:
    return Path(env.get("CRM_VAR_DIR") or ROOT / "var")


class Stack:
    """Servers (unless told not to) plus a Supervisor of the whole process table."""

    def __init__(self, env: Mapping[str, str] | None = None, servers: bool = True,
                 output: Output | None = None, processes: list[Process] | None = None,
                 grace: float = 15.0):
        self.env = dict(os.environ if env is None else env)
        self.servers = servers
        self.output = output or Output()
        self.started_servers: list[str] = []
        run_dir = var_dir(self.env) / "run" / f"up-{os.getpid()}-{id(self):x}"
        self.supervisor = Supervisor(processes or process_table(self.env),
                                     with_server_urls(self.env), self.output, run_dir, grace)

    @property
    def gateway_url(self) -> str:
        return gateway_url(self.env)

    def start(self) -> Self:
        if self.servers:
            self._start_servers()
        self.supervisor.start()
        return self

    def wait_ready(self, timeout: float) -> None:
        if not self.supervisor.wait_ready(timeout):
            raise StackError(f"not ready after {timeout:.0f}s: "
                             f"{', '.join(self.supervisor.not_ready())}")

    def kill(self, name: str, signum: int = signal.SIGKILL) -> None:
        self.supervisor.kill(name, signum)

    def stop(self) -> None:
        self.supervisor.stop()
        if self.started_servers:
            self._servers_command("stop", *self.started_servers)
            self.started_servers = []

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def _start_servers(self) -> None:
        if not SERVERS_SCRIPT.exists():
            raise StackError(f"{SERVERS_SCRIPT} not found: start the servers yourself "
                             "and use --no-servers")
        with tempfile.NamedTemporaryFile("r", prefix="crm-servers-") as owner:
            try:
                self._servers_command("start", "--owner-file", owner.name)
            finally:  # even a failed start may have started one of the two
                self.started_servers = owner.read().split()

    def _servers_command(self, *args: str) -> None:
        result = subprocess.run(["bash", str(SERVERS_SCRIPT), *args], env=self.env, check=False,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        for text in result.stdout.splitlines():
            self.output.line("servers", text.removeprefix("servers: "))
        if result.returncode != 0:
            raise StackError(f"scripts/servers.sh {args[0]} failed (exit {result.returncode})")


def metrics_notice(stack: Stack) -> str:
    """Where each process serves its Prometheus metrics (deploy/README.md reads them)."""
    lines = ["Metrics (Prometheus text; deploy/prometheus.yml scrapes them):"]
    lines += [f"  {child.name:<20} {child.process.metrics_url}"
              for child in stack.supervisor.children if child.process.metrics_url]
    return "\n".join(lines)


def _announce_when_ready(stack: Stack, stop: threading.Event, patience: float) -> None:
    waited = 0.0
    while not stop.is_set():
        if stack.supervisor.wait_ready(1.0):
            stack.output.raw(f"CRM suite ready: {stack.gateway_url}")
            stack.output.raw(metrics_notice(stack))
            return
        waited += 1.0
        if waited >= patience:
            waited = 0.0
            stack.output.line("crm", "still waiting for: "
                                     + ", ".join(stack.supervisor.not_ready()))


@click.command("up")
@click.option("--no-servers", is_flag=True,
              help="Do not start FerretDB/RabbitMQ (use MONGO_URL / AMQP_URL or running ones).")
@click.option("--ready-timeout", type=float, default=120.0, show_default=True,
              help="Seconds before naming the processes that are still not ready.")
def up(no_servers: bool, ready_timeout: float) -> None:
    """Start the whole suite and keep it running until Ctrl-C or SIGTERM."""
    stop = threading.Event()
    stack = Stack(servers=not no_servers)

    def _on_signal(signum, frame):
        if stop.is_set():
            stack.supervisor.hurry.set()
        stop.set()

    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)
    try:
        stack.start()
        _announce_when_ready(stack, stop, ready_timeout)
        while not stop.wait(0.5):
            pass
        stack.output.line("crm", "stopping the suite")
    except StackError as error:
        raise click.ClickException(str(error)) from error
    finally:
        stack.stop()
