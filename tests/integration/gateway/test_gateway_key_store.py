"""API keys against the real document database, through the store and the CLI."""

import pytest
from click.testing import CliRunner

from gateway.api_keys import COLLECTION, open_store, parse_key
from gateway.commands import api_keys
from shared import mongo

pytestmark = pytest.mark.integration


@pytest.fixture
def store(gateway_settings):
    store = open_store(gateway_settings)
    yield store
    store.close()


def stored_documents(settings):
    client = mongo.connect(settings)
    try:
        return list(client[settings.database_name("gateway")][COLLECTION].find({}))
    finally:
        client.close()


def test_create_authenticate_revoke(store, gateway_settings):
    plaintext = store.create("shop", ["customers:write"])
    api_key = store.authenticate(plaintext)
    assert api_key is not None and api_key.scopes == frozenset({"customers:write"})
    assert store.revoke(api_key.key_id) is True
    assert store.authenticate(plaintext) is None
    assert store.revoke("ffffffffffffffff") is False


def test_database_never_holds_the_plaintext(store, gateway_settings):
    plaintext = store.create("shop")
    key_id, secret = parse_key(plaintext)
    [doc] = stored_documents(gateway_settings)
    assert doc["_id"] == key_id
    assert secret not in repr(doc)


def test_another_process_without_cache_sees_a_revoke_at_once(store, gateway_settings):
    plaintext = store.create("shop")
    other = open_store(gateway_settings, cache_seconds=0)
    try:
        assert other.authenticate(plaintext) is not None
        store.revoke(parse_key(plaintext)[0])
        assert other.authenticate(plaintext) is None
    finally:
        other.close()


def test_list_has_every_key_and_no_secret(store):
    ids = [parse_key(store.create(f"key {i}"))[0] for i in range(3)]
    store.revoke(ids[0])
    listed = store.list()
    assert [key["key_id"] for key in listed] == ids
    assert [key["active"] for key in listed] == [False, True, True]
    assert all("secret_sha256" not in key for key in listed)
    assert listed[0]["created_at"].tzinfo is not None


def test_cli_create_prints_the_key_alone_on_the_last_line(gateway_settings):
    env = {"CRM_DB_PREFIX": gateway_settings.db_prefix, "MONGO_URL": gateway_settings.mongo_url}
    runner = CliRunner()
    created = runner.invoke(api_keys, ["create", "shop", "--scope", "segments:read",
                                       "--scope", "campaigns:read"], env=env)
    assert created.exit_code == 0, created.output
    plaintext = created.stdout.strip().splitlines()[-1]
    store = open_store(gateway_settings)
    try:
        api_key = store.authenticate(plaintext)
        assert api_key.scopes == frozenset({"segments:read", "campaigns:read"})
    finally:
        store.close()

    listed = runner.invoke(api_keys, ["list"], env=env)
    assert listed.exit_code == 0 and api_key.key_id in listed.stdout
    assert parse_key(plaintext)[1] not in listed.stdout

    revoked = runner.invoke(api_keys, ["revoke", api_key.key_id], env=env)
    assert revoked.exit_code == 0
    assert runner.invoke(api_keys, ["revoke", "0000000000000000"], env=env).exit_code == 1
    assert "revoked" in runner.invoke(api_keys, ["list"], env=env).stdout


def test_cli_refuses_an_unknown_scope(gateway_settings):
    env = {"CRM_DB_PREFIX": gateway_settings.db_prefix, "MONGO_URL": gateway_settings.mongo_url}
    result = CliRunner().invoke(api_keys, ["create", "shop", "--scope", "everything"], env=env)
    assert result.exit_code != 0
    assert stored_documents(gateway_settings) == []
