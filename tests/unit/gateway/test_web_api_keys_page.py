"""The admins' API keys page with a hand-written key store: no servers."""
import re
from datetime import UTC, datetime

from gateway.app import create_app
from gateway.config import GatewayConfig
from gateway.resources import resources
from gateway.web.config import WebConfig
from shared.config import Settings


class FakeKeyStore:
    def __init__(self):
        self.keys = {}

    def create(self, name, scopes=None, rate_limit=None):
        key_id = f"k{len(self.keys) + 1}"
        self.keys[key_id] = {"key_id": key_id, "name": name, "scopes": list(scopes),
                             "created_at": datetime(2026, 1, 2, tzinfo=UTC), "revoked_at": None,
                             "active": True, "rate_limit": rate_limit}
        return f"crm_{key_id}_plaintextsecret"

    def list(self):
        return list(self.keys.values())

    def revoke(self, key_id):
        if key_id not in self.keys:
            return False
        self.keys[key_id]["active"] = False
        return True

    def authenticate(self, plaintext):
        return None


def signed_in(role):
    app = create_app(GatewayConfig(settings=Settings(db_prefix="unit_web_keys_unused")),
                     WebConfig.from_env({"CRM_DEV_LOGIN": "1"}))
    store = FakeKeyStore()
    with app.app_context():
        resources().provide(key_store=store)
    client = app.test_client()
    page = client.get("/signin").data
    token = re.search(rb'name="csrf_token" value="([^"]+)"', page).group(1).decode()
    client.post("/signin/dev", data={"email": f"{role}@example.com", "role": role,
                                     "csrf_token": token})
    # Signing in starts a fresh session, so the sign-in page's token is spent.
    page = client.get("/").data
    token = re.search(rb'name="csrf-token" content="([^"]+)"', page).group(1).decode()
    return client, store, token


def test_an_admin_sees_a_new_key_once_and_can_revoke_it():
    client, store, token = signed_in("admin")
    created = client.post("/admin/api-keys", data={"name": "Shop", "csrf_token": token,
                                                   "scopes": ["customers:write"]})
    assert created.status_code == 201
    assert b"crm_k1_plaintextsecret" in created.data
    assert store.keys["k1"]["scopes"] == ["customers:write"]
    listing = client.get("/admin/api-keys").data
    assert b"plaintextsecret" not in listing and b"Shop" in listing
    revoked = client.post("/admin/api-keys/k1/revoke", data={"csrf_token": token})
    assert revoked.status_code == 302 and store.keys["k1"]["active"] is False


def test_key_forms_explain_their_problems_and_need_csrf():
    client, store, token = signed_in("admin")
    unnamed = client.post("/admin/api-keys", data={"name": " ", "csrf_token": token,
                                                   "scopes": ["admin"]})
    assert unnamed.status_code == 400 and b"Give the key a name" in unnamed.data
    unknown = client.post("/admin/api-keys", data={"name": "x", "csrf_token": token,
                                                   "scopes": ["everything"]})
    assert unknown.status_code == 400 and b"not known" in unknown.data
    forged = client.post("/admin/api-keys", data={"name": "x", "scopes": ["admin"]})
    assert forged.status_code == 400 and store.keys == {}


def test_only_admins_reach_the_page():
    for role in ("marketer", "viewer"):
        client, store, token = signed_in(role)
        page = client.get("/admin/api-keys")
        assert page.status_code == 403 and b"Only administrators" in page.data
        assert client.post("/admin/api-keys", data={"name": "x", "csrf_token": token,
                                                    "scopes": ["admin"]}).status_code == 403
        assert store.keys == {}


def test_an_admin_may_give_a_key_its_own_rate_limit():
    client, store, token = signed_in("admin")
    for name, limit in (("Default", ""), ("Busy", "5000"), ("Unlimited", "0")):
        created = client.post("/admin/api-keys", data={"name": name, "csrf_token": token,
                                                       "scopes": ["customers:write"],
                                                       "rate_limit": limit})
        assert created.status_code == 201
    assert [key["rate_limit"] for key in store.keys.values()] == [None, 5000, 0]
    listing = client.get("/admin/api-keys").data
    assert b"usual (1,200)" in listing and b"5,000" in listing and b"no limit" in listing
    refused = client.post("/admin/api-keys", data={"name": "Odd", "csrf_token": token,
                                                   "scopes": ["customers:write"],
                                                   "rate_limit": "-3"})
    assert refused.status_code == 400 and len(store.keys) == 3
