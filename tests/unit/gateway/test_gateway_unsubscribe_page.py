"""/u/<token>: a signed token shows one button, a POST (the button or RFC 8058 one-click)
asks ingest to unsubscribe; anything else is a 404 page and calls nobody."""
import json

import pytest
import requests

from gateway.app import create_app
from gateway.config import GatewayConfig
from gateway.resources import resources
from shared.config import Settings
from shared.unsubscribe import UnsafeUnsubscribeSecret, UnsubscribeLinks
from tests.support.gateway import SERVICE_URLS, FakeHttp, FakeKeyStore

LINKS = UnsubscribeLinks()


@pytest.fixture
def http():
    return FakeHttp()


@pytest.fixture
def client(http):
    settings = Settings(db_prefix="unit_gateway_unused", service_urls=dict(SERVICE_URLS))
    app = create_app(GatewayConfig(settings=settings))
    with app.app_context():
        resources().provide(key_store=FakeKeyStore(), http=http)
    return app.test_client()


def test_the_page_shows_one_button_and_changes_nothing(client, http):
    response = client.get("/u/" + LINKS.token("cmp1", "c-1"))
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert page.count("<button") == 1 and 'method="post"' in page
    assert http.calls == []


@pytest.mark.parametrize("body", [{"List-Unsubscribe": "One-Click"}, None])
def test_a_post_unsubscribes_through_ingest_without_a_session(client, http, body):
    response = client.post("/u/" + LINKS.token("cmp1", "c/1"), data=body)
    assert response.status_code == 200
    assert "You are unsubscribed" in response.get_data(as_text=True)
    [call] = http.calls
    assert call["method"] == "POST"
    assert call["url"] == "http://ingest.test/internal/v1/unsubscribe-link"
    assert json.loads(call["data"]) == {"customer_external_id": "c/1", "campaign_id": "cmp1"}


@pytest.mark.parametrize("token", [
    LINKS.token("cmp1", "c-1")[:-2] + "xx",                          # tampered signature
    UnsubscribeLinks(secret="another").token("cmp1", "c-1"),         # someone else's secret
    "WyJjbXAxIiwiYy0xIl0",                                            # no signature at all
    LINKS._serializer.dumps({"campaign": "cmp1"}),                   # signed, not ours in shape
    "x" * 3000,
])
def test_a_bad_token_is_a_404_page_and_calls_nobody(client, http, token):
    for method in (client.get, client.post):
        response = method("/u/" + token)
        assert response.status_code == 404
        assert "text/html" in response.content_type
        assert "not valid" in response.get_data(as_text=True)
    assert http.calls == []


def test_a_customer_ingest_does_not_know_is_a_404_page(client, http):
    http.answer = (404, {"Content-Type": "application/json"}, b'{"error": {}}')
    assert client.post("/u/" + LINKS.token("cmp1", "gone")).status_code == 404


def test_ingest_down_is_a_503_page(client, http):
    http.answer = requests.ConnectionError("down")
    response = client.post("/u/" + LINKS.token("cmp1", "c-1"))
    assert response.status_code == 503 and "try again" in response.get_data(as_text=True)


def test_production_refuses_the_development_secret():
    with pytest.raises(UnsafeUnsubscribeSecret):
        UnsubscribeLinks.from_env({"CRM_ENV": "production"})
    links = UnsubscribeLinks.from_env({"CRM_ENV": "production", "CRM_UNSUBSCRIBE_SECRET": "s3",
                                       "CRM_PUBLIC_URL": "https://crm.example.com/"})
    assert links.url("cmp1", "c-1").startswith("https://crm.example.com/u/")
    assert links.read(links.token("cmp1", "c-1")) == ("cmp1", "c-1")
