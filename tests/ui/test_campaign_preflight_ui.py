"""Check audience on the new-campaign form in real Chromium: before Launch, a marketer
sees the waterfall (matched, minus unsubscribed, suppressed, capped, held out, = will be
sent) and the lint, and nothing is saved until Launch."""
from __future__ import annotations

import re
import time
import uuid

from playwright.sync_api import expect

from tests.support.browser import campaign_form, shot

CUSTOMERS = 5


def _seed(ui_api, tag: str) -> dict:
    city = f"Checkcity{tag}"
    records = [{"external_id": f"chk-{tag}-{i}", "name": f"Meera{i} Rao",
                "email": f"chk{tag}{i}@example.com", "city": city,
                **({"visits": i} if i % 2 else {})} for i in range(CUSTOMERS)]
    answer = ui_api.post(f"{ui_api.base_url}/api/v1/customers", json={"records": records},
                         timeout=60)
    assert answer.status_code == 202, answer.text
    rules = {"field": "city", "op": "eq", "value": city}
    unsubscribed = ui_api.post(f"{ui_api.base_url}/api/v1/customers/chk-{tag}-0/unsubscribe",
                               timeout=30)
    assert unsubscribed.status_code == 200, unsubscribed.text
    gone = {"all": [rules, {"field": "marketing_consent", "op": "eq", "value": "unsubscribed"}]}
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        counts = [ui_api.post(f"{ui_api.base_url}/api/v1/segments/preview", json={"rules": r},
                              timeout=30).json()["count"] for r in (rules, gone)]
        if counts == [CUSTOMERS, 1]:
            break
        time.sleep(0.5)
    saved = ui_api.post(f"{ui_api.base_url}/api/v1/segments",
                        json={"name": f"Check {tag}", "rules": rules}, timeout=30)
    assert saved.status_code == 201, saved.text
    return saved.json()


def test_check_audience_shows_the_waterfall_and_the_lint_before_launch(new_page, ui_api):
    tag = uuid.uuid4().hex[:6]
    segment = _seed(ui_api, tag)
    page = new_page()
    page_errors = campaign_form(page, segment, CUSTOMERS)
    page.get_by_label("Campaign name").fill(f"Checked {tag}")
    page.locator("#campaign-message").fill("Hi {first_name|there}, {visits} visits so far.")
    before = ui_api.get(f"{ui_api.base_url}/api/v1/campaigns?limit=100", timeout=30).json()

    page.get_by_role("button", name="Check audience").click()
    table = page.locator("#preflight-table")
    expect(table).to_be_visible()
    expect(table.locator("tr").first).to_contain_text("5")
    expect(table.locator("tr.excluded-unsubscribed")).to_contain_text("1")
    expect(table.locator("tr.excluded-suppressed")).to_contain_text("0")
    expect(table.locator("tr.total")).to_contain_text("Will be sent")
    expect(table.locator("tr.total")).to_contain_text("4")
    # chk-2 and chk-4 have no visits: {visits} prints nothing for them.
    expect(page.locator("#preflight-lint")).to_contain_text("2 placeholders would print nothing")
    shot(page, "campaign-check-audience")
    after = ui_api.get(f"{ui_api.base_url}/api/v1/campaigns?limit=100", timeout=30).json()
    assert [c["id"] for c in after["items"]] == [c["id"] for c in before["items"]]

    # Saved, the campaign keeps the check's assignment key: its holdout is the one shown.
    checked_key = page.evaluate("document.getElementById('campaign-form').dataset.assignmentKey")
    page.get_by_role("button", name="Save draft").click()
    page.wait_for_url(re.compile(r".*/campaigns/[0-9a-f]{32}$"))
    cid = page.url.rsplit("/", 1)[1]
    saved = ui_api.get(f"{ui_api.base_url}/api/v1/campaigns/{cid}/preflight", timeout=60).json()
    assert len(checked_key) == 32 and saved["assignment_key"] == checked_key
    assert page_errors == []
