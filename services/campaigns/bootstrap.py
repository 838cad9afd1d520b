"""The composition root: builds campaigns' dependencies for the web app and the workers.

Clients are created on first use in each process (after gunicorn forks), never at
import time (shared.wiring). `Dependencies` exposes what handlers take: `store`,
`segment_rules`, `deliveries`, `event_log`, plus `config` and `readiness()`; tests
pass fakes instead.
"""
from __future__ import annotations

from campaigns.config import CampaignsConfig
from campaigns.deliveries import Deliveries
from campaigns.store import CampaignStore, SegmentRules
from pymongo import MongoClient

from shared.backbone.outbox import EventLog
from shared.backbone.publisher import ThreadLocalPublisher
from shared.mongo import connect
from shared.wiring import Built, ServiceDependencies


def campaigns_event_log(config: CampaignsConfig, client: MongoClient, *,
                        retry_for: float) -> EventLog:
    """The campaigns event log (`events` + `outbox` of the campaigns database)."""
    publisher = ThreadLocalPublisher(config.settings, retry_for=retry_for)
    return EventLog(client[config.database_name], publisher)


class Dependencies(ServiceDependencies):
    def __init__(self, config: CampaignsConfig, *, publish_retry_seconds: float | None = None):
        self._retry_for = (config.publish_retry_seconds if publish_retry_seconds is None
                           else publish_retry_seconds)
        super().__init__(config)

    segment_rules = property(lambda self: self._wiring["segment_rules"])
    deliveries = property(lambda self: self._wiring["deliveries"])

    def _build(self) -> Built:
        config, settings = self.config, self.config.settings
        client = connect(settings)
        return {
            "client": client,
            "store": CampaignStore(client[config.database_name]),
            "segment_rules": SegmentRules(client[settings.database_name("segments")]),
            "deliveries": Deliveries(client[settings.database_name("receipts")]),
            "event_log": campaigns_event_log(config, client, retry_for=self._retry_for),
        }
