"""The customer profile projection: folding `customer.upserted` and `order.placed` into a profile.

Pure logic, no I/O. `apply_event(profile, envelope)` is idempotent and its
result does not depend on the order events arrive in, so a redelivery, a
retry that overtakes later events, or a replay of the whole log all end in
the same profile:

- orders are a set: the profile keeps the ids of the orders it counted
  (`projection.order_ids`), so an order is counted once; spend is summed as an
  exact decimal (`projection.spend_exact`); each order's placed_at and amount
  are kept for order windows (`projection.orders`; order_fold.py);
- the customer's own fields are last-writer-wins by `(occurred_at, event_id)`,
  field by field (field_versions.py): a record writes only the fields it
  carries, so an update keeps what it omits; `marketing_consent` also changes
  through `customer.consent_changed` (the API, the unsubscribe link), and
  `marketing_consent_at` is when the winning change happened;
- `suppressed` (with `suppression_reason`, `suppressed_since`,
  `suppression_campaign_id`) is last-writer-wins between the vendor's
  permanent failures (receipts' `deliveries.reported`, by `reported_at`) and
  `customer.suppression_lifted`;
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

from segments.projection import field_versions
from segments.projection.order_fold import window_orders, with_order
from segments.rules.values import epoch_us
from shared import times as shared_times
from shared.backbone.envelope import new_event
from shared.backbone.events import (
    CUSTOMER_CONSENT_CHANGED,
    CUSTOMER_SUPPRESSION_LIFTED,
    CUSTOMER_UPSERTED,
    DELIVERIES_REPORTED,
    ORDER_PLACED,
    PROFILE_UPDATED,
)

BOOKKEEPING = "projection"
CUSTOMER_FIELDS = ("name", "email", "phone", "city", "tags", "signed_up_at", "visits",
                   "last_visit_at", "marketing_consent")
TIME_FIELDS = ("signed_up_at", "last_visit_at")
SUPPRESSION_FIELDS = ("suppressed", "suppression_reason", "suppressed_since",
                      "suppression_campaign_id")
# The events the projector's queue is bound to; deliveries.reported is read only for
# its permanent failures (profile_events), which become PERMANENT_FAILURE events.
PROJECTED_EVENT_TYPES = (CUSTOMER_UPSERTED, ORDER_PLACED, CUSTOMER_CONSENT_CHANGED,
                         CUSTOMER_SUPPRESSION_LIFTED, DELIVERIES_REPORTED)
PERMANENT_FAILURE = "delivery.failed_permanently"  # internal to the fold, never published
PUBLIC_FIELDS = ("external_id", *CUSTOMER_FIELDS, "marketing_consent_at", *SUPPRESSION_FIELDS,
                 "total_spend", "order_count", "last_order_at", "last_active_at")
PUBLIC_TIME_FIELDS = ("signed_up_at", "last_visit_at", "last_order_at", "last_active_at",
                      "marketing_consent_at", "suppressed_since")
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
    if event_type in (CUSTOMER_UPSERTED, CUSTOMER_CONSENT_CHANGED, CUSTOMER_SUPPRESSION_LIFTED):
        return data["external_id"]
    if event_type in (ORDER_PLACED, PERMANENT_FAILURE):
        return data["customer_external_id"]
    raise UnknownEvent(f"the profile projection does not handle {event_type!r}")


def profile_events(envelope: dict) -> list[dict]:
    """The events the fold takes from one logged or delivered event: itself, or for
    `deliveries.reported` one PERMANENT_FAILURE per permanently failed receipt
    that names its customer (versioned by `reported_at` and message id), or none."""
    if envelope["event_type"] != DELIVERIES_REPORTED:
        return [envelope] if envelope["event_type"] in PROJECTED_EVENT_TYPES else []
    return [{**envelope, "event_type": PERMANENT_FAILURE, "event_id": receipt["message_id"],
             "occurred_at": receipt["reported_at"], "data": receipt}
            for receipt in envelope["data"]["receipts"]
            if receipt.get("permanent") and receipt["status"] == "FAILED"
            and receipt.get("customer_external_id")]


def new_profile(external_id: str) -> dict:
    """A stub: a customer we have heard of only through orders so far."""
    return {
        "_id": external_id,
        "external_id": external_id,
        "name": None, "email": None, "phone": None, "city": None, "tags": [],
        "signed_up_at": None, "visits": None, "last_visit_at": None,
        "marketing_consent": "subscribed", "marketing_consent_at": None,
        "suppressed": False, "suppression_reason": None, "suppressed_since": None,
        "suppression_campaign_id": None,
        "total_spend": 0.0, "order_count": 0, "last_order_at": None, "last_active_at": None,
        BOOKKEEPING: {"customer_event": None, "order_ids": [], "spend_exact": "0",
                      "orders": {"placed_at": [], "amount": []}, "version": 0},
    }


def _with_defaults(profile: dict) -> dict:
    """A profile written before consent and suppression existed reads as subscribed
    and not suppressed."""
    if "marketing_consent" in profile and "suppressed" in profile:
        return profile
    return {**{name: value for name, value in new_profile(profile["_id"]).items()
               if name in ("marketing_consent", "marketing_consent_at", *SUPPRESSION_FIELDS)},
            **profile}


def is_stub(profile: dict) -> bool:
    return profile[BOOKKEEPING]["customer_event"] is None


def apply_event(profile: dict | None, envelope: dict) -> dict:
    """The profile after `envelope`. Returns `profile` itself (same object) when the
    event changes nothing, otherwise a new dict; the input is never mutated."""
    customer_id = customer_id_of(envelope)
    current = _with_defaults(profile) if profile is not None else new_profile(customer_id)
    event_type = envelope["event_type"]
    if event_type == CUSTOMER_UPSERTED:
        updated = _apply_customer(current, envelope)
    elif event_type == CUSTOMER_CONSENT_CHANGED:
        updated = _apply_consent(current, envelope)
    elif event_type in (PERMANENT_FAILURE, CUSTOMER_SUPPRESSION_LIFTED):
        updated = _apply_suppression(current, envelope)
    else:
        updated = _apply_order(current, envelope["data"])
    if updated is current:
        return profile if profile is not None else current
    updated["last_active_at"] = _latest(updated["last_visit_at"], updated["last_order_at"])
    return updated


def _apply_customer(profile: dict, envelope: dict) -> dict:
    """The fields the record carries, each where this event is newer than its writer."""
    bookkeeping, data = profile[BOOKKEEPING], envelope["data"]
    incoming = field_versions.event_version(envelope["occurred_at"], envelope["event_id"])
    applied = bookkeeping["customer_event"]
    newest = applied is None or incoming > field_versions.event_version(
        applied["occurred_at"], applied["event_id"])
    carried = [name for name in CUSTOMER_FIELDS if name in data]
    written = field_versions.newer_fields(bookkeeping, carried, incoming)
    if not written and not newest:
        return profile
    updated = copy.deepcopy(profile)
    for name in written:
        value = data[name]
        updated[name] = parse_time(value) if name in TIME_FIELDS else value
    if "tags" in written:
        updated["tags"] = list(data["tags"] or [])
    if "marketing_consent" in written:
        updated["marketing_consent_at"] = parse_time(envelope["occurred_at"])
    updated[BOOKKEEPING] = field_versions.record_fields(
        bookkeeping, written, CUSTOMER_FIELDS, incoming, envelope["occurred_at"],
        becomes_customer_event=newest)
    return updated


def _apply_consent(profile: dict, envelope: dict) -> dict:
    incoming = field_versions.event_version(envelope["occurred_at"], envelope["event_id"])
    if not field_versions.newer_fields(profile[BOOKKEEPING], ["marketing_consent"], incoming):
        return profile
    updated = {**profile, "marketing_consent": envelope["data"]["marketing_consent"],
               "marketing_consent_at": parse_time(envelope["occurred_at"])}
    updated[BOOKKEEPING] = field_versions.record_fields(
        profile[BOOKKEEPING], ["marketing_consent"], CUSTOMER_FIELDS, incoming,
        envelope["occurred_at"], becomes_customer_event=False)
    return updated


def _apply_suppression(profile: dict, envelope: dict) -> dict:
    """A permanent failure suppresses, a lift clears; the later of them wins."""
    bookkeeping = profile[BOOKKEEPING]
    incoming = field_versions.event_version(envelope["occurred_at"], envelope["event_id"])
    applied = bookkeeping.get("suppression_event")
    if applied is not None and incoming <= field_versions.event_version(
            applied["occurred_at"], applied["event_id"]):
        return profile
    data = envelope["data"]
    failure = envelope["event_type"] == PERMANENT_FAILURE
    updated = {**profile, "suppressed": failure,
               "suppression_reason": data.get("reason") if failure else None,
               "suppressed_since": parse_time(envelope["occurred_at"]) if failure else None,
               "suppression_campaign_id": data.get("campaign_id") if failure else None}
    updated[BOOKKEEPING] = {**bookkeeping, "suppression_event": field_versions.stamp(
        incoming, envelope["occurred_at"])}
    return updated


def _apply_order(profile: dict, order: dict) -> dict:
    placed_at = parse_time(order["placed_at"])
    bookkeeping = with_order(profile[BOOKKEEPING], order, placed_at)
    if bookkeeping is None:
        return profile
    updated = {**profile, BOOKKEEPING: bookkeeping}
    updated["total_spend"] = float(bookkeeping["spend_exact"])
    updated["order_count"] = profile["order_count"] + 1
    updated["last_order_at"] = _latest(profile["last_order_at"], placed_at)
    return updated


def _latest(*moments: datetime | None) -> datetime | None:
    present = [m for m in moments if m is not None]
    return max(present) if present else None


def public_view(profile: dict) -> dict:
    """The profile as API clients see it: no `_id`, no bookkeeping."""
    return {k: v for k, v in _with_defaults(profile).items() if k not in ("_id", BOOKKEEPING)}


def version_of(profile: dict | None) -> int:
    """How many changes the projector wrote to this profile (0: none, or unknown)."""
    return 0 if profile is None else int(profile[BOOKKEEPING].get("version") or 0)


def with_version(profile: dict, version: int) -> dict:
    """A copy of `profile` (top level and bookkeeping) at `version`."""
    return {**profile, BOOKKEEPING: {**profile[BOOKKEEPING], "version": version}}


def iso_utc(moment: datetime | None) -> str | None:
    """`2024-03-01T10:00:00.000Z`: UTC, milliseconds, as the API shows times."""
    return shared_times.iso_utc(moment)  # four-digit years, which strftime("%Y") drops


NO_TIME_MS = -(2 ** 62)  # sorts before every real time


def epoch_ms(moment: datetime | None) -> int:
    """Milliseconds since 1970 (UTC; naive = UTC), NO_TIME_MS for None."""
    return NO_TIME_MS if moment is None else epoch_us(moment) // 1000


def announced(profile: dict) -> dict:
    """The data of `profile.updated`: the public fields as the customer GET shows
    them (times ISO), the version, whether it is still a stub, and `orders`
    ({"placed_at": [epoch ms], "amount": [...]}, for order windows; not public)."""
    profile = _with_defaults(profile)
    data = {name: profile.get(name) for name in PUBLIC_FIELDS}
    for name in PUBLIC_TIME_FIELDS:
        data[name] = iso_utc(data[name])
    data["tags"] = list(data["tags"] or [])
    data["version"] = version_of(profile)
    data["stub"] = is_stub(profile)
    data["orders"] = window_orders(profile[BOOKKEEPING])
    return data


def profile_updated_event(profile: dict, cause: dict | None = None) -> dict:
    """The `profile.updated` envelope announcing `profile` at its version;
    `cause`: the (last) event that made it so, for correlation."""
    data = announced(profile)
    event_id = str(uuid.uuid5(PROFILE_EVENT_NAMESPACE, f"{data['external_id']}\n{data['version']}"))
    return new_event(PROFILE_UPDATED, data, producer=PRODUCER, event_id=event_id,
                     correlation_id=cause["correlation_id"] if cause else None,
                     causation_id=cause["event_id"] if cause else None)
