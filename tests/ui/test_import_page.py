"""Importing CSV files in real Chromium: customers, then their orders, with
progress, the rejected lines explained, a download of them, and the imported
orders on the customer's page and the dashboard."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.support.browser import dev_sign_in, shot

CITY = "Importpur"  # only this module's customers live here
CUSTOMERS_CSV = (
    "External ID;Name;Email;City;Visits;Tags;Favourite colour\r\n"
    "imp-1;Ravi Kumar;ravi@example.com;Importpur;4;vip|new;blue\r\n"
    'imp-2;"Kumar; Priya";priya@example.com;Importpur;x;;red\r\n'
    "imp-3;No Email;not-an-email;Importpur;2;;\r\n"
    'imp-4;"Meera\nIyer";meera@example.com;Importpur;1;;\r\n'
    "imp-5;Sara Das;sara@example.com;Importpur;0;;\r\n"
)
ORDERS_CSV = (
    "external_id,customer_external_id,amount,placed_at\n"
    'imp-o-1,imp-1,"1,299.50",2026-10-01\n'
    "imp-o-2,imp-1,700,2026-10-05T09:30:00Z\n"
    "imp-o-3,nobody-here,10,2026-10-01\n"
    "imp-o-4,imp-5,-5,2026-10-01\n"
)


def _upload(page, kind: str, name: str, text: str) -> None:
    page.get_by_label(kind, exact=True).check()
    page.get_by_label("CSV file").set_input_files(
        files=[{"name": name, "mimeType": "text/csv", "buffer": text.encode()}])
    page.get_by_role("button", name="Start import").click()


def test_a_marketer_imports_customers_then_orders(new_page, ui_api):
    page = new_page()
    dev_sign_in(page, "marketer")
    page.get_by_role("link", name="Import").click()

    _upload(page, "Customers", "customers.csv", CUSTOMERS_CSV)
    status = page.locator("#import-status")
    expect(status).to_contain_text("Done: 3 of 5 customers imported", timeout=30_000)
    expect(page.locator("#import-accepted")).to_have_text("3")
    expect(page.locator("#import-rejected")).to_have_text("2")
    expect(page.locator("#import-ignored")).to_contain_text("Favourite colour")
    problems = page.locator("#import-errors tbody tr")
    expect(problems).to_have_count(2)
    expect(problems.nth(0)).to_contain_text(re.compile(r"^3\s*imp-2\s*visits: Not a valid integer"))
    expect(problems.nth(1)).to_contain_text(re.compile(r"^4\s*imp-3\s*email: "))
    with page.expect_download() as download:
        page.get_by_role("button", name="Download these rows with their problems").click()
    rejected = open(download.value.path(), encoding="utf-8").read().splitlines()
    assert rejected[0].endswith(",line,problem") and len(rejected) == 3, rejected
    assert rejected[1].startswith('imp-2,"Kumar; Priya"'), rejected
    shot(page, "import_customers")

    _upload(page, "Orders", "orders.csv", ORDERS_CSV)
    expect(status).to_contain_text("Done: 2 of 4 orders imported", timeout=30_000)
    expect(problems.nth(0)).to_contain_text("import the customers first")
    expect(problems.nth(1)).to_contain_text(re.compile(r"^5\s*imp-o-4\s*amount: "))
    shot(page, "import_orders")

    page.goto("/customers/imp-1")
    expect(page.locator("#customer-name")).to_have_text("Ravi Kumar")
    orders = page.locator("#customer-orders tbody tr")
    expect(orders).to_have_count(2, timeout=20_000)  # projected a moment after the import
    expect(orders.nth(0)).to_contain_text("imp-o-2")  # newest first
    expect(orders.nth(1)).to_contain_text("1,299.50")
    expect(page.locator("#customer-total_spend")).to_have_text("₹1,999.50")
    expect(page.locator("#customer-profile")).to_contain_text("vip, new")
    shot(page, "customer_with_orders")
    page.goto("/customers/imp-4")
    expect(page.locator("#customer-contact")).to_contain_text("meera@example.com")
    expect(page.get_by_text("No orders yet.")).to_be_visible()


def test_the_dashboard_shows_orders_and_revenue(new_page, ui_api):
    overview = ui_api.get(f"{ui_api.base_url}/api/v1/overview", timeout=30).json()
    page = new_page()
    dev_sign_in(page, "viewer")
    expect(page.locator("#tile-orders")).to_have_text(f"{overview['orders']:,}")
    expect(page.locator("#tile-customers")).to_have_text(f"{overview['customers']:,}")
    expect(page.locator("#tile-revenue")).to_contain_text("₹")
    shot(page, "dashboard_viewer")


def test_a_viewer_cannot_import(new_page):
    page = new_page()
    dev_sign_in(page, "viewer")
    expect(page.get_by_role("link", name="Import")).to_have_count(0)
    page.goto("/import")
    expect(page.get_by_text("you can look at customers but not import them")).to_be_visible()
    expect(page.get_by_label("CSV file")).to_have_count(0)
    shot(page, "import_viewer")
