"""API keys: created by the CLI, checked by the gateway on every `/api/v1` call.

A key reads `crm_<key_id>_<secret>`: `key_id` (16 hex) is the document's `_id`,
so checking a key is one `find_one({"_id": key_id})` (the only filter FerretDB
answers without reading the whole collection) followed by a constant-time
comparison of the secret's hash. The plaintext is shown once, at creation, and
never stored.

Scopes: `customers:write` (ingest customers and orders), `customers:read`,
`segments:read`, `segments:write`, `campaigns:read`, `campaigns:write`, and
`admin`, which allows everything. A key created without scopes gets every scope
except `admin` (DEFAULT_SCOPES): that is what an integration needs; `admin` is
needed only to change settings (`PUT /api/v1/settings/frequency-cap`), so it is
never handed out by accident.

A key may carry its own `rate_limit` (calls per window, gateway/rate_limit.py);
without one the gateway's CRM_GATEWAY_RATE_LIMIT applies.

Successful checks are cached in the process for `cache_seconds` (5 s by
default). A revoke takes effect at once in the process that revoked the key
and within `cache_seconds` everywhere else (other gateway workers, and the
gateway when the CLI revoked the key). Unknown or revoked keys are never cached.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from pymongo.collection import Collection

from shared import mongo
from shared.config import Settings

ADMIN = "admin"
SCOPES = (
    "customers:write", "customers:read",
    "segments:read", "segments:write",
    "campaigns:read", "campaigns:write",
    ADMIN,
)
DEFAULT_SCOPES = tuple(scope for scope in SCOPES if scope != ADMIN)
KEY_PREFIX = "crm"
COLLECTION = "api_keys"
MAX_CACHED_KEYS = 10_000


@dataclass(frozen=True)
class ApiKey:
    key_id: str
    name: str
    scopes: frozenset[str]
    created_at: datetime | None = None
    # Calls per rate window (gateway/rate_limit.py); None: the gateway's default.
    rate_limit: int | None = None

    def allows(self, scope: str) -> bool:
        return ADMIN in self.scopes or scope in self.scopes


def hash_secret(secret: str) -> str:
    # The secret is 256 random bits, so nobody can guess it by trying hashes of
    # likely values: a slow password hash (bcrypt, argon2) would protect nothing
    # more and would add its cost to every API call that misses the cache. A
    # salt is unnecessary for the same reason (no two secrets are alike).
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def parse_key(plaintext: str) -> tuple[str, str] | None:
    """(key_id, secret) from `crm_<key_id>_<secret>`, or None when malformed."""
    parts = plaintext.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def validate_scopes(scopes: Iterable[str] | None) -> list[str]:
    chosen = list(DEFAULT_SCOPES if scopes is None else dict.fromkeys(scopes))
    unknown = [scope for scope in chosen if scope not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(SCOPES)}")
    if not chosen:
        raise ValueError("a key needs at least one scope")
    return chosen


def _now() -> datetime:
    return datetime.now(UTC)


class ApiKeyStore:
    """The `api_keys` collection of the gateway's database."""

    def __init__(self, collection: Collection, cache_seconds: float = 5.0,
                 clock: Callable[[], float] = time.monotonic,
                 on_close: Callable[[], None] | None = None):
        self._collection = collection
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[float, ApiKey]] = {}
        self._lock = threading.Lock()
        self._on_close = on_close

    def create(self, name: str, scopes: Iterable[str] | None = None,
               rate_limit: int | None = None) -> str:
        """Store a new key and return its plaintext (the only time it exists)."""
        if not name or not name.strip():
            raise ValueError("a key needs a name")
        chosen = validate_scopes(scopes)
        if rate_limit is not None and (isinstance(rate_limit, bool) or rate_limit < 0):
            raise ValueError("a rate limit is a whole number of calls, 0 for none")
        key_id = secrets.token_hex(8)
        secret = secrets.token_hex(32)
        self._collection.insert_one({
            "_id": key_id,
            "name": name.strip(),
            "scopes": chosen,
            "secret_sha256": hash_secret(secret),
            "created_at": _now(),
            "revoked_at": None,
            "rate_limit": rate_limit,
        })
        return f"{KEY_PREFIX}_{key_id}_{secret}"

    def list(self) -> list[dict]:
        """Every key, oldest first, without its hash."""
        keys = [
            {
                "key_id": doc["_id"],
                "name": doc.get("name", ""),
                "scopes": list(doc.get("scopes", [])),
                "created_at": doc.get("created_at"),
                "revoked_at": doc.get("revoked_at"),
                "active": doc.get("revoked_at") is None,
                "rate_limit": doc.get("rate_limit"),
            }
            for doc in self._collection.find({}, {"secret_sha256": 0})
        ]
        oldest = datetime.min.replace(tzinfo=UTC)
        return sorted(keys, key=lambda key: _aware(key["created_at"]) or oldest)

    def revoke(self, key_id: str) -> bool:
        """Revoke a key; True when it exists (revoking twice is harmless), False when unknown."""
        parsed = parse_key(key_id)
        key_id = parsed[0] if parsed else key_id.strip()
        doc = self._collection.find_one({"_id": key_id}, {"revoked_at": 1})
        if doc is None:
            return False
        if doc.get("revoked_at") is None:
            self._collection.update_one({"_id": key_id}, {"$set": {"revoked_at": _now()}})
        with self._lock:
            for cache_key, (_, api_key) in list(self._cache.items()):
                if api_key.key_id == key_id:
                    del self._cache[cache_key]
        return True

    def authenticate(self, plaintext: str) -> ApiKey | None:
        """The key's identity and scopes, or None when it is malformed, unknown or revoked."""
        parsed = parse_key(plaintext or "")
        if parsed is None:
            return None
        cache_key = hash_secret(plaintext.strip())
        cached = self._cached(cache_key)
        if cached is not None:
            return cached
        key_id, secret = parsed
        doc = self._collection.find_one({"_id": key_id})
        if doc is None or doc.get("revoked_at") is not None:
            return None
        if not hmac.compare_digest(doc.get("secret_sha256", ""), hash_secret(secret)):
            return None
        limit = doc.get("rate_limit")
        api_key = ApiKey(key_id=key_id, name=doc.get("name", ""),
                         scopes=frozenset(doc.get("scopes", [])), created_at=doc.get("created_at"),
                         rate_limit=limit if isinstance(limit, int) else None)
        self._remember(cache_key, api_key)
        return api_key

    def close(self) -> None:
        if self._on_close is not None:
            self._on_close()

    def _cached(self, cache_key: str) -> ApiKey | None:
        with self._lock:
            entry = self._cache.get(cache_key)
            if entry is None:
                return None
            expires, api_key = entry
            if expires <= self._clock():
                del self._cache[cache_key]
                return None
            return api_key

    def _remember(self, cache_key: str, api_key: ApiKey) -> None:
        if self._cache_seconds <= 0:
            return
        with self._lock:
            if len(self._cache) >= MAX_CACHED_KEYS:
                self._cache.clear()  # crude, but bounded; a refill costs one lookup per key
            self._cache[cache_key] = (self._clock() + self._cache_seconds, api_key)


def _aware(moment: datetime | None) -> datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment


def api_keys_collection(client, settings: Settings) -> Collection:
    return client[settings.database_name("gateway")][COLLECTION]


def open_store(settings: Settings, cache_seconds: float = 30.0) -> ApiKeyStore:
    """A store with its own client (for the CLI and tests); `close()` it when done."""
    client = mongo.connect(settings)
    return ApiKeyStore(api_keys_collection(client, settings), cache_seconds=cache_seconds,
                       on_close=client.close)
