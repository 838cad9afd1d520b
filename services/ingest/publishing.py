"""Publishing for a request that must not wait on a broker that is down.

shared's Publisher keeps retrying for up to a minute, right for a consumer
but not for an HTTP request whose events are already durable in the log and
the outbox. This one retries for a short budget, then gives up and, for a
hold-off period, does not even try: the outbox relay publishes the batches
once the broker is back.
"""
from __future__ import annotations

import threading
import time

from tenacity import stop_after_delay

from shared.config import Settings
from shared.publisher import Publisher, PublishError


class PromptPublisher:
    """One shared Publisher per thread, with a short retry budget and a hold-off after failure."""

    def __init__(self, settings: Settings, retry_seconds: float = 1.0, holdoff_seconds: float = 5.0):
        self._settings = settings
        self._holdoff = holdoff_seconds
        self._local = threading.local()
        self._failed_at = float("-inf")
        self._publish_within_budget = Publisher._publish_with_retry.retry_with(
            stop=stop_after_delay(retry_seconds))

    def publish(self, envelopes: list[dict]) -> None:
        if not envelopes:
            return
        if time.monotonic() - self._failed_at < self._holdoff:
            raise PublishError("the broker failed recently; publishing is left to the relay")
        publisher = getattr(self._local, "publisher", None)
        if publisher is None:
            publisher = self._local.publisher = Publisher(self._settings)
        try:
            self._publish_within_budget(publisher, envelopes)
        except Exception:
            self._failed_at = time.monotonic()
            raise
        self._failed_at = float("-inf")

    def close(self) -> None:
        publisher = getattr(self._local, "publisher", None)
        if publisher is not None:
            publisher.close()
