"""The whole suite, started as `crm up` starts it, on its own ports and prefixes."""
from __future__ import annotations

import os
import random
import socket
import uuid

import pytest
import requests

from crm.stack import Output, Stack
from shared.config import SERVICE_PORTS, Settings



def _free_port_base() -> int:
    """A base port with the six ports above it free, so concurrent runs never collide."""
    for _ in range(50):
        base = random.randrange(20000, 60000, 10)
        if all(_free(base + offset) for offset in range(len(SERVICE_PORTS))):
            return base
    raise RuntimeError("no free block of ports for the e2e suite")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="session")
def suite():
    run = f"e2e{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "CRM_DB_PREFIX": run, "CRM_QUEUE_PREFIX": f"{run}.",
           "CRM_LOG_LEVEL": "WARNING"}
    base = _free_port_base()
    for offset, service in enumerate(SERVICE_PORTS):
        env[f"{service.upper()}_PORT"] = str(base + offset)
    stack = Stack(env, servers=False, output=Output())
    stack.start()
    try:
        stack.wait_ready(180)
        yield stack, Settings.from_env(env)
    finally:
        stack.stop()
        _drop_databases(Settings.from_env(env))


def _drop_databases(settings: Settings) -> None:
    from shared.mongo import connect

    client = connect(settings)
    for service in ("gateway", "ingest", "segments", "campaigns", "receipts", "vendor_sim"):
        client.drop_database(settings.database_name(service))
    client.close()


@pytest.fixture(scope="session")
def api(suite):
    """A requests session to the gateway, authorised with a fresh API key."""
    from gateway.api_keys import open_store

    stack, settings = suite
    store = open_store(settings)
    key = store.create("e2e")
    store.close()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    session.base_url = stack.gateway_url
    return session
