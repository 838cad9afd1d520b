"""Starting the whole suite for a benchmark, as `crm up` does, on its own prefixes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

import requests

from shared.config import Settings

ROOT = Path(__file__).resolve().parent.parent


@contextmanager
def running_suite(extra_env: dict[str, str] | None = None, ready_timeout: float = 180):
    """Yield (settings, gateway_url) of a freshly started suite; stop it afterwards."""
    run_id = f"bench{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "CRM_DB_PREFIX": run_id, "CRM_QUEUE_PREFIX": f"{run_id}.",
           "CRM_LOG_LEVEL": "WARNING", **(extra_env or {})}
    settings = Settings.from_env(env)
    gateway = settings.service_urls["gateway"]
    crm = str(ROOT / ".venv" / "bin" / "crm")
    process = subprocess.Popen([crm, "up", "--no-servers"], env=env, cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    try:
        _wait_ready(gateway, process, ready_timeout)
        yield settings, gateway
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
        _drop_databases(settings)


def _wait_ready(gateway: str, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"the suite exited with {process.returncode} before it was ready")
        try:
            if requests.get(f"{gateway}/readyz", timeout=2).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    sys.exit("the suite did not become ready in time")


def _drop_databases(settings: Settings) -> None:
    from shared.mongo import connect

    client = connect(settings)
    for name in client.list_database_names():
        if name.startswith(f"{settings.db_prefix}_"):
            client.drop_database(name)
    client.close()
