"""The composition root: builds campaigns' dependencies for the web app and the workers.

Clients are created on first use in each process (after gunicorn forks), never at
import time (shared.wiring). `Dependencies` exposes what handlers take: `store`,
`segment_rules`, `deliveries`, `event_log`, `attribution_store`, plus `config` and
`readiness()`; tests pass fakes instead.
"""
from __future__ import annotations

from campaigns.config import CampaignsConfig
from campaigns.delivery.deliveries import Deliveries
from campaigns.delivery.sender import VendorClient
from campaigns.recipients.cap_store import CapStore
from campaigns.results.attribution_store import AttributionStore
from campaigns.store import CampaignStore, SegmentRules
from shared.backbone.outbox import service_event_log
from shared.mongo import connect
from shared.wiring import Built, ServiceDependencies


class Dependencies(ServiceDependencies):
    def __init__(self, config: CampaignsConfig, *, publish_retry_seconds: float | None = None):
        self._retry_for = (config.publish_retry_seconds if publish_retry_seconds is None
                           else publish_retry_seconds)
        super().__init__(config)

    segment_rules = property(lambda self: self._wiring["segment_rules"])
    deliveries = property(lambda self: self._wiring["deliveries"])
    cap_store = property(lambda self: self._wiring["cap_store"])
    attribution_store = property(lambda self: self._wiring["attribution_store"])
    # test sends (campaigns/delivery/testsend.py)
    vendor = property(lambda self: self._wiring["vendor"])

    def _build(self) -> Built:
        config, settings = self.config, self.config.settings
        client = connect(settings)
        return {
            "client": client,
            "store": CampaignStore(client[config.database_name]),
            "segment_rules": SegmentRules(client[settings.database_name("segments")]),
            "deliveries": Deliveries(client[settings.database_name("receipts")]),
            "cap_store": CapStore(client[config.database_name]),
            "attribution_store": AttributionStore(client[config.database_name]),
            # A request waits on the vendor a few seconds at most, not a sender's budget.
            "vendor": VendorClient(config.vendor_url, config.vendor_timeout_seconds,
                                   retry_seconds=min(config.vendor_retry_seconds, 5.0)),
            "event_log": service_event_log(settings, client[config.database_name],
                                           retry_for=self._retry_for),
        }
