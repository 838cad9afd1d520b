"""Holdout, variants and results in real Chromium: a marketer launches a campaign with
a 30% holdout and two variants from the form, orders arrive after launch, and the
Results tab shows each group's conversion with the lift over the holdout and a
cumulative conversion chart with one line per group."""
from __future__ import annotations

import re
import time
import uuid
from datetime import UTC, datetime

from playwright.sync_api import expect

from tests.support.browser import campaign_form, dev_sign_in, shot
from tests.support.campaigns import saved_audience

CUSTOMERS = 40


def _seed(ui_api, tag: str) -> dict:
    records = [{"external_id": f"res-{tag}-{i}", "name": f"Meera{i} Iyer",
                "email": f"res{tag}{i}@example.com", "city": f"Results{tag}"}
               for i in range(CUSTOMERS)]
    return saved_audience(ui_api, f"Results {tag}", records)


def _pages(ui_api, path: str) -> list[dict]:
    items, cursor = [], None
    while True:
        page = ui_api.get(f"{ui_api.base_url}{path}", params={"limit": 500,
                                                             **({"cursor": cursor} if cursor
                                                                else {})}, timeout=30)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        cursor = page.json()["next_cursor"]
        if cursor is None:
            return items


def test_a_marketer_launches_with_a_holdout_and_variants_and_reads_the_results(new_page,
                                                                                ui_api):
    tag = uuid.uuid4().hex[:6]
    segment = _seed(ui_api, tag)
    page = new_page()
    page_errors = campaign_form(page, segment, CUSTOMERS)
    page.get_by_label("Campaign name").fill(f"Results {tag}")
    page.get_by_label("Holdout: percent of the audience who get no message (0 to 50)").fill("30")
    page.get_by_role("button", name="Add a variant").click()
    page.locator("#variant-message-B").fill("Hello {name|friend}, 20% off today!")
    page.locator("#variant-weight-B").fill("60")
    page.get_by_role("button", name="Launch campaign").click()
    page.wait_for_timeout(500)
    assert page_errors == []
    expect(page.locator("#campaign-error")).to_contain_text("make them add up to 100")
    page.locator("#variant-weight-A").fill("40")
    shot(page, "campaign-form-variants")
    page.get_by_role("button", name="Launch campaign").click()
    page.wait_for_url(re.compile(r".*/campaigns/[0-9a-f]{32}$"))
    cid = page.url.rsplit("/", 1)[1]
    expect(page.locator("#campaign-status")).to_have_text("completed", timeout=60_000)
    expect(page.locator("#campaign-message")).to_contain_text("B (60%): Hello {name|friend}")

    held = [item["customer_external_id"]
            for item in _pages(ui_api, f"/api/v1/campaigns/{cid}/holdout")]
    messages = _pages(ui_api, f"/api/v1/campaigns/{cid}/messages")
    assert len(held) + len(messages) == CUSTOMERS and held
    buyers = {m["customer_external_id"]: m["variant"] for m in messages[:4]}
    placed = datetime.now(UTC).isoformat()
    orders = [{"external_id": f"res-{tag}-o{n}", "customer_external_id": customer,
               "amount": 1000 + n, "placed_at": placed} for n, customer in
              enumerate([*buyers, held[0]])]
    answer = ui_api.post(f"{ui_api.base_url}/api/v1/orders", json={"records": orders},
                         timeout=30)
    assert answer.status_code == 202 and answer.json()["accepted"] == len(orders), answer.text

    page.get_by_role("tab", name="Results").click()
    expect(page.get_by_role("tab", name="Results")).to_have_attribute("aria-selected", "true")
    converted = {"A": 0, "B": 0}
    for variant in buyers.values():
        converted[variant] += 1
    table = page.locator("#results-table tbody")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        page.get_by_role("button", name="Refresh").click()
        page.wait_for_timeout(700)
        holdout_row = table.locator("tr").nth(0)
        if holdout_row.locator("td").nth(1).text_content() == "1":
            break
    rows = table.locator("tr")
    expect(rows).to_have_count(3)
    expect(rows.nth(0).locator("th")).to_have_text("Holdout (no message)")
    expect(rows.nth(0).locator("td").nth(1)).to_have_text("1")
    expect(rows.nth(1).locator("th")).to_have_text("A")
    expect(rows.nth(1).locator("td").nth(1)).to_have_text(str(converted["A"]))
    expect(rows.nth(2).locator("td").nth(1)).to_have_text(str(converted["B"]))
    shown = ui_api.get(f"{ui_api.base_url}/api/v1/campaigns/{cid}/results", timeout=30).json()
    smallest = min(shown["holdout"]["customers"], shown["variants"][0]["customers"])
    # Under 10 customers in a group there is no interval, and the tab says so.
    expect(rows.nth(1).locator("td").nth(3)).to_contain_text(
        "95%:" if smallest >= 10 else "Not enough data")
    expect(page.locator("#results-chart-svg polyline")).to_have_count(3)
    expect(page.locator('#results-chart-svg polyline[data-group="holdout"]')).to_have_count(1)
    shot(page, "campaign-results")
    assert page_errors == []

    # The download buttons: CSVs through the gateway with the page's own session.
    results_csv = page.request.get(page.locator("#results-csv").get_attribute("href"))
    assert results_csv.status == 200 and results_csv.headers["content-type"].startswith("text/csv")
    assert [line.split(",")[0] for line in results_csv.text().splitlines()] == [
        "group", "holdout", "A", "B"]
    messages_csv = page.request.get(page.locator("#messages-csv").get_attribute("href"))
    assert messages_csv.status == 200
    assert len(messages_csv.text().splitlines()) == len(messages) + 1


def test_a_marketer_downloads_a_saved_audience_as_csv(new_page, ui_api):
    tag = uuid.uuid4().hex[:6]
    segment = _seed(ui_api, tag)
    page = new_page()
    dev_sign_in(page, "marketer")
    page.goto("/segments")
    link = page.get_by_role("link", name=f"Download the customers of Results {tag} (CSV)")
    expect(link).to_have_attribute("href", f"/api/v1/segments/{segment['id']}/members.csv")
    answer = page.request.get(link.get_attribute("href"))
    assert answer.status == 200 and answer.headers["content-type"].startswith("text/csv")
    lines = answer.text().splitlines()
    assert lines[0].startswith("external_id,name,email")
    assert sorted(line.split(",")[0] for line in lines[1:]) == sorted(
        f"res-{tag}-{i}" for i in range(CUSTOMERS))
