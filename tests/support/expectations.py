"""What profiles must look like after a set of accepted customers and orders,
computed independently of the projector (for e2e checks)."""
from __future__ import annotations

from datetime import datetime


def at(text: str | None) -> datetime | None:
    if text is None:
        return None
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def expected_profiles(customers: dict[str, dict], orders: dict[str, dict]) -> dict[str, dict]:
    expected = {cid: {**c, "total_spend": 0.0, "order_count": 0, "last_order_at": None}
                for cid, c in customers.items()}
    for order in orders.values():
        profile = expected[order["customer_external_id"]]
        profile["total_spend"] += order["amount"]
        profile["order_count"] += 1
        placed = at(order["placed_at"])
        if profile["last_order_at"] is None or placed > profile["last_order_at"]:
            profile["last_order_at"] = placed
    for profile in expected.values():
        times = [t for t in (at(profile.get("last_visit_at")), profile["last_order_at"]) if t]
        profile["last_active_at"] = max(times) if times else None
    return expected


def mismatch(profile: dict, want: dict) -> str | None:
    for field in ("name", "email", "phone", "city", "visits", "order_count"):
        if profile.get(field) != want.get(field):
            return f"{field}: {profile.get(field)!r} != {want.get(field)!r}"
    if sorted(profile.get("tags") or []) != sorted(want.get("tags") or []):
        return f"tags: {profile.get('tags')} != {want.get('tags')}"
    if abs(profile["total_spend"] - want["total_spend"]) > 0.005:
        return f"total_spend: {profile['total_spend']} != {want['total_spend']}"
    for field in ("last_order_at", "last_active_at"):
        if at(profile.get(field)) != want[field]:
            return f"{field}: {profile.get(field)} != {want[field]}"
    return None
