"""The composition root: builds ingest's dependencies for the web app and the relay.

Clients are created on first use in each process (after gunicorn forks),
never at import time (shared.wiring).
"""
from __future__ import annotations

from ingest.publishing import prompt_publisher
from ingest.store import IngestStore, SegmentsProfiles
from shared.backbone.outbox import EventLog
from shared.mongo import connect
from shared.wiring import Built, ServiceDependencies


class Dependencies(ServiceDependencies):
    """What the routes need: `store`, `event_log`, `profiles` (segments' profiles,
    read-only) and `readiness()` (shared.wiring)."""

    profiles = property(lambda self: self._wiring["profiles"])

    def _build(self) -> Built:
        config = self.config
        client = connect(config.settings)
        store = IngestStore(client, config.database_name,
                            preload_misses=config.customer_preload_misses,
                            preload_interval=config.customer_preload_interval_seconds,
                            cache_limit=config.cache_limit)
        publisher = prompt_publisher(config.settings, config.publish_retry_seconds,
                                     config.publish_holdoff_seconds)
        event_log = EventLog(client[config.database_name], publisher)
        profiles = SegmentsProfiles(client, config.settings.database_name("segments"))
        return {"client": client, "store": store, "event_log": event_log, "profiles": profiles}
