"""The supervisor of `crm up`: each process of the table runs in its own process
group, its output is prefixed with its name, a process that dies is restarted
with backoff, and a stop sends SIGTERM then SIGKILL after a grace period."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import IO
from urllib.parse import urlparse

from crm.processes import Process
from shared.gunicorn_conf import MULTIPROC_DIR_ENV
from shared.readiness import READY_FILE_ENV

ROOT = Path(__file__).resolve().parent.parent  # the checkout: where every process runs

FIRST_BACKOFF = 0.5
MAX_BACKOFF = 30.0
# A process that ran this long before dying starts again from FIRST_BACKOFF.
STABLE_SECONDS = 30.0
POLL_SECONDS = 0.25


class StackError(RuntimeError):
    """The suite cannot start (a port taken, a server that did not come up)."""


def port_answers(port: int, host: str = "127.0.0.1") -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


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
