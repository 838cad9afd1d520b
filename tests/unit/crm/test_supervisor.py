"""The `crm up` supervisor with small stand-in processes (no servers needed)."""
from __future__ import annotations

import io
import os
import re
import socket
import sys
import time
from pathlib import Path

import pytest

from crm.processes import Process, process_table
from crm.stack import Stack
from crm.supervisor import Output, StackError

WORKER = "import time, shared.readiness as r; r.mark_ready(); time.sleep(300)"
WORKER_WITH_CHILD = (
    "import subprocess, time, shared.readiness as r\n"
    "child = subprocess.Popen(['sleep', '300'])\n"
    "print('grandchild', child.pid, flush=True)\n"
    "r.mark_ready(); time.sleep(300)\n"
)
HTTP_APP = (
    "import http.server, sys\n"
    "class Handler(http.server.BaseHTTPRequestHandler):\n"
    "    def do_GET(self):\n"
    "        self.send_response(200 if self.path == '/readyz' else 404); self.end_headers()\n"
    "    def log_message(self, *args): pass\n"
    "http.server.HTTPServer(('127.0.0.1', int(sys.argv[1])), Handler).serve_forever()\n"
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def python(code: str, *args: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code, *args)


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


def wait_for(condition, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def make_stack(tmp_path):
    stacks = []

    def make(processes: list[Process]) -> tuple[Stack, io.StringIO]:
        log = io.StringIO()
        env = {**os.environ, "CRM_VAR_DIR": str(tmp_path)}
        stack = Stack(env, servers=False, output=Output(log), processes=processes, grace=3)
        stacks.append(stack)
        return stack.start(), log

    yield make
    for stack in stacks:
        stack.stop()


def test_ready_once_http_and_file_readiness_both_answer(make_stack):
    port = free_port()
    stack, log = make_stack([
        Process("web", python(HTTP_APP, str(port)), ready_url=f"http://127.0.0.1:{port}/readyz"),
        Process("worker", python(WORKER)),
    ])
    stack.wait_ready(20)
    assert "web ready" in log.getvalue() and "worker ready" in log.getvalue()


def test_a_killed_process_is_restarted_and_ready_again(make_stack):
    stack, log = make_stack([Process("worker", python(WORKER))])
    stack.wait_ready(20)
    first = stack.supervisor.pid("worker")
    stack.kill("worker")
    assert wait_for(lambda: stack.supervisor.pid("worker") not in (None, first))
    stack.wait_ready(20)
    assert "worker exited with code -9" in log.getvalue()
    assert stack.supervisor.child("worker").restarts == 1


def test_stop_ends_every_process_and_what_they_started(make_stack):
    stack, log = make_stack([Process("worker", python(WORKER_WITH_CHILD))])
    stack.wait_ready(20)
    worker = stack.supervisor.pid("worker")
    grandchild = int(re.search(r"grandchild (\d+)", log.getvalue()).group(1))
    stack.stop()
    assert wait_for(lambda: gone(worker) and gone(grandchild))
    assert not stack.supervisor.run_dir.exists()


def test_output_lines_carry_the_process_name(make_stack):
    talker = python("print('hello'); import time; time.sleep(300)")
    _, log = make_stack([Process("talker", talker)])
    assert wait_for(lambda: "hello" in log.getvalue())
    assert re.search(r"^talker\s+\| hello$", log.getvalue(), re.MULTILINE)


def test_a_taken_port_is_refused_before_anything_starts(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        stack = Stack({**os.environ, "CRM_VAR_DIR": str(tmp_path)}, servers=False,
                      output=Output(io.StringIO()),
                      processes=[Process("web", python("pass"), f"http://127.0.0.1:{port}/readyz")])
        with pytest.raises(StackError, match=f"port {port}"):
            stack.start()
        assert stack.supervisor.pid("web") is None


def test_process_table_takes_ports_and_worker_counts_from_the_environment():
    table = {p.name: p for p in process_table({"GATEWAY_PORT": "9100", "GATEWAY_WORKERS": "5",
                                                "INGEST_THREADS": "7"})}
    gateway = table["gateway"].argv
    assert "127.0.0.1:9100" in gateway and gateway[gateway.index("--workers") + 1] == "5"
    ingest = table["ingest"].argv
    assert ingest[ingest.index("--threads") + 1] == "7"
    assert table["gateway"].ready_url == "http://127.0.0.1:9100/readyz"
    assert table["ingest-relay"].uses_ready_file
    assert table["ingest-relay"].argv[-1] == "ingest.relay"
    assert table["segments-projector"].argv[-1] == "segments.projection.consumer"

