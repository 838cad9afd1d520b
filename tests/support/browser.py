"""Driving the web UI in Debian's Chromium: its arguments, screenshots checked by
axe-core, and the development sign-in. The fixtures are in tests/ui/conftest.py."""
from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"

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


def campaign_form(page, segment: dict, audience_size: int) -> list[str]:
    """Sign `page` in as a marketer and open the new-campaign form on `segment`, once it
    shows `audience_size`; returns the list the page's uncaught errors collect into."""
    from playwright.sync_api import expect

    page_errors: list[str] = []
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    dev_sign_in(page, "marketer")
    page.goto(f"/campaigns/new?segment={segment['id']}")
    expect(page.locator("#campaign-audience")).to_have_text(str(audience_size))
    return page_errors
