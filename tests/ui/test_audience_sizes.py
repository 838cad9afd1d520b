"""Saved audiences' sizes over time in real Chromium: a sparkline per saved
audience from its history, and "Record size" adds today's size to it."""
from __future__ import annotations

import uuid

from playwright.sync_api import expect

from tests.support.browser import dev_sign_in, shot


def test_a_marketer_sees_and_records_an_audiences_size_over_time(new_page, ui_api):
    base = ui_api.base_url
    name = f"Sizes {uuid.uuid4().hex[:6]}"
    nobody = {"field": "city", "op": "eq", "value": f"Nowhere-{name}"}
    saved = ui_api.post(f"{base}/api/v1/segments", json={"name": name, "rules": nobody},
                        timeout=30)
    assert saved.status_code == 201, saved.text
    segment_id = saved.json()["id"]
    for _ in range(2):
        taken = ui_api.post(f"{base}/api/v1/segments/{segment_id}/history", timeout=30)
        assert taken.status_code == 201 and taken.json()["count"] == 0, taken.text

    page = new_page()
    dev_sign_in(page, "marketer")
    page.goto("/segments")
    row = page.locator(f'tr[data-segment-id="{segment_id}"]')
    line = row.get_by_role("img", name=f"Size of {name} over time: 0, 0")
    expect(line).to_be_visible()
    shot(page, "segments_sizes")
    row.get_by_role("button", name=f"Record the size of {name}").click()
    expect(page.locator("#segments-result")).to_have_text(f"Recorded the size of “{name}”: 0.")
    expect(row.get_by_role("img", name=f"Size of {name} over time: 0, 0, 0")).to_be_visible()
    history = ui_api.get(f"{base}/api/v1/segments/{segment_id}/history", timeout=30).json()
    assert [size["kind"] for size in history["items"]] == ["on_demand"] * 3
