"""The whole suite, started as `crm up` starts it, on its own ports and prefixes."""
from __future__ import annotations

import os
import uuid

import pytest
import requests

from crm.stack import Output, Stack, free_service_ports
from shared.config import Settings


@pytest.fixture(scope="session")
def suite():
    run = f"e2e{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "CRM_DB_PREFIX": run, "CRM_QUEUE_PREFIX": f"{run}.",
           "CRM_LOG_LEVEL": "WARNING"}
    env.update(free_service_ports())
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
