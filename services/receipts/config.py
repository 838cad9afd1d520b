"""The receipts service's settings, read once from the environment."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.config import Settings, numbers_from_env

# Each from RECEIPTS_<FIELD> (RECEIPTS_BATCH_WAIT_MS, ...); the relay's timings are not tunable.
_FROM_ENV = ("freshness_seconds", "max_receipts", "batch_size", "batch_wait_ms",
             "publish_retry_seconds")

# Clearly a development value: a production config (CRM_ENV=production) refuses it.
DEVELOPMENT_WEBHOOK_SECRET = "dev-only-insecure-webhook-secret"


class InsecureConfig(RuntimeError):
    """A production config that would accept receipts signed with the public development secret."""


@dataclass(frozen=True)
class ReceiptsConfig:
    settings: Settings = field(default_factory=Settings)
    webhook_secret: str = DEVELOPMENT_WEBHOOK_SECRET
    # A signature older (or newer) than this is refused: a captured callback
    # cannot be replayed later.
    freshness_seconds: float = 300.0
    max_receipts: int = 1000
    # Events per consumer batch: a `deliveries.reported` carries a whole callback (up to
    # max_receipts), so 100 of them is up to 100,000 receipts (and prefetch twice that).
    batch_size: int = 100
    batch_wait_ms: int = 200
    publish_retry_seconds: float = 1.0
    relay_interval_seconds: float = 1.0
    relay_older_than_seconds: float = 5.0

    def __post_init__(self):
        if self.settings.production and self.webhook_secret == DEVELOPMENT_WEBHOOK_SECRET:
            raise InsecureConfig(
                "CRM_WEBHOOK_SECRET must be set to a real secret when CRM_ENV=production")
        if not self.webhook_secret:
            raise InsecureConfig("CRM_WEBHOOK_SECRET must not be empty")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ReceiptsConfig:
        env = os.environ if env is None else env
        return cls(settings=Settings.from_env(env),
                   webhook_secret=env.get("CRM_WEBHOOK_SECRET", DEVELOPMENT_WEBHOOK_SECRET),
                   **numbers_from_env(cls, "RECEIPTS_", _FROM_ENV, env))

    @property
    def database_name(self) -> str:
        return self.settings.database_name("receipts")

    @property
    def deliveries_queue(self) -> str:
        return self.settings.queue_name("receipts", "deliveries")
