"""API keys with a hand-written fake collection: hashing, scopes, cache and revoke."""
import copy

import pytest

from gateway.api_keys import (
    DEFAULT_SCOPES,
    ApiKey,
    ApiKeyStore,
    hash_secret,
    parse_key,
    validate_scopes,
)


class FakeCollection:
    """The few pymongo Collection methods the store uses, over a dict keyed by _id."""

    def __init__(self):
        self.docs = {}
        self.find_one_calls = 0

    def insert_one(self, doc):
        assert doc["_id"] not in self.docs
        self.docs[doc["_id"]] = copy.deepcopy(doc)

    def find_one(self, query, projection=None):
        assert set(query) == {"_id"}, "only _id filters are fast on FerretDB"
        self.find_one_calls += 1
        doc = self.docs.get(query["_id"])
        return copy.deepcopy(doc)

    def find(self, query, projection=None):
        assert query == {}
        for doc in self.docs.values():
            doc = copy.deepcopy(doc)
            for field, keep in (projection or {}).items():
                if not keep:
                    doc.pop(field, None)
            yield doc

    def update_one(self, query, update):
        assert set(query) == {"_id"}
        self.docs[query["_id"]].update(copy.deepcopy(update["$set"]))


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def collection():
    return FakeCollection()


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def store(collection, clock):
    return ApiKeyStore(collection, cache_seconds=30, clock=clock)


def test_a_new_key_has_the_documented_format_and_only_its_hash_is_stored(store, collection):
    plaintext = store.create("shop integration")
    key_id, secret = parse_key(plaintext)
    assert plaintext == f"crm_{key_id}_{secret}"
    assert len(secret) == 64 and len(key_id) == 16
    doc = collection.docs[key_id]
    assert doc["secret_sha256"] == hash_secret(secret)
    assert secret not in repr(doc) and plaintext not in repr(doc)


def test_keys_are_unique(store):
    assert len({store.create(f"k{i}") for i in range(20)}) == 20


def test_authenticate_returns_the_keys_identity_and_scopes(store):
    plaintext = store.create("analyst", ["segments:read", "campaigns:read"])
    api_key = store.authenticate(plaintext)
    assert api_key.name == "analyst"
    assert api_key.scopes == frozenset({"segments:read", "campaigns:read"})
    assert api_key.key_id == parse_key(plaintext)[0]


@pytest.mark.parametrize("bad", ["", "crm", "crm__x", "nope_abc_def", "Bearer crm_a_b"])
def test_malformed_keys_are_refused_without_a_lookup(store, collection, bad):
    assert store.authenticate(bad) is None
    assert collection.find_one_calls == 0


def test_unknown_id_and_wrong_secret_are_refused(store):
    plaintext = store.create("k")
    key_id, secret = parse_key(plaintext)
    assert store.authenticate(f"crm_{'0' * 16}_{secret}") is None
    assert store.authenticate(f"crm_{key_id}_{'0' * 64}") is None
    assert store.authenticate(plaintext + "x") is None


def test_successes_are_cached_and_failures_are_not(store, collection):
    plaintext = store.create("k")
    store.authenticate(plaintext)
    store.authenticate(plaintext)
    assert collection.find_one_calls == 1
    wrong = plaintext[:-1] + ("0" if plaintext[-1] != "0" else "1")
    store.authenticate(wrong)
    store.authenticate(wrong)
    assert collection.find_one_calls == 3


def test_revoke_is_immediate_in_the_revoking_process(store):
    plaintext = store.create("k")
    assert store.authenticate(plaintext) is not None
    assert store.revoke(parse_key(plaintext)[0]) is True
    assert store.authenticate(plaintext) is None


def test_revoke_elsewhere_takes_effect_when_the_cache_expires(store, collection, clock):
    other_process = ApiKeyStore(collection, cache_seconds=30, clock=clock)
    plaintext = store.create("k")
    assert store.authenticate(plaintext) is not None
    assert other_process.revoke(parse_key(plaintext)[0]) is True
    clock.now += 29
    assert store.authenticate(plaintext) is not None  # the documented window
    clock.now += 1
    assert store.authenticate(plaintext) is None


def test_revoke_of_unknown_key_is_false_and_twice_is_harmless(store):
    assert store.revoke("0123456789abcdef") is False
    key_id = parse_key(store.create("k"))[0]
    assert store.revoke(key_id) is True
    assert store.revoke(key_id) is True


def test_revoke_accepts_the_whole_key(store):
    plaintext = store.create("k")
    assert store.revoke(plaintext) is True
    assert store.authenticate(plaintext) is None


def test_list_shows_state_without_secrets(store):
    first = parse_key(store.create("first"))[0]
    second = parse_key(store.create("second", ["admin"]))[0]
    store.revoke(first)
    listed = store.list()
    assert [k["key_id"] for k in listed] == [first, second]
    assert [k["active"] for k in listed] == [False, True]
    assert listed[1]["scopes"] == ["admin"]
    assert all("secret_sha256" not in k for k in listed)


def test_default_scopes_are_everything_but_admin(store):
    api_key = store.authenticate(store.create("default"))
    assert api_key.scopes == frozenset(DEFAULT_SCOPES)
    assert "admin" not in api_key.scopes and len(api_key.scopes) == 6


def test_unknown_or_empty_scopes_and_names_are_refused(store):
    with pytest.raises(ValueError, match="customers:delete"):
        store.create("k", ["customers:delete"])
    with pytest.raises(ValueError):
        store.create("k", [])
    with pytest.raises(ValueError):
        store.create("  ")
    assert validate_scopes(["segments:read", "segments:read"]) == ["segments:read"]


def test_admin_allows_every_scope_and_others_only_their_own():
    admin = ApiKey("a", "admin", frozenset({"admin"}))
    reader = ApiKey("r", "reader", frozenset({"segments:read"}))
    assert admin.allows("campaigns:write")
    assert reader.allows("segments:read")
    assert not reader.allows("segments:write")
