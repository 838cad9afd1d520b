"""Every page at tablet width (820 px): nothing scrolls sideways, and each passes
the axe-core check that `shot` runs."""
from __future__ import annotations

import pytest

from tests.support.browser import dev_sign_in, shot

TABLET = {"width": 820, "height": 1180}


@pytest.fixture(scope="module")
def a_customer_and_a_campaign(ui_api):
    base = ui_api.base_url
    customer = {"external_id": "tablet-1", "name": "Tara Menon", "email": "tara@example.com",
                "city": "Tabletpur", "tags": ["vip"], "visits": 2}
    assert ui_api.post(f"{base}/api/v1/customers", json=customer, timeout=30).status_code == 202
    campaign = ui_api.post(f"{base}/api/v1/campaigns", timeout=30, json={
        "name": "Tablet check", "rules": {"field": "city", "op": "eq", "value": "Tabletpur"},
        "message": "Hi {first_name|there}"})
    assert campaign.status_code == 201, campaign.text
    return customer["external_id"], campaign.json()["id"]


def test_every_page_fits_a_tablet(new_page, a_customer_and_a_campaign):
    customer_id, campaign_id = a_customer_and_a_campaign
    page = new_page(**TABLET)
    dev_sign_in(page, "admin")
    pages = {"dashboard": "/", "customers": "/customers", "customer": f"/customers/{customer_id}",
             "segments": "/segments", "builder": "/segments/new", "import": "/import",
             "campaigns": "/campaigns", "campaign_new": "/campaigns/new",
             "campaign": f"/campaigns/{campaign_id}", "api_keys": "/admin/api-keys"}
    too_wide = {}
    for name, path in pages.items():
        page.goto(path)
        page.wait_for_load_state("networkidle")
        width = page.evaluate("document.documentElement.scrollWidth")
        if width > TABLET["width"]:
            too_wide[path] = width
        shot(page, f"tablet_{name}")
    assert not too_wide, f"pages that scroll sideways at tablet width: {too_wide}"
