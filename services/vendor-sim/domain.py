"""Pure logic of the simulated vendor: provider ids, outcomes, signatures."""
from __future__ import annotations

import hashlib
import hmac
import json
import random
from dataclasses import dataclass

SENT, FAILED = "SENT", "FAILED"
FAILURE_REASONS = ("UNREACHABLE", "INVALID_NUMBER", "CARRIER_REJECTED")
# A failure that will happen again for every message to that address (a third of the
# failures): receipts say `permanent`, and the CRM suppresses the customer.
PERMANENT_REASONS = frozenset({"INVALID_NUMBER"})


def provider_message_id(message_id: str) -> str:
    """Derived from our message id, so a resend gets the same answer without a read."""
    return "pm_" + hashlib.sha256(message_id.encode()).hexdigest()[:24]


@dataclass(frozen=True)
class Outcome:
    status: str
    delay_ms: int
    reason: str | None


def outcome(message_id: str, *, seed: int, failure_rate: float,
            min_delay_ms: int, max_delay_ms: int) -> Outcome:
    """What happens to a message: a pure function of the seed and its id (a restart agrees)."""
    digest = hashlib.sha256(f"{seed}:{message_id}".encode()).digest()
    rng = random.Random(int.from_bytes(digest[:8], "big"))
    failed = rng.random() < failure_rate
    delay = rng.randint(min(min_delay_ms, max_delay_ms), max(min_delay_ms, max_delay_ms))
    reason = rng.choice(FAILURE_REASONS) if failed else None
    return Outcome(FAILED if failed else SENT, delay, reason)


def receipt(message: dict, result: Outcome, reported_at: str) -> dict:
    body = {"message_id": message["_id"], "provider_message_id": message["provider_message_id"],
            "status": result.status, "reported_at": reported_at, "reason": result.reason,
            "permanent": result.reason in PERMANENT_REASONS}
    if message.get("metadata"):
        body["metadata"] = message["metadata"]
    return body


def signed_body(receipts: list[dict], secret: str, timestamp: int) -> tuple[bytes, str]:
    """The callback body and its `X-Vendor-Signature` header value: HMAC-SHA256 of "<t>.<body>"."""
    body = json.dumps({"receipts": receipts}, separators=(",", ":")).encode()
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return body, f"t={timestamp},v1={digest}"
