"""Saved audiences in real Chromium: listed newest first with their rules in
words and their size, renamed, deleted; a viewer sees them but cannot change them."""
from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.support.browser import dev_sign_in, shot


def _save(ui_api, name: str, rules: dict) -> dict:
    answer = ui_api.post(f"{ui_api.base_url}/api/v1/segments", json={"name": name, "rules": rules},
                         timeout=30)
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_a_marketer_renames_and_deletes_a_saved_audience(new_page, ui_api):
    tag = uuid.uuid4().hex[:6]
    older = _save(ui_api, f"Quiet {tag}",
                  {"field": "last_active_at", "op": "older_than", "value": "3mo"})
    newer = _save(ui_api, f"Big spenders {tag}", {"all": [
        {"field": "total_spend", "op": "gt", "value": 10000},
        {"any": [{"field": "visits", "op": "lte", "value": 3},
                 {"field": "tags", "op": "eq", "value": "vip"}]}]})
    page = new_page()
    dev_sign_in(page, "marketer")
    page.get_by_role("link", name="Audiences").click()
    rows = page.locator("table.segments tbody tr")
    expect(rows.nth(0)).to_contain_text(f"Big spenders {tag}")  # newest first
    expect(rows.nth(0)).to_contain_text(
        "Total spend (INR) is more than 10000 and (Visits is at most 3 or Tags is vip)")
    expect(rows.nth(1)).to_contain_text(f"Quiet {tag}")
    expect(rows.nth(1)).to_contain_text("Last active more than 3mo ago")
    newer_row = page.locator(f'tr[data-segment-id="{newer["id"]}"]')
    expect(newer_row.locator("td").nth(3)).to_have_text(str(newer["count"]))
    shot(page, "segments")

    newer_row.get_by_role("button", name=f"Rename Big spenders {tag}").click()
    page.get_by_label(f"New name for Big spenders {tag}").fill(f"Top buyers {tag}")
    page.get_by_role("button", name="Save name").click()
    expect(page.locator("#segments-result")).to_have_text(f"Renamed to “Top buyers {tag}”.")
    page.reload()
    expect(page.locator(f'tr[data-segment-id="{newer["id"]}"]')).to_contain_text(
        f"Top buyers {tag}")

    page.get_by_role("link", name=f"Open Top buyers {tag} in the builder").click()
    expect(page.locator("#rule-tree fieldset fieldset")).to_have_count(1)  # the nested any-group
    expect(page.locator("#audience-count")).to_have_text(str(newer["count"]))
    expect(page.get_by_label("Audience name")).to_have_value(f"Top buyers {tag} (copy)")
    page.go_back()

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name=f"Delete Quiet {tag}").click()
    expect(page.locator("#segments-result")).to_have_text(f"Deleted “Quiet {tag}”.")
    expect(page.locator(f'tr[data-segment-id="{older["id"]}"]')).to_have_count(0)
    gone = ui_api.get(f"{ui_api.base_url}/api/v1/segments/{older['id']}", timeout=30)
    assert gone.status_code == 404


def test_a_viewer_sees_saved_audiences_but_cannot_change_them(new_page, ui_api):
    saved = _save(ui_api, f"Viewer check {uuid.uuid4().hex[:6]}",
                  {"field": "city", "op": "eq", "value": "Nowhere"})
    page = new_page()
    dev_sign_in(page, "viewer")
    page.goto("/segments")
    row = page.locator(f'tr[data-segment-id="{saved["id"]}"]')
    expect(row).to_contain_text("City is Nowhere")
    expect(row.get_by_role("button")).to_have_count(0)
    expect(row.get_by_role("link")).to_have_count(0)
