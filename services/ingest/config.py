"""Ingest's settings, read once from the environment."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from shared.config import Settings, env_float, env_int


@dataclass(frozen=True)
class IngestConfig:
    settings: Settings = field(default_factory=Settings)
    # API.md: a batch holds at most 1,000 records.
    max_records: int = 1000
    # A 1,000-record batch of generous customers is well under 4 MB; the cap
    # stops a client from making a worker parse an arbitrarily large body.
    max_body_bytes: int = 8 * 1024 * 1024
    # Times slightly in the future are accepted: clients' clocks drift.
    clock_skew_seconds: float = 300.0
    # How long one request keeps retrying the broker before leaving the
    # events to the relay (they are already in the log and the outbox).
    publish_retry_seconds: float = 1.0
    # After a failed publish, requests skip the broker for this long instead
    # of each paying for a failed connection; the relay catches up.
    publish_holdoff_seconds: float = 5.0
    relay_interval_seconds: float = 1.0
    # The relay leaves young outbox batches to the request still publishing them.
    relay_older_than_seconds: float = 5.0
    # A request with this many customers unknown to this worker reloads every
    # customer id once (one scan) instead of looking each one up; 0 disables.
    customer_preload_misses: int = 100
    customer_preload_interval_seconds: float = 60.0
    # Known-id caches are cleared past this size to bound a worker's memory.
    cache_limit: int = 2_000_000

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IngestConfig:
        env = os.environ if env is None else env
        return cls(
            settings=Settings.from_env(env),
            max_records=env_int("INGEST_MAX_RECORDS", cls.max_records, env),
            max_body_bytes=env_int("INGEST_MAX_BODY_BYTES", cls.max_body_bytes, env),
            clock_skew_seconds=env_float("INGEST_CLOCK_SKEW_SECONDS", cls.clock_skew_seconds, env),
            publish_retry_seconds=env_float("INGEST_PUBLISH_RETRY_SECONDS",
                                            cls.publish_retry_seconds, env),
            publish_holdoff_seconds=env_float("INGEST_PUBLISH_HOLDOFF_SECONDS",
                                              cls.publish_holdoff_seconds, env),
            relay_interval_seconds=env_float("INGEST_RELAY_INTERVAL_SECONDS",
                                             cls.relay_interval_seconds, env),
            relay_older_than_seconds=env_float("INGEST_RELAY_OLDER_THAN_SECONDS",
                                               cls.relay_older_than_seconds, env),
            customer_preload_misses=env_int("INGEST_CUSTOMER_PRELOAD_MISSES",
                                            cls.customer_preload_misses, env),
            customer_preload_interval_seconds=env_float(
                "INGEST_CUSTOMER_PRELOAD_INTERVAL_SECONDS",
                cls.customer_preload_interval_seconds, env),
            cache_limit=env_int("INGEST_CACHE_LIMIT", cls.cache_limit, env),
        )

    @property
    def clock_skew(self) -> timedelta:
        return timedelta(seconds=self.clock_skew_seconds)

    @property
    def database_name(self) -> str:
        return self.settings.database_name("ingest")
