"""The unsubscribe link every message carries (API.md, Consent and suppression).

`<CRM_PUBLIC_URL>/u/<token>`, the token naming the campaign and the customer,
signed with `CRM_UNSUBSCRIBE_SECRET` (itsdangerous, HMAC; Flask's own
dependency). Campaigns signs when it logs a message, the gateway checks when
the link is opened: both read the same two variables. A token is not timed:
a message read months later must still let its reader out.

| variable | default |
|---|---|
| `CRM_UNSUBSCRIBE_SECRET` | a development secret, refused when `CRM_ENV=production` |
| `CRM_PUBLIC_URL` | `http://127.0.0.1:8000` (the gateway as `make up` starts it) |
"""
from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass

from itsdangerous import BadSignature, Signer, URLSafeSerializer
from itsdangerous.encoding import base64_encode

DEVELOPMENT_SECRET = "crm-development-unsubscribe-secret"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
SALT = "crm.unsubscribe.v1"


class UnsafeUnsubscribeSecret(RuntimeError):
    """Production without its own secret: anyone could forge unsubscribe links."""


@dataclass(frozen=True)
class UnsubscribeLinks:
    secret: str = DEVELOPMENT_SECRET
    public_url: str = DEFAULT_PUBLIC_URL

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> UnsubscribeLinks:
        env = os.environ if env is None else env
        secret = env.get("CRM_UNSUBSCRIBE_SECRET") or DEVELOPMENT_SECRET
        production = env.get("CRM_ENV", "development").strip().lower() == "production"
        if production and secret == DEVELOPMENT_SECRET:
            raise UnsafeUnsubscribeSecret("set CRM_UNSUBSCRIBE_SECRET in production")
        return cls(secret, (env.get("CRM_PUBLIC_URL") or DEFAULT_PUBLIC_URL).rstrip("/"))

    @functools.cached_property
    def _serializer(self) -> URLSafeSerializer:
        return URLSafeSerializer(self.secret, salt=SALT)

    @functools.cached_property
    def _signer(self) -> Signer:
        # One signer with its key derived once: URLSafeSerializer.dumps derives the key
        # and tries zlib on every call, ~40 us a link (4 s of a 100,000-message launch).
        signer = self._serializer.make_signer()
        key = signer.derive_key()
        signer.derive_key = lambda secret_key=None: key
        return signer

    def token(self, campaign_id: str, customer_external_id: str) -> str:
        """What `URLSafeSerializer.loads` reads back (an uncompressed payload)."""
        payload = json.dumps([campaign_id, customer_external_id], separators=(",", ":"))
        return self._signer.sign(base64_encode(payload.encode())).decode()

    def url(self, campaign_id: str, customer_external_id: str) -> str:
        return f"{self.public_url}/u/{self.token(campaign_id, customer_external_id)}"

    def read(self, token: str) -> tuple[str, str] | None:
        """(campaign_id, customer_external_id) of a token we signed; None for any other."""
        if not isinstance(token, str) or len(token) > 2000:
            return None
        try:
            value = self._serializer.loads(token)
        except BadSignature:
            return None
        if (not isinstance(value, list) or len(value) != 2
                or not all(isinstance(part, str) and part for part in value)):
            return None
        return value[0], value[1]


@functools.lru_cache(maxsize=1)
def links_from_env() -> UnsubscribeLinks:
    """The process's links, read from the environment once (on first use, not at import)."""
    return UnsubscribeLinks.from_env()
