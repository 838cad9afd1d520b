"""The senders' gate: no message of a paused or cancelled campaign reaches the vendor.

The gate reads a campaign's `control` by `_id` (~1 ms) and trusts an `active`
answer for `ttl` seconds, so a sending campaign costs about one read a second
per sender. It never trusts a cached `paused` or `cancelled`: it reads again
before dropping anything. So a message is dropped only if its campaign was
paused or cancelled when the gate looked, after the message was logged, and the
dispatcher's resume (which reads the log after the campaign shows `active`)
queues it again (campaigns/delivery/control.py). Dropped messages are acked unsent and
stay PENDING in the communications log.

It wraps the sender's vendor client and pacer (sender.build_sender) instead of
changing them: checked before the pacer, a dropped batch holds no sender thread
and spends none of its campaign's rate; checked again right before the vendor
call, a pause also stops batches that were waiting for their turn.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from campaigns.domain import ACTIVE
from campaigns.store import CampaignStore
from shared.mongo import connect

log = logging.getLogger(__name__)


class SendGate:
    def __init__(self, control_of: Callable[[str], str | None], ttl: float = 1.0,
                 clock: Callable[[], float] = time.monotonic):
        """`control_of(campaign_id)`: "active", "paused", "cancelled", or None for a
        campaign the database does not know (not ours to stop: it may send)."""
        self._control_of, self._ttl, self._clock = control_of, ttl, clock
        self._active_at: dict[str, float] = {}
        self._lock = threading.Lock()

    def allows(self, campaign_id: str) -> bool:
        now = self._clock()
        with self._lock:
            seen = self._active_at.get(campaign_id)
        if seen is not None and now - seen < self._ttl:
            return True
        control = self._control_of(campaign_id) or ACTIVE
        with self._lock:
            if control == ACTIVE:
                self._active_at[campaign_id] = now
            else:
                self._active_at.pop(campaign_id, None)
        return control == ACTIVE


class GatedPacer:
    """The sender's pacer, skipped for batches the gate will drop."""

    def __init__(self, pacer, gate: SendGate):
        self._pacer, self._gate = pacer, gate

    def wait(self, campaign_id: str, count: int, rate: float) -> float:
        if not self._gate.allows(campaign_id):
            return 0.0
        return self._pacer.wait(campaign_id, count, rate)


class GatedVendor:
    """The vendor client, refusing to send a paused or cancelled campaign's batch."""

    def __init__(self, vendor, gate: SendGate):
        self._vendor, self._gate = vendor, gate

    def send(self, messages: list[dict]) -> list[dict]:
        campaign_id = messages[0]["metadata"]["campaign_id"] if messages else None
        if campaign_id is not None and not self._gate.allows(campaign_id):
            log.info("messages of a paused or cancelled campaign dropped unsent",
                     extra={"campaign_id": campaign_id, "messages": len(messages)})
            return []
        return self._vendor.send(messages)


def campaign_gate(config) -> SendGate:
    """The gate on this suite's campaigns database (its own client, made on first read)."""
    client = connect(config.settings)
    return SendGate(CampaignStore(client[config.database_name]).control_of)
