"""Fakes and helpers shared by unit tests (moved here so no test module imports another)."""
from __future__ import annotations

from campaigns.config import CampaignsConfig

from tests.support.fakes import FakeCampaignStore as FakeStore
from tests.support.fakes import FakeDeliveries, FakeEventLog


class FakeSegmentRules:
    def __init__(self, saved: dict):
        self._saved = saved

    def rules_of(self, segment_id):
        return self._saved.get(segment_id)


class FakeDependencies:
    def __init__(self):
        self.config = CampaignsConfig(send_rate=25.0)
        self.store, self.deliveries = FakeStore(), FakeDeliveries()
        self.event_log = FakeEventLog()
        self.segment_rules = FakeSegmentRules({"seg1": {"field": "visits", "op": "gt",
                                                        "value": 2}})

    def readiness(self):
        return {"database": True, "broker": True}
