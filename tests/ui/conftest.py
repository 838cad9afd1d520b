"""The whole suite with the development sign-in on, and a Chromium to drive it.

Chromium is Debian's (/usr/bin/chromium, INFRA.md); `playwright install` is
never needed. Screenshots of every page land in var/screenshots/.
"""
from __future__ import annotations

import os
import random
import socket
import uuid
from pathlib import Path

import pytest
import requests

from crm.stack import Output, Stack
from shared.config import SERVICE_PORTS, Settings

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def _free_port_base() -> int:
    for _ in range(50):
        base = random.randrange(20000, 60000, 10)
        if all(_free(base + offset) for offset in range(len(SERVICE_PORTS))):
            return base
    raise RuntimeError("no free block of ports for the UI suite")


def _free(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.fixture(scope="session")
def ui_suite():
    run = f"ui{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "CRM_DB_PREFIX": run, "CRM_QUEUE_PREFIX": f"{run}.",
           "CRM_LOG_LEVEL": "WARNING", "CRM_DEV_LOGIN": "1", "CRM_ENV": "development"}
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
def ui_api(ui_suite):
    """An API-key session to the same gateway, to seed customers."""
    from gateway.api_keys import open_store

    stack, settings = ui_suite
    store = open_store(settings)
    key = store.create("ui-tests")
    store.close()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    session.base_url = stack.gateway_url
    return session


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def new_page(browser, ui_suite):
    """Pages in fresh browser contexts (own cookies), laptop size unless told."""
    contexts = []

    def make(width: int = 1366, height: int = 900):
        context = browser.new_context(base_url=ui_suite[0].gateway_url,
                                      viewport={"width": width, "height": height})
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


def shot(page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def dev_sign_in(page, role: str) -> None:
    page.goto("/signin")
    page.get_by_label("Email").fill(f"{role}@example.com")
    page.get_by_label("Role").select_option(role)
    page.get_by_role("button", name="Sign in (development)").click()
    page.wait_for_url("**/")
