"""The vendor simulator's settings, read once from the environment."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from shared.config import ServiceConfig, Settings, env_field

# The same development value receipts accepts outside production (receipts refuses it there).
DEVELOPMENT_WEBHOOK_SECRET = "dev-only-insecure-webhook-secret"


@dataclass(frozen=True)
class VendorConfig(ServiceConfig):
    failure_rate: float = env_field("VENDOR_SIM_FAILURE_RATE", 0.1)
    min_delay_ms: int = env_field("VENDOR_SIM_MIN_DELAY_MS", 100)
    max_delay_ms: int = env_field("VENDOR_SIM_MAX_DELAY_MS", 1000)
    # Outcomes are a pure function of (seed, message_id): a restart reports the same ones.
    seed: int = env_field("VENDOR_SIM_SEED", 0)
    # Receipts per callback: one signed POST carries up to this many.
    callback_batch: int = env_field("VENDOR_SIM_CALLBACK_BATCH", 1000)
    # Callbacks in flight at once: the webhook logs each batch before answering,
    # so one at a time would leave its threads (and the database) idle.
    callback_concurrency: int = env_field("VENDOR_SIM_CALLBACK_CONCURRENCY", 2)
    max_messages: int = env_field("VENDOR_SIM_MAX_MESSAGES", 1000)
    # from_env(): RECEIPTS_WEBHOOK_URL, else the receipts service's URL + its webhook path.
    webhook_url: str = ""
    webhook_secret: str = env_field("CRM_WEBHOOK_SECRET", DEVELOPMENT_WEBHOOK_SECRET)
    callback_timeout_seconds: float = env_field("VENDOR_SIM_CALLBACK_TIMEOUT_SECONDS", 30.0)
    # Backoff between failed callbacks grows up to this (not tunable).
    callback_max_backoff_seconds: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> VendorConfig:
        env = os.environ if env is None else env
        settings = Settings.from_env(env)
        default_url = settings.service_urls["receipts"] + "/webhooks/vendor/receipts"
        return super().from_env(env, settings=settings,
                                webhook_url=env.get("RECEIPTS_WEBHOOK_URL", default_url))

    @property
    def database_name(self) -> str:
        return self.settings.database_name("vendor_sim")
