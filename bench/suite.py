"""Starting the whole suite for a benchmark, as `crm up` does, on its own prefixes."""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import uuid
from contextlib import contextmanager
from pathlib import Path

from crm.stack import Stack, free_service_ports
from crm.supervisor import Output
from shared.config import Settings

ROOT = Path(__file__).resolve().parent.parent


def progress(message: str) -> None:
    """Progress goes to stderr; stdout carries only the result lines."""
    print(f"bench: {message}", file=sys.stderr, flush=True)


@contextmanager
def running_suite(extra_env: dict[str, str] | None = None, ready_timeout: float = 180,
                  before_start=None):
    """Yield (settings, gateway_url) of a freshly started suite; stop it afterwards.

    `before_start(settings)` runs first (to put data in place). The suite's own
    output goes to var/bench/suite.log."""
    run_id = f"bench{uuid.uuid4().hex[:6]}"
    snapshots = tempfile.mkdtemp(prefix=f"crm-{run_id}-")  # index snapshots die with the run
    env = {**os.environ, "CRM_DB_PREFIX": run_id, "CRM_QUEUE_PREFIX": f"{run_id}.",
           "CRM_LOG_LEVEL": "WARNING", "SEGMENTS_SNAPSHOT_DIR": snapshots,
           # the run's queues vanish from a shared broker once unused (shared/config.py)
           "CRM_QUEUE_EXPIRES_MS": os.environ.get("CRM_QUEUE_EXPIRES_MS", "1800000"),
           **free_service_ports(), **(extra_env or {})}
    settings = Settings.from_env(env)
    log_path = ROOT / "var" / "bench" / "suite.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    stack = None
    try:
        if before_start is not None:
            before_start(settings)
        with open(log_path, "w") as log_file:
            stack = Stack(env, servers=False, output=Output(log_file))
            progress(f"starting the suite (prefix {run_id}, output in {log_path})")
            stack.start()
            stack.wait_ready(ready_timeout)
            yield settings, stack.gateway_url
    finally:
        if stack is not None:
            stack.stop()
        _drop_databases(settings)
        shutil.rmtree(snapshots, ignore_errors=True)


def _drop_databases(settings: Settings) -> None:
    from shared.mongo import connect

    client = connect(settings)
    services = ("gateway", "ingest", "segments", "campaigns", "receipts", "vendor_sim", "ceiling")
    for service in services:
        client.drop_database(settings.database_name(service))
    client.close()


def api_key(settings: Settings) -> str:
    """A fresh API key (all default scopes) for the bench's calls through the gateway."""
    from gateway.api_keys import open_store

    store = open_store(settings)
    try:
        # Far past any bench's pace, so the numbers include the rate limiter's cost (one
        # slot claim per 100 calls) but never a 429 (gateway/rate_limit.py).
        return store.create("bench", rate_limit=100_000_000)
    finally:
        store.close()


def api_session(settings: Settings):
    """A requests session authorised with a fresh API key."""
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {api_key(settings)}"
    return session
