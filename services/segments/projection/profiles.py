"""The customer profile projection: folding `customer.upserted` and `order.placed` into a profile.

Pure logic, no I/O. `apply_event(profile, envelope)` is idempotent and its
result does not depend on the order events arrive in, so a redelivery, a
retry that overtakes later events, or a replay of the whole log all end in
the same profile:

- orders are a set: the profile keeps the ids of the orders it counted
  (`projection.order_ids`), so an order is counted once; spend is summed as an
  exact decimal (`projection.spend_exact`) so the float `total_spend` does not
  depend on the order of additions;
- the customer's own fields are last-writer-wins by `(occurred_at, event_id)`
  of the customer event (`projection.customer_event`); an older or equal one
  is ignored;
- `last_order_at` is a max, `last_active_at` = max(last_visit_at, last_order_at).

An order that arrives before its customer creates a *stub* profile (no
customer event yet) that the customer event later fills; stubs are not
shown by the API (`is_stub`).

Profile document (collection `profiles`, `_id` = the customer's external_id):
    external_id, name, email, phone, city, tags (list), signed_up_at, visits,
    last_visit_at, total_spend (float, INR), order_count, last_order_at,
    last_active_at, and `projection` (bookkeeping, never shown by the API).
`projection.version` counts the changes the projector wrote (handlers.py bumps
it once per changed profile per batch; absent on profiles written before it
existed, read as 0): readers of `profile.updated` keep the highest version.
Times are tz-aware UTC datetimes truncated to milliseconds (what BSON dates
hold), so a profile computed here equals the one read back from the database.
"""
from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from segments.audience.rule_values import epoch_us

from shared.backbone.envelope import new_event
from shared.backbone.events import CUSTOMER_UPSERTED, ORDER_PLACED, PROFILE_UPDATED

BOOKKEEPING = "projection"
CUSTOMER_FIELDS = ("name", "email", "phone", "city", "tags", "signed_up_at", "visits",
                   "last_visit_at")
TIME_FIELDS = ("signed_up_at", "last_visit_at")
PROJECTED_EVENT_TYPES = (CUSTOMER_UPSERTED, ORDER_PLACED)
PUBLIC_FIELDS = ("external_id", *CUSTOMER_FIELDS, "total_spend", "order_count", "last_order_at",
                 "last_active_at")
PUBLIC_TIME_FIELDS = ("signed_up_at", "last_visit_at", "last_order_at", "last_active_at")
PRODUCER = "segments"
# profile.updated event ids are uuid5(this, "<external_id>\n<version>"): the same
# state announced twice (a redelivered batch) is the same event.
PROFILE_EVENT_NAMESPACE = uuid.UUID("4b0c6f7e-5d0e-4a49-9f3c-6a2f1d0e8b31")


class UnknownEvent(ValueError):
    """An event this projection does not fold (a binding mistake, not bad data)."""


def parse_time(value) -> datetime | None:
    """An ISO-8601 string (or datetime) as an aware UTC datetime at millisecond precision.

    Naive values are taken as UTC; a value that cannot be read is treated as absent
    rather than failing the event forever (ingest validated it once already)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        try:
            moment = datetime.fromisoformat(str(value).strip().replace("z", "Z"))
        except ValueError:
            return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def customer_id_of(envelope: dict) -> str:
    """The external_id of the customer whose profile an event changes."""
    event_type, data = envelope["event_type"], envelope["data"]
    if event_type == CUSTOMER_UPSERTED:
        return data["external_id"]
    if event_type == ORDER_PLACED:
        return data["customer_external_id"]
    raise UnknownEvent(f"the profile projection does not handle {event_type!r}")


def new_profile(external_id: str) -> dict:
    """A stub: a customer we have heard of only through orders so far."""
    return {
        "_id": external_id,
        "external_id": external_id,
        "name": None, "email": None, "phone": None, "city": None, "tags": [],
        "signed_up_at": None, "visits": None, "last_visit_at": None,
        "total_spend": 0.0, "order_count": 0, "last_order_at": None, "last_active_at": None,
        BOOKKEEPING: {"customer_event": None, "order_ids": [], "spend_exact": "0", "version": 0},
    }


def is_stub(profile: dict) -> bool:
    return profile[BOOKKEEPING]["customer_event"] is None


def apply_event(profile: dict | None, envelope: dict) -> dict:
    """The profile after `envelope`. Returns `profile` itself (same object) when the
    event changes nothing, otherwise a new dict; the input is never mutated."""
    customer_id = customer_id_of(envelope)
    current = profile if profile is not None else new_profile(customer_id)
    if envelope["event_type"] == CUSTOMER_UPSERTED:
        updated = _apply_customer(current, envelope)
    else:
        updated = _apply_order(current, envelope["data"])
    if updated is current:
        return profile if profile is not None else current
    updated["last_active_at"] = _latest(updated["last_visit_at"], updated["last_order_at"])
    return updated


def _event_version(occurred_at, event_id: str) -> tuple[datetime, str]:
    # Full precision here (not parse_time): two updates within a millisecond still order.
    moment = datetime.fromisoformat(str(occurred_at).replace("z", "Z"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment, event_id


def _apply_customer(profile: dict, envelope: dict) -> dict:
    applied = profile[BOOKKEEPING]["customer_event"]
    incoming = _event_version(envelope["occurred_at"], envelope["event_id"])
    if applied is not None and incoming <= _event_version(applied["occurred_at"],
                                                          applied["event_id"]):
        return profile
    data = envelope["data"]
    updated = copy.deepcopy(profile)
    for name in CUSTOMER_FIELDS:
        value = data.get(name)
        updated[name] = parse_time(value) if name in TIME_FIELDS else value
    updated["tags"] = list(data.get("tags") or [])
    updated[BOOKKEEPING]["customer_event"] = {"occurred_at": str(envelope["occurred_at"]),
                                              "event_id": envelope["event_id"]}
    return updated


def _apply_order(profile: dict, order: dict) -> dict:
    bookkeeping = profile[BOOKKEEPING]
    if order["external_id"] in bookkeeping["order_ids"]:
        return profile
    spend = Decimal(bookkeeping["spend_exact"]) + Decimal(str(order["amount"]))
    updated = {**profile, BOOKKEEPING: {
        **bookkeeping,
        "order_ids": [*bookkeeping["order_ids"], order["external_id"]],
        "spend_exact": str(spend),
    }}
    updated["total_spend"] = float(spend)
    updated["order_count"] = profile["order_count"] + 1
    updated["last_order_at"] = _latest(profile["last_order_at"], parse_time(order["placed_at"]))
    return updated


def _latest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


def public_view(profile: dict) -> dict:
    """The profile as API clients see it: no `_id`, no bookkeeping."""
    return {k: v for k, v in profile.items() if k not in ("_id", BOOKKEEPING)}


def version_of(profile: dict | None) -> int:
    """How many changes the projector wrote to this profile (0: none, or unknown)."""
    return 0 if profile is None else int(profile[BOOKKEEPING].get("version") or 0)


def with_version(profile: dict, version: int) -> dict:
    """A copy of `profile` (top level and bookkeeping) at `version`."""
    return {**profile, BOOKKEEPING: {**profile[BOOKKEEPING], "version": version}}


def iso_utc(moment: datetime | None) -> str | None:
    """`2024-03-01T10:00:00.000Z`: UTC, milliseconds, as the API shows times."""
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


NO_TIME_MS = -(2 ** 62)  # sorts before every real time


def epoch_ms(moment: datetime | None) -> int:
    """Milliseconds since 1970 (UTC; naive = UTC), NO_TIME_MS for None."""
    return NO_TIME_MS if moment is None else epoch_us(moment) // 1000


def announced(profile: dict) -> dict:
    """The data of `profile.updated`: the public fields as the customer GET shows
    them (times ISO), the version, and whether it is still a stub."""
    data = {name: profile.get(name) for name in PUBLIC_FIELDS}
    for name in PUBLIC_TIME_FIELDS:
        data[name] = iso_utc(data[name])
    data["tags"] = list(data["tags"] or [])
    data["version"] = version_of(profile)
    data["stub"] = is_stub(profile)
    return data


def profile_updated_event(profile: dict, cause: dict | None = None) -> dict:
    """The `profile.updated` envelope announcing `profile` at its version;
    `cause`: the (last) event that made it so, for correlation."""
    data = announced(profile)
    event_id = str(uuid.uuid5(PROFILE_EVENT_NAMESPACE, f"{data['external_id']}\n{data['version']}"))
    return new_event(PROFILE_UPDATED, data, producer=PRODUCER, event_id=event_id,
                     correlation_id=cause["correlation_id"] if cause else None,
                     causation_id=cause["event_id"] if cause else None)
