"""The composition root: builds ingest's dependencies for the web app and the relay.

Clients are created on first use in each process (after gunicorn forks),
never at import time.
"""
from __future__ import annotations

import os
import threading

from ingest.config import IngestConfig
from ingest.publishing import prompt_publisher
from ingest.store import IngestStore
from shared import broker
from shared.mongo import connect
from shared.outbox import EventLog


class Dependencies:
    """What the routes need: `store`, `event_log` and `readiness()`. Tests pass fakes instead."""

    def __init__(self, config: IngestConfig):
        self.config = config
        self._lock = threading.Lock()
        self._pid = None
        self._built: dict = {}

    @property
    def store(self) -> IngestStore:
        return self._get()["store"]

    @property
    def event_log(self) -> EventLog:
        return self._get()["event_log"]

    def readiness(self) -> dict[str, bool]:
        return {"database": self.store.reachable(),
                "broker": broker.broker_reachable(self.config.settings)}

    def close(self) -> None:
        built, self._built, self._pid = self._built, {}, None
        if built:
            built["client"].close()

    def _get(self) -> dict:
        with self._lock:
            if self._pid != os.getpid():
                self._built = self._build()
                self._pid = os.getpid()
            return self._built

    def _build(self) -> dict:
        config = self.config
        client = connect(config.settings)
        store = IngestStore(client, config.database_name,
                            preload_misses=config.customer_preload_misses,
                            preload_interval=config.customer_preload_interval_seconds,
                            cache_limit=config.cache_limit)
        publisher = prompt_publisher(config.settings, config.publish_retry_seconds,
                                     config.publish_holdoff_seconds)
        event_log = EventLog(client[config.database_name], publisher)
        return {"client": client, "store": store, "event_log": event_log}
