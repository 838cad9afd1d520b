"""An admin manages API keys in real Chromium: the new key is shown once and
works, a revoked key is refused, and a marketer cannot reach the page."""
from __future__ import annotations

import re
import time

import requests
from playwright.sync_api import expect

from tests.support.browser import dev_sign_in, shot


def _customers_call(gateway: str, key: str) -> int:
    answer = requests.post(f"{gateway}/api/v1/customers", timeout=30,
                           headers={"Authorization": f"Bearer {key}"},
                           json={"external_id": "key-test-1", "name": "Key Test",
                                 "email": "key-test@example.com", "city": "Keyville"})
    return answer.status_code


def test_an_admin_creates_a_key_that_works_and_revokes_it(new_page, ui_suite):
    gateway = ui_suite[0].gateway_url
    page = new_page()
    dev_sign_in(page, "admin")
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("Shop checkout")
    page.get_by_label("campaigns:write").uncheck()
    page.get_by_role("button", name="Create key").click()
    expect(page.get_by_text("it is shown only this once")).to_be_visible()
    key = page.get_by_label("Key", exact=True).input_value()
    assert len(key) > 20
    row = page.locator("tr", has_text="Shop checkout")
    expect(row).to_contain_text("active")
    expect(row).not_to_contain_text("campaigns:write")
    assert key not in page.locator("table").inner_text()  # listed by id, never by key
    shot(page, "api_keys_created")

    assert _customers_call(gateway, key) == 202
    page.reload()  # a reload re-posts nothing and shows the key no more
    expect(page.get_by_label("Key", exact=True)).to_have_count(0)

    page.get_by_role("button", name="Revoke the key Shop checkout").click()
    expect(page.get_by_text("The key is revoked")).to_be_visible()
    expect(page.locator("tr", has_text="Shop checkout")).to_contain_text("revoked")
    shot(page, "api_keys_revoked")
    # Another gateway worker may still trust its cached check for a few seconds (5 s).
    deadline, status = time.monotonic() + 45, None
    while time.monotonic() < deadline:
        status = _customers_call(gateway, key)
        if status == 401:
            break
        time.sleep(1)
    assert status == 401, f"the revoked key still answered {status}"


def test_a_marketer_cannot_manage_keys(new_page):
    page = new_page()
    dev_sign_in(page, "marketer")
    expect(page.get_by_role("link", name="API keys")).to_have_count(0)
    response = page.goto("/admin/api-keys")
    assert response.status == 403
    expect(page.get_by_text("Only administrators can manage API keys.")).to_be_visible()
    expect(page.get_by_role("button", name="Create key")).to_have_count(0)
    shot(page, "api_keys_marketer")
    assert re.search(r"/admin/api-keys$", page.url)
