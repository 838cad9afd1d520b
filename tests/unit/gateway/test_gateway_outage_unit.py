"""A database outage seen by the gateway is a 503 with Retry-After, never a 500: with a key
store that fails as pymongo does when the database is down (no servers)."""
import re

import pytest
from pymongo.errors import AutoReconnect, NetworkTimeout, ServerSelectionTimeoutError

from gateway.app import create_app
from gateway.config import GatewayConfig
from gateway.resources import resources
from gateway.web.config import WebConfig
from shared.config import Settings

SETTINGS = Settings(db_prefix="unit_gateway_outage_unused", service_urls={
    "ingest": "http://ingest.test", "segments": "http://segments.test",
    "campaigns": "http://campaigns.test"})


class DownKeyStore:
    """Every call fails as pymongo fails while the database restarts."""

    def __init__(self, error):
        self.error = error

    def authenticate(self, _plaintext):
        raise self.error

    def list(self):
        raise self.error


@pytest.fixture(params=[ServerSelectionTimeoutError("no servers"), AutoReconnect("reset"),
                        NetworkTimeout("timed out")], ids=lambda e: type(e).__name__)
def app(request):
    app = create_app(GatewayConfig(settings=SETTINGS), WebConfig.from_env({"CRM_DEV_LOGIN": "1"}))
    app.config["TESTING"] = True
    with app.app_context():
        resources().provide(key_store=DownKeyStore(request.param))
    return app


def test_an_api_call_whose_key_cannot_be_checked_is_503_with_retry_after(app):
    response = app.test_client().post("/api/v1/customers", json={"external_id": "c1"},
                                      headers={"Authorization": "Bearer crm_k1_secret"})
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "DEPENDENCY_UNAVAILABLE"
    assert response.headers["Retry-After"] == "5"


def test_a_ui_page_that_needs_the_database_is_a_friendly_503_page(app):
    client = app.test_client()
    page = client.get("/signin")
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()
    client.post("/signin/dev", data={"email": "boss@example.com", "role": "admin",
                                     "csrf_token": token})
    response = client.get("/admin/api-keys")
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert response.mimetype == "text/html"
    assert b"The CRM is back in a moment" in response.data and b"Traceback" not in response.data
