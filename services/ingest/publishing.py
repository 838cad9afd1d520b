"""Publishing for a request that must not wait on a broker that is down.

A request's events are durable in the log and the outbox before it
publishes, so it retries the broker only briefly (`retry_for`) and then
leaves the batch to the outbox relay. After a failure it does not even try
for a hold-off period: otherwise every request during an outage would pay
for its own failed connection attempts.
"""
from __future__ import annotations

import time

from shared.backbone.publisher import PublishError, ThreadLocalPublisher, Unroutable
from shared.config import Settings


class PromptPublisher:
    """Wraps a publisher (anything with `publish(envelopes)`) with the hold-off."""

    def __init__(self, publisher, holdoff_seconds: float = 5.0):
        self._publisher = publisher
        self._holdoff = holdoff_seconds
        self._failed_at = float("-inf")

    def publish(self, envelopes: list[dict]) -> None:
        if not envelopes:
            return
        if time.monotonic() - self._failed_at < self._holdoff:
            raise PublishError("the broker failed moments ago; the outbox relay will publish")
        try:
            self._publisher.publish(envelopes)
        except Unroutable:
            # The broker is up (no consumer queue is bound yet): no reason to hold off.
            raise
        except Exception:
            self._failed_at = time.monotonic()
            raise
        self._failed_at = float("-inf")


def prompt_publisher(settings: Settings, retry_seconds: float,
                     holdoff_seconds: float) -> PromptPublisher:
    return PromptPublisher(ThreadLocalPublisher(settings, retry_for=retry_seconds), holdoff_seconds)
