"""`crm up`: the servers plus every process of crm/processes.py, kept running.

A small supervisor of our own: each process runs in its own process group,
its output is prefixed with its name, a process that dies is restarted with
backoff, and a stop sends SIGTERM then SIGKILL after a grace period. Tests
and benchmarks use it directly:

    with Stack(env, servers=False) as stack:
        stack.wait_ready(120)
        stack.kill("segments-projector")   # like `kill -9`, it comes back
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Self
from urllib.parse import urlparse

import click

from crm.processes import Process, gateway_url, process_table
from shared.gunicorn_conf import MULTIPROC_DIR_ENV
from shared.readiness import READY_FILE_ENV

ROOT = Path(__file__).resolve().parent.parent
SERVERS_SCRIPT = ROOT / "scripts" / "servers.sh"
FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
# A process that ran this long before dying starts again from FIRST_BACKOFF.
STABLE_SECONDS = 30.0
POLL_SECONDS = 0.25


class StackError(RuntimeError):
    """The suite cannot start (a port taken, a server that did not come up)."""


class Output:
    """Interleaves the lines of every process, each prefixed with its name."""

    def __init__(self, stream: IO[str] | None = None, width: int = 18):
        self.stream = stream or sys.stdout
        self.width = width
        self._lock = threading.Lock()

    def line(self, name: str, text: str) -> None:
        self.raw(f"{name:<{self.width}} | {text}")

    def raw(self, text: str) -> None:
        with self._lock:
            try:
                self.stream.write(text + "\n")
                self.stream.flush()
            except (OSError, ValueError):
                # Output closed (`crm up | head`): drop the line but keep draining
                # the pipes, or the processes would block on a full one.
                pass


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def http_ready(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


class Child:
    """One entry of the process table and the OS process currently running it."""

    def __init__(self, process: Process, run_dir: Path):
        self.process = process
        self.name = process.name
        self.ready_file = run_dir / f"{process.name}.ready" if process.uses_ready_file else None
        self.popen: subprocess.Popen | None = None
        self.ready = False
        self.restarts = 0
        self.backoff = FIRST_BACKOFF
        self.next_start = 0.0
        self.started_at = 0.0

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def check_ready(self) -> bool:
        if self.ready_file is not None:
            return self.ready_file.exists()
        return http_ready(self.process.ready_url)

    def signal_group(self, signum: int) -> None:
        # The group, not just the leader: gunicorn's workers die with their master.
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signum)
        except (ProcessLookupError, PermissionError):
            pass


class Supervisor:
    def __init__(self, processes: list[Process], env: Mapping[str, str], output: Output,
                 run_dir: Path, grace: float = 15.0):
        self.env = dict(env)
        self.output = output
        self.run_dir = run_dir
        self.grace = grace
        self.children = [Child(process, run_dir) for process in processes]
        self.all_ready = threading.Event()
        self.hurry = threading.Event()  # a second Ctrl-C: skip the grace period
        self._stopping = threading.Event()
        self._monitor_thread: threading.Thread | None = None

    def start(self) -> None:
        self._refuse_taken_ports()
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for child in self.children:
            self._spawn(child)
        self._monitor_thread = threading.Thread(target=self._monitor, name="crm-supervisor",
                                                daemon=True)
        self._monitor_thread.start()

    def _refuse_taken_ports(self) -> None:
        # Another suite answering on our port would make us report its readiness as ours.
        for child in self.children:
            url = child.process.ready_url
            if url and port_answers(urlparse(url).port):
                raise StackError(
                    f"port {urlparse(url).port} for {child.name} is already in use "
                    f"(another `crm up`?); set {child.name.upper()}_PORT to use another")

    def _spawn(self, child: Child) -> None:
        env = {**self.env, **child.process.env, "PYTHONUNBUFFERED": "1",
               "CRM_PROCESS": child.name}
        env.pop(READY_FILE_ENV, None)
        if not child.process.uses_ready_file:
            # One metrics directory per gunicorn process group (shared/gunicorn_conf.py).
            env[MULTIPROC_DIR_ENV] = str(self.run_dir / "metrics" / child.name)
        if child.ready_file is not None:
            child.ready_file.unlink(missing_ok=True)
            env[READY_FILE_ENV] = str(child.ready_file)
        child.popen = subprocess.Popen(
            child.process.argv, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, start_new_session=True, cwd=ROOT)
        child.ready = False
        child.started_at = time.monotonic()
        threading.Thread(target=self._pump, args=(child.name, child.popen.stdout),
                         name=f"output-{child.name}", daemon=True).start()

    def _pump(self, name: str, stream: IO[bytes]) -> None:
        with stream:
            for raw in stream:
                self.output.line(name, raw.decode("utf-8", "replace").rstrip())

    def _monitor(self) -> None:
        while not self._stopping.wait(POLL_SECONDS):
            now = time.monotonic()
            for child in self.children:
                self._tend(child, now)
            if all(child.ready for child in self.children):
                if not self.all_ready.is_set():
                    self.all_ready.set()
            else:
                self.all_ready.clear()

    def _tend(self, child: Child, now: float) -> None:
        if child.popen is None:
            if now >= child.next_start and not self._stopping.is_set():
                child.restarts += 1
                self.output.line("crm", f"restarting {child.name} (restart #{child.restarts})")
                self._spawn(child)
            return
        code = child.popen.poll()
        if code is None:
            if not child.ready and child.check_ready():
                child.ready = True
                self.output.line("crm", f"{child.name} ready")
            return
        self._reap(child, code, now)

    def _reap(self, child: Child, code: int, now: float) -> None:
        child.signal_group(signal.SIGKILL)  # orphans of a killed leader
        if now - child.started_at >= STABLE_SECONDS:
            child.backoff = FIRST_BACKOFF
        self.output.line("crm", f"{child.name} exited with code {code}; "
                                f"restarting in {child.backoff:.1f}s")
        child.popen = None
        child.ready = False
        if child.ready_file is not None:
            child.ready_file.unlink(missing_ok=True)
        child.next_start = now + child.backoff
        child.backoff = min(child.backoff * 2, MAX_BACKOFF)

    def not_ready(self) -> list[str]:
        return [child.name for child in self.children if not child.ready]

    def wait_ready(self, timeout: float) -> bool:
        return self.all_ready.wait(timeout)

    def child(self, name: str) -> Child:
        for child in self.children:
            if child.name == name:
                return child
        raise KeyError(name)

    def pid(self, name: str) -> int | None:
        popen = self.child(name).popen
        return popen.pid if popen is not None and popen.poll() is None else None

    def kill(self, name: str, signum: int = signal.SIGKILL) -> None:
        pid = self.pid(name)
        if pid is not None:
            os.kill(pid, signum)

    def stop(self) -> None:
        self._stopping.set()
        if self._monitor_thread is not None:
            self._monitor_thread.join()
        running = [child for child in self.children if child.running]
        for child in running:
            child.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + self.grace
        while any(child.running for child in running) and time.monotonic() < deadline:
            if self.hurry.wait(0.1):
                break
        for child in self.children:
            if child.running:
                self.output.line("crm", f"{child.name} did not stop in time; killing it")
            child.signal_group(signal.SIGKILL)  # also any worker its master left behind
            if child.popen is not None:
                child.popen.wait()
        self.all_ready.clear()
        shutil.rmtree(self.run_dir, ignore_errors=True)


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
