"""A message's unsubscribe link was used: its communications-log entry records when.

The dispatcher takes `customer.consent_changed` (ingest) events whose source is
the link and sets `unsubscribed_at` on the entry of that campaign and customer
(by `_id`, so a redelivery writes the same value again). The consent itself is
the profile's (segments); later campaigns leave the customer out from there.
"""
from __future__ import annotations

import re
from datetime import datetime

from shared.backbone.events import CUSTOMER_CONSENT_CHANGED

CAMPAIGN_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # also a safe collection-name suffix


def note_unsubscribe(envelope: dict, *, store) -> bool:
    """True when a log entry was marked."""
    data = envelope["data"]
    if (envelope["event_type"] != CUSTOMER_CONSENT_CHANGED or data.get("source") != "link"
            or data.get("marketing_consent") != "unsubscribed"
            or not CAMPAIGN_ID.match(data.get("campaign_id") or "")):
        return False
    at = datetime.fromisoformat(str(envelope["occurred_at"]).replace("Z", "+00:00"))
    return store.mark_unsubscribed(data["campaign_id"], data["external_id"], at)
