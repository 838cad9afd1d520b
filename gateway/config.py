"""The gateway's configuration: a frozen dataclass read once from the environment.

Variables (default in brackets):

- `CRM_GATEWAY_MAX_BODY_BYTES` [16 MiB]: larger request bodies get 413 before
  anything is read.
- `CRM_GATEWAY_CONNECT_TIMEOUT` [2 s]: connecting to a service; past it, 503.
- `CRM_GATEWAY_READ_TIMEOUT` [60 s]: waiting for a service's answer; past it, 503.
- `CRM_GATEWAY_KEY_CACHE_SECONDS` [5 s]: how long a successful key check is
  reused in one process (so also the longest a revoked key keeps working in a
  gateway process other than the one that revoked it).
- `CRM_GATEWAY_SPEC_CACHE_SECONDS` [60 s]: how long the merged OpenAPI document
  is reused when every service answered (5 s when one did not).
- `CRM_GATEWAY_RATE_LIMIT` [1200]: calls each API key may make per window (a key's
  own `rate_limit`, set with `crm api-keys create --rate-limit N`, wins); past it,
  429 `RATE_LIMITED` with `Retry-After`. 0: no limit. Web UI (session) calls are
  not limited by it. See gateway/rate_limit.py.
- `CRM_GATEWAY_RATE_WINDOW_SECONDS` [60]: the window of that limit.
- `CRM_TRUSTED_PROXIES` [0]: how many proxies in front of the gateway set
  `X-Forwarded-For/-Proto/-Host/-Port`; their values are believed only from
  that many hops (Werkzeug's ProxyFix), so URLs built for Google sign-in say
  `https://` behind a TLS proxy. 0: headers ignored.

Plus everything in `shared.config.Settings` (database, broker, service URLs).
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from shared.config import ServiceConfig, env_field

DEFAULT_MAX_BODY_BYTES = 16 * 1024 * 1024
# 20 calls a second, sustained: far above what an integration syncing 1,000-record
# batches needs, low enough that one runaway client cannot starve the others.
DEFAULT_RATE_LIMIT = 1200


@dataclass(frozen=True)
class GatewayConfig(ServiceConfig):
    """`GatewayConfig.from_env(env, **overrides)`: keyword `overrides` (e.g. `settings=...`
    in tests) win over the environment."""
    max_body_bytes: int = env_field("CRM_GATEWAY_MAX_BODY_BYTES", DEFAULT_MAX_BODY_BYTES)
    connect_timeout: float = env_field("CRM_GATEWAY_CONNECT_TIMEOUT", 2.0)
    read_timeout: float = env_field("CRM_GATEWAY_READ_TIMEOUT", 60.0)
    key_cache_seconds: float = env_field("CRM_GATEWAY_KEY_CACHE_SECONDS", 5.0)
    spec_cache_seconds: float = env_field("CRM_GATEWAY_SPEC_CACHE_SECONDS", 60.0)
    # Fetching one service's fragment for /openapi.json must not hold the page up.
    spec_fetch_timeout: float = 2.0
    trusted_proxies: int = env_field("CRM_TRUSTED_PROXIES", 0)
    rate_limit: int = env_field("CRM_GATEWAY_RATE_LIMIT", DEFAULT_RATE_LIMIT)
    rate_window_seconds: float = env_field("CRM_GATEWAY_RATE_WINDOW_SECONDS", 60.0)

    def replace(self, **changes: Any) -> GatewayConfig:
        return dataclasses.replace(self, **changes)
