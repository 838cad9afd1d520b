"""Ingest's settings, read once from the environment."""
from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from shared.config import Settings, numbers_from_env

# Every tunable field, each from INGEST_<FIELD> (INGEST_MAX_RECORDS, INGEST_CACHE_LIMIT, ...).
_FROM_ENV = ("max_records", "max_body_bytes", "clock_skew_seconds", "publish_retry_seconds",
             "publish_holdoff_seconds", "relay_interval_seconds", "relay_older_than_seconds",
             "customer_preload_misses", "customer_preload_interval_seconds", "cache_limit")


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
        return cls(settings=Settings.from_env(env),
                   **numbers_from_env(cls, "INGEST_", _FROM_ENV, env))

    @property
    def clock_skew(self) -> timedelta:
        return timedelta(seconds=self.clock_skew_seconds)

    @property
    def database_name(self) -> str:
        return self.settings.database_name("ingest")
