"""The whole suite for e2e and UI tests, started as `crm up` starts it, on its own
free ports and prefixes, with its databases dropped afterwards."""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from contextlib import contextmanager

import requests
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from crm.stack import Stack, free_service_ports
from crm.supervisor import Output
from shared.config import Settings

SERVICES = ("gateway", "ingest", "segments", "campaigns", "receipts", "vendor_sim")


@contextmanager
def running_suite(label: str, extra_env: dict[str, str] | None = None, ready_timeout: float = 180):
    """Yield (stack, settings) of a fresh suite; stop it and drop its databases afterwards."""
    run = f"{label}{uuid.uuid4().hex[:6]}"
    snapshots = tempfile.mkdtemp(prefix=f"crm-{run}-")  # index snapshots die with the run
    env = {**os.environ, "CRM_DB_PREFIX": run, "CRM_QUEUE_PREFIX": f"{run}.",
           "CRM_LOG_LEVEL": "WARNING", "SEGMENTS_SNAPSHOT_DIR": snapshots,
           **free_service_ports(), **(extra_env or {})}
    settings = Settings.from_env(env)
    stack = Stack(env, servers=False, output=Output())
    stack.start()
    try:
        stack.wait_ready(ready_timeout)
        yield stack, settings
    finally:
        stack.stop()
        _drop_databases(settings)
        shutil.rmtree(snapshots, ignore_errors=True)


def api_session(stack: Stack, settings: Settings, key_name: str) -> requests.Session:
    """A requests session to the suite's gateway, authorised with a fresh API key."""
    from gateway.api_keys import open_store

    store = open_store(settings)
    # Tests drive the suite faster than the default 1,200 calls a minute; the limit itself
    # is tested on its own (tests/integration/gateway/test_gateway_rate_limit.py).
    key = store.create(key_name, rate_limit=100_000_000)
    store.close()
    session = requests.Session()
    # Reads are retried once on a dropped connection, as browsers do for idempotent
    # requests on a reused keep-alive connection; writes never are.
    session.mount("http://", HTTPAdapter(max_retries=Retry(
        total=2, connect=2, read=2, status=0, backoff_factor=0.2,
        allowed_methods=frozenset({"GET", "HEAD"}), raise_on_status=False)))
    session.headers["Authorization"] = f"Bearer {key}"
    session.base_url = stack.gateway_url
    return session


def _drop_databases(settings: Settings) -> None:
    from shared.mongo import connect

    client = connect(settings)
    for service in SERVICES:
        client.drop_database(settings.database_name(service))
    client.close()
