"""The receipts service's settings, read once from the environment."""
from __future__ import annotations

from dataclasses import dataclass

from shared.config import ServiceConfig, env_field

# Clearly a development value: a production config (CRM_ENV=production) refuses it.
DEVELOPMENT_WEBHOOK_SECRET = "dev-only-insecure-webhook-secret"


class InsecureConfig(RuntimeError):
    """A production config that would accept receipts signed with the public development secret."""


@dataclass(frozen=True)
class ReceiptsConfig(ServiceConfig):
    webhook_secret: str = env_field("CRM_WEBHOOK_SECRET", DEVELOPMENT_WEBHOOK_SECRET)
    # A signature older (or newer) than this is refused: a captured callback
    # cannot be replayed later.
    freshness_seconds: float = env_field("RECEIPTS_FRESHNESS_SECONDS", 300.0)
    max_receipts: int = env_field("RECEIPTS_MAX_RECEIPTS", 1000)
    # Events per consumer batch: a `deliveries.reported` carries a whole callback (up to
    # max_receipts), so 100 of them is up to 100,000 receipts (and prefetch twice that).
    batch_size: int = env_field("RECEIPTS_BATCH_SIZE", 100)
    batch_wait_ms: int = env_field("RECEIPTS_BATCH_WAIT_MS", 200)
    publish_retry_seconds: float = env_field("RECEIPTS_PUBLISH_RETRY_SECONDS", 1.0)
    # The relay's timings are not tunable.
    relay_interval_seconds: float = 1.0
    relay_older_than_seconds: float = 5.0

    def __post_init__(self):
        if self.settings.production and self.webhook_secret == DEVELOPMENT_WEBHOOK_SECRET:
            raise InsecureConfig(
                "CRM_WEBHOOK_SECRET must be set to a real secret when CRM_ENV=production")
        if not self.webhook_secret:
            raise InsecureConfig("CRM_WEBHOOK_SECRET must not be empty")

    @property
    def database_name(self) -> str:
        return self.settings.database_name("receipts")

    @property
    def deliveries_queue(self) -> str:
        return self.settings.queue_name("receipts", "deliveries")
