"""Order windows in the audience builder, in real Chromium: "spent over 5,000 in
the last 90 days" described in words fills a spend condition with its window,
counted live like the API counts the same rule; the window control edits it
("ever", "in the last N days|weeks|months|years"), and a saved audience opened
in the builder brings its window back."""
from __future__ import annotations

import json
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from tests.support.browser import dev_sign_in, shot
from tests.support.campaigns import post_customers, wait_audience

CITY = "Windowpur"  # only this module's customers live here
# Each customer's orders as (amount, days ago). Spend over 5,000 in the last 30 days:
# w0; 90 days: w0, w2, w5; 120 days (4 months): w0, w2, w3, w5; ever: all but w4.
ORDERS = {"w0": [(6_000, 10)], "w1": [(20_000, 200), (1_000, 5)],
          "w2": [(3_000, 20), (2_500, 60)], "w3": [(4_000, 100), (2_000, 35)],
          "w4": [], "w5": [(5_500, 80)]}
OVER_5K_IN = {None: 5, "30d": 1, "90d": 3, "4mo": 4}


def in_city_over_5k(in_last: str | None) -> dict:
    spend = {"field": "total_spend", "op": "gt", "value": 5000}
    return {"all": [{"field": "city", "op": "eq", "value": CITY},
                    spend if in_last is None else {**spend, "in_last": in_last}]}


@pytest.fixture(scope="module")
def shoppers(ui_api):
    post_customers(ui_api, [{"external_id": f"window-{name}", "name": f"Anil {name} Rao",
                             "email": f"window-{name}@example.com", "city": CITY}
                            for name in ORDERS])
    wait_audience(ui_api, {"field": "city", "op": "eq", "value": CITY}, len(ORDERS),
                  timeout=60, interval=0.5)
    now = datetime.now(UTC)
    orders = [{"external_id": f"window-{name}-o{i}", "customer_external_id": f"window-{name}",
               "amount": amount,
               "placed_at": (now - timedelta(days=days)).isoformat().replace("+00:00", "Z")}
              for name, placed in ORDERS.items() for i, (amount, days) in enumerate(placed)]
    answer = ui_api.post(f"{ui_api.base_url}/api/v1/orders", json={"records": orders},
                         timeout=60)
    assert answer.status_code == 202, answer.text
    for in_last, size in OVER_5K_IN.items():  # every order reached the index
        wait_audience(ui_api, in_city_over_5k(in_last), size, timeout=60, interval=0.5)


def _previews(page) -> list[dict]:
    """The rules of every preview the page asks for, in order."""
    asked = []
    page.on("request", lambda request: asked.append(json.loads(request.post_data)["rules"])
            if request.method == "POST" and request.url.endswith("/api/v1/segments/preview")
            else None)
    return asked


def _api_count(ui_api, rules: dict) -> int:
    answer = ui_api.post(f"{ui_api.base_url}/api/v1/segments/preview", json={"rules": rules},
                         timeout=30)
    assert answer.status_code == 200, answer.text
    return answer.json()["count"]


def _expect_counted(page, asked: list, ui_api, in_last: str | None) -> None:
    """The page shows the count of `in_last`'s rule, the last it asked the API to
    count, and the API counts that same rule the same."""
    size = OVER_5K_IN[in_last]
    expect(page.locator("#audience-count")).to_have_text(str(size))
    expect(page.locator("#audience-note")).to_contain_text("out of")
    assert asked[-1] == in_city_over_5k(in_last)
    assert _api_count(ui_api, asked[-1]) == size


def test_a_described_order_window_fills_the_tree_and_is_counted_as_the_api_counts(
        new_page, shoppers, ui_api):
    page = new_page()
    asked = _previews(page)
    dev_sign_in(page, "marketer")
    page.goto("/segments/new")
    page.get_by_label("Describe it in words").fill(
        f"from {CITY} who spent over 5,000 in the last 90 days")
    page.get_by_role("button", name="Fill the rules").click()
    expect(page.locator("#describe-result")).to_have_text(
        f'Read as: city is "{CITY}" and total spend over ₹5,000 in the last 90 days. '
        "Check the conditions below.")
    spend = page.locator("#rule-tree .condition").nth(1)
    expect(spend.get_by_label("Field")).to_have_value("total_spend")
    expect(spend.get_by_label("Value")).to_have_value("5000")
    expect(spend.get_by_label("Order window")).to_have_value("last")
    expect(spend.get_by_label("Window length")).to_have_value("90")
    expect(spend.get_by_label("Window unit")).to_have_value("d")
    _expect_counted(page, asked, ui_api, "90d")
    expect(page.locator("#breakdown")).to_contain_text(
        "Total spend (INR) is more than 5000 in the last 90 days")
    shot(page, "segment_builder_order_window")


def test_the_window_control_edits_the_window_and_a_saved_audience_keeps_it(
        new_page, shoppers, ui_api):
    page = new_page()
    asked = _previews(page)
    dev_sign_in(page, "marketer")
    page.goto("/segments/new")
    page.get_by_label("Describe it in words").fill(f"from {CITY} who spent over 5,000")
    page.get_by_role("button", name="Fill the rules").click()
    spend = page.locator("#rule-tree .condition").nth(1)
    expect(spend.get_by_label("Order window")).to_have_value("")  # ever: the lifetime total
    expect(spend.get_by_label("Window length")).to_have_count(0)
    _expect_counted(page, asked, ui_api, None)

    spend.get_by_label("Order window").select_option(label="in the last")
    expect(spend.get_by_label("Window length")).to_have_value("90")
    _expect_counted(page, asked, ui_api, "90d")
    spend.get_by_label("Window length").fill("30")
    _expect_counted(page, asked, ui_api, "30d")
    spend.get_by_label("Window length").fill("4")
    spend.get_by_label("Window unit").select_option(label="months")
    _expect_counted(page, asked, ui_api, "4mo")

    name = f"Recent big spenders {uuid.uuid4().hex[:6]}"
    page.get_by_label("Audience name").fill(name)
    page.get_by_role("button", name="Save audience").click()
    expect(page.locator("#save-result")).to_contain_text(f"Saved “{name}” (4 customers)")
    saved = next(segment for segment in ui_api.get(f"{ui_api.base_url}/api/v1/segments",
                                                   timeout=30).json()["items"]
                 if segment["name"] == name)
    assert saved["rules"] == in_city_over_5k("4mo")

    page.goto(f"/segments/new?from={saved['id']}")
    spend = page.locator("#rule-tree .condition").nth(1)
    expect(spend.get_by_label("Order window")).to_have_value("last")
    expect(spend.get_by_label("Window length")).to_have_value("4")
    expect(spend.get_by_label("Window unit")).to_have_value("mo")
    expect(page.locator("#audience-count")).to_have_text("4")
    spend.get_by_label("Order window").select_option(label="ever")
    expect(spend.get_by_label("Window length")).to_have_count(0)
    _expect_counted(page, asked, ui_api, None)


def test_the_customer_page_explains_a_window_in_its_words(new_page, shoppers, ui_api):
    name = f"Spent over 5k lately {int(time.time() * 1000)}"
    saved = ui_api.post(f"{ui_api.base_url}/api/v1/segments",
                        json={"name": name, "rules": in_city_over_5k("90d")}, timeout=30)
    assert saved.status_code == 201, saved.text
    page = new_page()
    dev_sign_in(page, "viewer")
    page.goto("/customers/window-w1")  # 21,000 in all, 1,000 of it in the last 90 days
    page.get_by_label("Saved audience").select_option(label=name)
    page.get_by_role("button", name="Explain").click()
    expect(page.locator("#membership-verdict")).to_have_text(f"Not in “{name}” now.")
    window = page.locator("#membership li.condition-result").nth(1)
    expect(window).to_contain_text("Total spend (INR) is more than 5000 in the last 90 days")
    expect(window).to_contain_text("✗ no")
    expect(window).to_contain_text("theirs: 1,000")  # the window's spend, not the lifetime's
