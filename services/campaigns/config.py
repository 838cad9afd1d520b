"""The campaigns service's settings, read once from the environment."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.config import Settings, env_float, env_int


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

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CampaignsConfig:
        env = os.environ if env is None else env
        return cls(
            settings=Settings.from_env(env),
            send_batch_size=env_int("CAMPAIGNS_SEND_BATCH_SIZE", cls.send_batch_size, env),
            send_rate=env_float("CAMPAIGNS_SEND_RATE", cls.send_rate, env),
            vendor_timeout_seconds=env_float("CAMPAIGNS_VENDOR_TIMEOUT_SECONDS",
                                             cls.vendor_timeout_seconds, env),
            vendor_retry_seconds=env_float("CAMPAIGNS_VENDOR_RETRY_SECONDS",
                                           cls.vendor_retry_seconds, env),
            dispatcher_batch_size=env_int("CAMPAIGNS_DISPATCHER_BATCH_SIZE",
                                          cls.dispatcher_batch_size, env),
            dispatcher_prefetch=env_int("CAMPAIGNS_DISPATCHER_PREFETCH",
                                        cls.dispatcher_prefetch, env),
            sender_batch_size=env_int("CAMPAIGNS_SENDER_BATCH_SIZE", cls.sender_batch_size, env),
            sender_prefetch=env_int("CAMPAIGNS_SENDER_PREFETCH", cls.sender_prefetch, env),
            sender_threads=env_int("CAMPAIGNS_SENDER_THREADS", cls.sender_threads, env),
            publish_retry_seconds=env_float("CAMPAIGNS_PUBLISH_RETRY_SECONDS",
                                            cls.publish_retry_seconds, env),
            relay_interval_seconds=env_float("CAMPAIGNS_RELAY_INTERVAL_SECONDS",
                                             cls.relay_interval_seconds, env),
            relay_older_than_seconds=env_float("CAMPAIGNS_RELAY_OLDER_THAN_SECONDS",
                                               cls.relay_older_than_seconds, env),
            messages_scan_limit=env_int("CAMPAIGNS_MESSAGES_SCAN_LIMIT",
                                        cls.messages_scan_limit, env),
        )

    @property
    def database_name(self) -> str:
        return self.settings.database_name("campaigns")

    @property
    def vendor_url(self) -> str:
        return self.settings.service_urls["vendor_sim"]

    @property
    def audience_queue(self) -> str:
        return self.settings.queue_name("campaigns", "audience")

    @property
    def sends_queue(self) -> str:
        return self.settings.queue_name("campaigns", "sends")
