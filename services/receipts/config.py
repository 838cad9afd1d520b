"""The receipts service's settings, read once from the environment."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.config import Settings, env_float, env_int

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
    batch_size: int = 1000
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
        return cls(
            settings=Settings.from_env(env),
            webhook_secret=env.get("CRM_WEBHOOK_SECRET", DEVELOPMENT_WEBHOOK_SECRET),
            freshness_seconds=env_float("RECEIPTS_FRESHNESS_SECONDS", cls.freshness_seconds, env),
            max_receipts=env_int("RECEIPTS_MAX_RECEIPTS", cls.max_receipts, env),
            batch_size=env_int("RECEIPTS_BATCH_SIZE", cls.batch_size, env),
            batch_wait_ms=env_int("RECEIPTS_BATCH_WAIT_MS", cls.batch_wait_ms, env),
            publish_retry_seconds=env_float("RECEIPTS_PUBLISH_RETRY_SECONDS",
                                            cls.publish_retry_seconds, env),
        )

    @property
    def database_name(self) -> str:
        return self.settings.database_name("receipts")

    @property
    def deliveries_queue(self) -> str:
        return self.settings.queue_name("receipts", "deliveries")
