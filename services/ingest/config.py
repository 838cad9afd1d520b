"""Ingest's settings, read once from the environment."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from shared.config import ServiceConfig, env_field


@dataclass(frozen=True)
class IngestConfig(ServiceConfig):
    # API.md: a batch holds at most 1,000 records.
    max_records: int = env_field("INGEST_MAX_RECORDS", 1000)
    # A 1,000-record batch of generous customers is well under 4 MB; the cap
    # stops a client from making a worker parse an arbitrarily large body.
    max_body_bytes: int = env_field("INGEST_MAX_BODY_BYTES", 8 * 1024 * 1024)
    # Times slightly in the future are accepted: clients' clocks drift.
    clock_skew_seconds: float = env_field("INGEST_CLOCK_SKEW_SECONDS", 300.0)
    # How long one request keeps retrying the broker before leaving the
    # events to the relay (they are already in the log and the outbox).
    publish_retry_seconds: float = env_field("INGEST_PUBLISH_RETRY_SECONDS", 1.0)
    # After a failed publish, requests skip the broker for this long instead
    # of each paying for a failed connection; the relay catches up.
    publish_holdoff_seconds: float = env_field("INGEST_PUBLISH_HOLDOFF_SECONDS", 5.0)
    relay_interval_seconds: float = env_field("INGEST_RELAY_INTERVAL_SECONDS", 1.0)
    # The relay leaves young outbox batches to the request still publishing them.
    relay_older_than_seconds: float = env_field("INGEST_RELAY_OLDER_THAN_SECONDS", 5.0)
    # A request with this many customers unknown to this worker reloads every
    # customer id once (one scan) instead of looking each one up; 0 disables.
    customer_preload_misses: int = env_field("INGEST_CUSTOMER_PRELOAD_MISSES", 100)
    customer_preload_interval_seconds: float = env_field(
        "INGEST_CUSTOMER_PRELOAD_INTERVAL_SECONDS", 60.0)
    # Known-id caches are cleared past this size to bound a worker's memory.
    cache_limit: int = env_field("INGEST_CACHE_LIMIT", 2_000_000)

    @property
    def clock_skew(self) -> timedelta:
        return timedelta(seconds=self.clock_skew_seconds)

    @property
    def database_name(self) -> str:
        return self.settings.database_name("ingest")
