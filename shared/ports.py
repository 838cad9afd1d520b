"""The ports that handlers take as keyword-only dependencies, as typing.Protocol.

Each port has one real adapter and one hand-written fake (tests/support/fakes.py);
tests/integration/shared/test_port_contracts.py runs one contract against both,
so a fake cannot drift from what it stands for.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Protocol


class EventLogPort(Protocol):
    """shared.backbone.outbox.EventLog: log a batch of events durably, then publish it."""

    def append(self, batch: list[dict]) -> bool:
        """Log every event once by id and publish the batch; False if publishing was
        left to the relay. Appending an event again logs nothing new."""

    def relay_pending(self, older_than: timedelta = ...) -> int:
        """Publish the logged batches whose producer did not finish; how many events."""


class ProfileStorePort(Protocol):
    """segments.projection.profile_store.ProfileStore: profiles by external_id."""

    def find(self, external_id: str) -> dict | None: ...

    def find_many(self, external_ids: list[str]) -> dict[str, dict | None]: ...

    def insert_new(self, profiles: list[dict]) -> list[dict]:
        """Insert profiles not stored yet; returns those that already existed (unchanged)."""

    def replace(self, profiles: list[dict]) -> None: ...
