"""Describing an audience in words, in real Chromium: the builder's "Describe it"
box fills the rule tree for the marketer to check and the count follows; words
it cannot read are marked and the rules are left as they were."""
from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

from tests.support.browser import dev_sign_in, shot

CITY = "Describepur"  # only this module's customers live here
# (visits, spend): big spenders with few visits are c0 and c2.
SHOPPERS = [(1, 12_000), (5, 15_000), (3, 20_000), (2, 500), (0, 0)]
BIG_AND_RARE = 2


@pytest.fixture(scope="module")
def shoppers(ui_api):
    base = ui_api.base_url
    records = [{"external_id": f"describe-{i}", "name": f"Meera{i} Iyer", "city": CITY,
                "email": f"describe{i}@example.com",
                "visits": visits} for i, (visits, _spend) in enumerate(SHOPPERS)]
    answer = ui_api.post(f"{base}/api/v1/customers", json={"records": records}, timeout=60)
    assert answer.status_code == 202, answer.text
    orders = [{"external_id": f"describe-o{i}", "customer_external_id": f"describe-{i}",
               "amount": spend, "placed_at": "2026-01-10T10:00:00Z"}
              for i, (_visits, spend) in enumerate(SHOPPERS) if spend]
    answer = ui_api.post(f"{base}/api/v1/orders", json={"records": orders}, timeout=60)
    assert answer.status_code == 202, answer.text
    rules = {"all": [{"field": "city", "op": "eq", "value": CITY},
                     {"field": "total_spend", "op": "gt", "value": 0}]}
    deadline, count = time.monotonic() + 60, None
    while time.monotonic() < deadline:
        preview = ui_api.post(f"{base}/api/v1/segments/preview", json={"rules": rules},
                              timeout=30)
        count = preview.json().get("count") if preview.ok else None
        if count == 4:
            return
        time.sleep(0.5)
    raise AssertionError(f"the shoppers' orders never all arrived (last count {count})")


def test_a_marketer_describes_an_audience_and_checks_the_rules(new_page, shoppers):
    page = new_page()
    dev_sign_in(page, "marketer")
    page.goto("/segments/new")
    page.get_by_label("Describe it in words").fill(
        f"from {CITY} who spent over INR 10,000 and visited at most 3 times")
    page.get_by_role("button", name="Fill the rules").click()
    expect(page.locator("#describe-result")).to_have_text(
        f'Read as: city is "{CITY}" and total spend over ₹10,000 and at most 3 visits. '
        "Check the conditions below.")
    conditions = page.locator("#rule-tree .condition")
    expect(conditions).to_have_count(3)
    expect(conditions.nth(1).get_by_label("Field")).to_have_value("total_spend")
    expect(conditions.nth(1).get_by_label("Comparison")).to_have_value("gt")
    expect(conditions.nth(1).get_by_label("Value")).to_have_value("10000")
    expect(conditions.nth(2).get_by_label("Comparison")).to_have_value("lte")
    expect(page.locator("#audience-count")).to_have_text(str(BIG_AND_RARE))
    shot(page, "segment_builder_described")

    # The marketer corrects what was read, in the tree: at most 5 visits.
    conditions.nth(2).get_by_label("Value").fill("5")
    expect(page.locator("#audience-count")).to_have_text(str(BIG_AND_RARE + 1))


def test_unread_words_are_marked_and_the_rules_stay(new_page, shoppers):
    page = new_page()
    dev_sign_in(page, "viewer")  # describing changes nothing, like a preview
    page.goto("/segments/new")
    page.get_by_label("Describe it in words").fill(f"from {CITY}")
    page.get_by_role("button", name="Fill the rules").click()
    expect(page.locator("#audience-count")).to_have_text(str(len(SHOPPERS)))

    page.get_by_label("Describe it in words").fill(
        f"from {CITY} with purple hair or spent over 5,000 since 1 Jan")
    page.get_by_role("button", name="Fill the rules").click()
    problem = page.locator("#describe-error")
    expect(problem).to_be_visible()
    expect(problem.locator("mark")).to_have_text(["purple hair", "since 1 Jan"])
    expect(problem).to_contain_text("an order window is a duration")
    conditions = page.locator("#rule-tree .condition")
    expect(conditions).to_have_count(1)
    expect(conditions.first.get_by_label("Value")).to_have_value(CITY)
    expect(page.locator("#audience-count")).to_have_text(str(len(SHOPPERS)))
    shot(page, "segment_builder_unread")


def test_the_customer_page_explains_why_a_customer_is_in_an_audience(new_page, shoppers, ui_api):
    rules = {"all": [{"field": "city", "op": "eq", "value": CITY},
                     {"field": "total_spend", "op": "gt", "value": 10000},
                     {"field": "visits", "op": "lte", "value": 3}]}
    name = f"Big and rare in {CITY} {int(time.time() * 1000)}"
    saved = ui_api.post(f"{ui_api.base_url}/api/v1/segments", json={"name": name, "rules": rules},
                        timeout=30)
    assert saved.status_code == 201, saved.text
    page = new_page()
    dev_sign_in(page, "viewer")
    page.goto("/customers/describe-1")  # spent 15,000 but visited 5 times
    page.get_by_label("Saved audience").select_option(label=name)
    page.get_by_role("button", name="Explain").click()
    expect(page.locator("#membership-verdict")).to_have_text(f"Not in “{name}” now.")
    results = page.locator("#membership li.condition-result")
    expect(results).to_have_count(3)
    expect(results.nth(1)).to_contain_text("✓ yes")
    expect(results.nth(1)).to_contain_text("theirs: 15,000")
    expect(results.nth(2)).to_contain_text("✗ no")
    expect(results.nth(2)).to_contain_text("theirs: 5")
    shot(page, "customer_membership")

    page.goto("/customers/describe-0")  # spent 12,000, visited once
    page.get_by_label("Saved audience").select_option(label=name)
    page.get_by_role("button", name="Explain").click()
    expect(page.locator("#membership-verdict")).to_have_text(f"In “{name}” now.")
