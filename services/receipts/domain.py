"""Pure logic of receipts: signatures, message ids, delivery events, which status wins."""
from __future__ import annotations

import hashlib
import hmac
import re
import uuid

from shared.backbone.envelope import new_event
from shared.backbone.events import DELIVERIES_REPORTED, DELIVERY_REPORTED

SENT, FAILED = "SENT", "FAILED"
FINAL_STATUSES = (SENT, FAILED)
# "<campaign_id>.<attempt>.<n>" from campaigns; the campaign id is what comes before the first dot.
MESSAGE_ID = re.compile(r"^(?P<campaign_id>[A-Za-z0-9_-]{1,64})\.[A-Za-z0-9_.:-]{1,200}$")
_EVENT_NAMESPACE = uuid.UUID("5b0f3c1e-8a52-4d0b-9a3e-2f6d7c1b9e40")


class BadSignature(Exception):
    """The callback is not signed with our secret, or not recently."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def verify_signature(secret: str, header: str | None, body: bytes, *, now: float,
                     freshness_seconds: float) -> None:
    """`X-Vendor-Signature: t=<unix>,v1=<hex>`, HMAC-SHA256 over "<t>.<body>".

    Raises BadSignature."""
    if not header:
        raise BadSignature("missing X-Vendor-Signature")
    parts = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(parts.get("t", ""))
    except ValueError as error:
        raise BadSignature("malformed signature timestamp") from error
    if abs(now - timestamp) > freshness_seconds:
        raise BadSignature("signature timestamp outside the freshness window")
    expected = sign(secret, timestamp, body).split("v1=", 1)[1]
    given = [value for key, value in (p.split("=", 1) for p in header.split(",") if "=" in p)
             if key == "v1"]
    if not any(hmac.compare_digest(expected, candidate) for candidate in given):
        raise BadSignature("signature does not match")


def campaign_of(message_id: str) -> str | None:
    match = MESSAGE_ID.match(message_id)
    return match.group("campaign_id") if match else None


def delivery_event_id(message_id: str, status: str) -> str:
    """The id of an old per-receipt `delivery.reported` event (still read, no longer written)."""
    return str(uuid.uuid5(_EVENT_NAMESPACE, f"{message_id}:{status}"))


def receipts_event_id(pairs: list[tuple[str, str]]) -> str:
    """The id of a `deliveries.reported` event: the same (message_id, status) set, the same id."""
    content = "\n".join(f"{message_id}:{status}" for message_id, status in sorted(pairs))
    return str(uuid.uuid5(_EVENT_NAMESPACE, "deliveries.reported\n" + content))


def delivery_of(receipt: dict) -> dict:
    """A receipt of the callback as a delivery (the fields of `delivery.reported`)."""
    customer = (receipt.get("metadata") or {}).get("customer_external_id")
    reported_at = receipt["reported_at"]
    if not isinstance(reported_at, str):
        reported_at = reported_at.isoformat()
    return {"message_id": receipt["message_id"],
            "campaign_id": campaign_of(receipt["message_id"]),
            "customer_external_id": None if customer is None else str(customer),
            "provider_message_id": receipt.get("provider_message_id"),
            "status": receipt["status"],
            "reported_at": reported_at,
            "reason": receipt.get("reason"),
            # segments suppresses the customer of a permanent failure (profiles.py)
            "permanent": bool(receipt.get("permanent")) and receipt["status"] == FAILED}


def deliveries_reported(receipts: list[dict], correlation_id: str) -> dict:
    """ONE `deliveries.reported` event for a callback: its distinct (message_id, status)
    receipts, the first of each kept, in the callback's order."""
    deliveries, seen = [], set()
    for receipt in receipts:
        key = (receipt["message_id"], receipt["status"])
        if key not in seen:
            seen.add(key)
            deliveries.append(delivery_of(receipt))
    return new_event(DELIVERIES_REPORTED, {"receipts": deliveries}, producer="receipts",
                     correlation_id=correlation_id, event_id=receipts_event_id(list(seen)))


def deliveries_in(events: list[dict]) -> list[dict]:
    """The deliveries carried by `delivery.reported` and `deliveries.reported` events,
    in event order (other event types are skipped)."""
    deliveries = []
    for event in events:
        if event["event_type"] == DELIVERIES_REPORTED:
            deliveries.extend(event["data"]["receipts"])
        elif event["event_type"] == DELIVERY_REPORTED:
            deliveries.append(event["data"])
    return deliveries


def first_statuses(deliveries: list[dict]) -> dict[str, dict[str, dict]]:
    """campaign_id -> message_id -> the first delivery of that message in the batch."""
    by_campaign: dict[str, dict[str, dict]] = {}
    for delivery in deliveries:
        messages = by_campaign.setdefault(delivery["campaign_id"], {})
        messages.setdefault(delivery["message_id"], delivery)
    return by_campaign
