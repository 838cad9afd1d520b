"""The campaigns service's settings, read once from the environment."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.config import Settings, numbers_from_env

# Every tunable field, each from CAMPAIGNS_<FIELD> (CAMPAIGNS_SEND_RATE, ...).
_FROM_ENV = ("send_batch_size", "send_rate", "vendor_timeout_seconds", "vendor_retry_seconds",
             "dispatcher_batch_size", "dispatcher_prefetch", "sender_batch_size",
             "sender_prefetch", "sender_threads", "publish_retry_seconds",
             "relay_interval_seconds", "relay_older_than_seconds", "messages_scan_limit",
             "attribution_batch_size", "attribution_tick_seconds")


@dataclass(frozen=True)
class CampaignsConfig:
    settings: Settings = field(default_factory=Settings)
    # Messages per vendor call (the vendor takes batches; 500 keeps a call well under a second).
    send_batch_size: int = 500
    # Default messages per second per campaign in ONE sender process (0: as fast as
    # the vendor answers); a campaign may set its own `send_rate` at creation.
    send_rate: float = 0.0
    vendor_timeout_seconds: float = 15.0
    # How long a sender keeps retrying a vendor call (5xx, connection errors) before
    # it gives the batch back to the consumer loop (which retries it later).
    vendor_retry_seconds: float = 30.0
    dispatcher_batch_size: int = 8        # audience chunks (<= 1,000 recipients each) per batch
    dispatcher_prefetch: int = 16
    sender_batch_size: int = 4            # messages.queued events (<= 1,000 messages) per batch
    sender_prefetch: int = 8
    sender_threads: int = 4               # concurrent vendor calls per sender process
    publish_retry_seconds: float = 1.0    # the API's publish budget before the relay takes over
    relay_interval_seconds: float = 1.0
    relay_older_than_seconds: float = 5.0
    # A status-filtered page of the communications log stops after this many entries
    # looked at (a shorter page with a cursor): each costs a lookup by _id.
    messages_scan_limit: int = 2000
    # order.placed events per attribution batch (one sums write per campaign per batch).
    attribution_batch_size: int = 500
    # How often the attribution worker looks for new campaigns and completed audiences.
    attribution_tick_seconds: float = 2.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CampaignsConfig:
        env = os.environ if env is None else env
        return cls(settings=Settings.from_env(env),
                   **numbers_from_env(cls, "CAMPAIGNS_", _FROM_ENV, env))

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
