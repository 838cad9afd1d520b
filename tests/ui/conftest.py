"""The whole suite with the development sign-in on, and a Chromium to drive it.

Chromium is Debian's (/usr/bin/chromium, INFRA.md); `playwright install` is
never needed. Screenshots of every page land in var/screenshots/.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.suite import api_session, running_suite

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


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


# axe-core's WCAG 2.1 A and AA rules: labels, contrast, landmarks, names of controls.
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
               "resultTypes": ["violations"]}


def shot(page, name: str) -> None:
    """Screenshot the page into var/screenshots/ and check it with axe-core:
    every page a test looks at must pass WCAG 2.1 A/AA as axe judges it."""
    from axe_playwright_python.sync_playwright import Axe

    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{name}: {results.generate_report()}"


def dev_sign_in(page, role: str) -> None:
    page.goto("/signin")
    page.get_by_label("Email").fill(f"{role}@example.com")
    page.get_by_label("Role").select_option(role)
    page.get_by_role("button", name="Sign in (development)").click()
    page.wait_for_url("**/")
