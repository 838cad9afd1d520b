"""The campaigns service's settings, read once from the environment."""
from __future__ import annotations

from dataclasses import dataclass

from shared.config import ServiceConfig, env_field


@dataclass(frozen=True)
class CampaignsConfig(ServiceConfig):
    # Messages per vendor call (the vendor takes batches; 500 keeps a call well under a second).
    send_batch_size: int = env_field("CAMPAIGNS_SEND_BATCH_SIZE", 500)
    # Default messages per second per campaign in ONE sender process (0: as fast as
    # the vendor answers); a campaign may set its own `send_rate` at creation.
    send_rate: float = env_field("CAMPAIGNS_SEND_RATE", 0.0)
    vendor_timeout_seconds: float = env_field("CAMPAIGNS_VENDOR_TIMEOUT_SECONDS", 15.0)
    # How long a sender keeps retrying a vendor call (5xx, connection errors) before
    # it gives the batch back to the consumer loop (which retries it later).
    vendor_retry_seconds: float = env_field("CAMPAIGNS_VENDOR_RETRY_SECONDS", 30.0)
    # Audience chunks (<= 1,000 recipients each) per dispatcher batch.
    dispatcher_batch_size: int = env_field("CAMPAIGNS_DISPATCHER_BATCH_SIZE", 8)
    dispatcher_prefetch: int = env_field("CAMPAIGNS_DISPATCHER_PREFETCH", 16)
    # messages.queued events (<= 1,000 messages) per sender batch.
    sender_batch_size: int = env_field("CAMPAIGNS_SENDER_BATCH_SIZE", 4)
    sender_prefetch: int = env_field("CAMPAIGNS_SENDER_PREFETCH", 8)
    # Concurrent vendor calls per sender process.
    sender_threads: int = env_field("CAMPAIGNS_SENDER_THREADS", 4)
    # The API's publish budget before the relay takes over.
    publish_retry_seconds: float = env_field("CAMPAIGNS_PUBLISH_RETRY_SECONDS", 1.0)
    relay_interval_seconds: float = env_field("CAMPAIGNS_RELAY_INTERVAL_SECONDS", 1.0)
    relay_older_than_seconds: float = env_field("CAMPAIGNS_RELAY_OLDER_THAN_SECONDS", 5.0)
    # A status-filtered page of the communications log stops after this many entries
    # looked at (a shorter page with a cursor): each costs a lookup by _id.
    messages_scan_limit: int = env_field("CAMPAIGNS_MESSAGES_SCAN_LIMIT", 2000)
    # order.placed events per attribution batch (one sums write per campaign per batch).
    attribution_batch_size: int = env_field("CAMPAIGNS_ATTRIBUTION_BATCH_SIZE", 500)
    # How often the attribution worker looks for new campaigns and completed audiences.
    attribution_tick_seconds: float = env_field("CAMPAIGNS_ATTRIBUTION_TICK_SECONDS", 2.0)

    @property
    def database_name(self) -> str:
        return self.settings.database_name("campaigns")

    @property
    def vendor_url(self) -> str:
        return self.settings.service_urls["vendor_sim"]

    @property
    def audience_queue(self) -> str:
        # single-active-consumer (dispatcher.py): not "audience", which had no such argument
        return self.settings.queue_name("campaigns", "dispatch")

    @property
    def attribution_queue(self) -> str:
        return self.settings.queue_name("campaigns", "attribution")

    @property
    def sends_queue(self) -> str:
        return self.settings.queue_name("campaigns", "sends")
