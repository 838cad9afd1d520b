"""The whole suite with the development sign-in on, and a Chromium to drive it.

Chromium is Debian's (/usr/bin/chromium, INFRA.md); `playwright install` is
never needed. Screenshots of every page land in var/screenshots/.
"""
from __future__ import annotations

import pytest

from tests.support.browser import CHROMIUM, CHROMIUM_ARGS
from tests.support.suite import api_session, running_suite


@pytest.fixture(scope="session")
def ui_suite():
    # Small vendor batches: a paced campaign is still sending when a test pauses it.
    with running_suite("ui", {"CRM_DEV_LOGIN": "1", "CRM_ENV": "development",
                              "CAMPAIGNS_SEND_BATCH_SIZE": "5"}) as started:
        yield started


@pytest.fixture(scope="session")
def ui_api(ui_suite):
    """An API-key session to the same gateway, to seed customers."""
    stack, settings = ui_suite
    return api_session(stack, settings, "ui-tests")


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
