"""The composition root: receipts' store and event log, built once per process after fork."""
from __future__ import annotations

from receipts.config import ReceiptsConfig
from receipts.store import DeliveryStore
from shared.backbone.outbox import EventLog, service_event_log
from shared.mongo import connect
from shared.wiring import Built, ServiceDependencies


def receipts_event_log(config: ReceiptsConfig, client, retry_for: float) -> EventLog:
    return service_event_log(config.settings, client[config.database_name], retry_for=retry_for)


class Dependencies(ServiceDependencies):
    """What the webhook needs: `event_log` and `readiness()` (shared.wiring)."""

    def _build(self) -> Built:
        client = connect(self.config.settings)
        return {"client": client,
                "store": DeliveryStore(client[self.config.database_name]),
                "event_log": receipts_event_log(self.config, client,
                                                self.config.publish_retry_seconds)}
