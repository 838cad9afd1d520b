"""The vendor simulator's settings, read once from the environment."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.config import Settings, numbers_from_env

# Each from VENDOR_SIM_<FIELD> (VENDOR_SIM_SEED, ...); the callback backoff is not tunable.
_FROM_ENV = ("failure_rate", "min_delay_ms", "max_delay_ms", "seed", "callback_batch",
             "callback_concurrency", "max_messages", "callback_timeout_seconds")

# The same development value receipts accepts outside production (receipts refuses it there).
DEVELOPMENT_WEBHOOK_SECRET = "dev-only-insecure-webhook-secret"


@dataclass(frozen=True)
class VendorConfig:
    settings: Settings = field(default_factory=Settings)
    failure_rate: float = 0.1
    min_delay_ms: int = 100
    max_delay_ms: int = 1000
    # Outcomes are a pure function of (seed, message_id): a restart reports the same ones.
    seed: int = 0
    # Receipts per callback: one signed POST carries up to this many.
    callback_batch: int = 1000
    # Callbacks in flight at once: the webhook logs each batch before answering,
    # so one at a time would leave its threads (and the database) idle.
    callback_concurrency: int = 2
    max_messages: int = 1000
    webhook_url: str = ""
    webhook_secret: str = DEVELOPMENT_WEBHOOK_SECRET
    callback_timeout_seconds: float = 30.0
    # Backoff between failed callbacks grows up to this.
    callback_max_backoff_seconds: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> VendorConfig:
        env = os.environ if env is None else env
        settings = Settings.from_env(env)
        default_url = settings.service_urls["receipts"] + "/webhooks/vendor/receipts"
        return cls(settings=settings,
                   webhook_url=env.get("RECEIPTS_WEBHOOK_URL", default_url),
                   webhook_secret=env.get("CRM_WEBHOOK_SECRET", DEVELOPMENT_WEBHOOK_SECRET),
                   **numbers_from_env(cls, "VENDOR_SIM_", _FROM_ENV, env))

    @property
    def database_name(self) -> str:
        return self.settings.database_name("vendor_sim")
