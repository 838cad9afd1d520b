"""The consent, suppressions and settings pages render for each role with what it may do
(the pages' behaviour is in tests/ui/test_consent_suppression_cap_ui.py)."""
from __future__ import annotations

import pytest

from tests.support.web import dev_sign_in, make_app

ENV = {"CRM_DEV_LOGIN": "1", "CRM_ENV": "development"}


def fresh():
    return make_app(ENV)[0].test_client()


@pytest.fixture
def client():
    return fresh()


def page(client, role: str, path: str) -> str:
    assert dev_sign_in(client, role).status_code == 302
    answer = client.get(path)
    assert answer.status_code == 200, path
    return answer.get_data(as_text=True)


def test_the_settings_page_has_a_form_for_admins_only_and_the_nav_says_so(client):
    admin = page(client, "admin", "/settings")
    assert 'id="cap-form"' in admin and 'href="/settings"' in admin
    marketer = page(fresh(), "marketer", "/settings")
    assert 'id="cap-form"' not in marketer and "Only admins" in marketer
    assert 'href="/settings"' not in marketer and 'href="/suppressions"' in marketer


def test_the_customer_page_has_the_consent_button_for_roles_that_change_things(client):
    assert 'id="consent-toggle"' in page(client, "marketer", "/customers/c-1")
    viewer = page(fresh(), "viewer", "/customers/c-1")
    assert 'id="customer-consent"' in viewer and 'id="consent-toggle"' not in viewer


def test_the_suppressions_and_campaign_pages_carry_their_scripts(client):
    assert "suppressions.js" in page(client, "viewer", "/suppressions")
    campaign = page(fresh(), "viewer", "/campaigns/abc")
    assert 'id="campaign-exclusions"' in campaign and "campaign_exclusions.js" in campaign
