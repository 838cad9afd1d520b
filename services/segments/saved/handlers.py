"""Previewing audiences and keeping saved segments: one plain function per command.

Counts come from the in-memory audience index (audience.py); the sample's
profiles are read from the database by `_id` (the one fast FerretDB lookup),
so they show every field as the customer GET does.
"""
from __future__ import annotations

from datetime import datetime

from segments.projection.profiles import is_stub, public_view
from segments.audience.rules import Rule, rule_to_dict
from segments.saved.store import SegmentStore, new_segment_id

SAMPLE_SIZE = 10


class IndexNotReady(Exception):
    """The audience index is still loading: counts would be wrong."""

    def __init__(self, status: dict):
        loaded, total = status.get("loaded"), status.get("total")
        progress = f" ({loaded:,} of about {total:,} profiles read)" if (
            loaded is not None and total) else ""
        super().__init__(f"The audience index is still loading{progress}; try again shortly.")
        self.status = status


class SegmentNotFound(Exception):
    pass


def _ready_index(audience):
    if not audience.ready:
        raise IndexNotReady(audience.status())
    return audience.index


def preview(rule: Rule, now: datetime, *, audience, profiles) -> dict:
    """Count, sample profiles and breakdown of `rule` at `now`."""
    result = _ready_index(audience).preview(rule, now, SAMPLE_SIZE)
    found = profiles.find_many(result.sample)
    sample = [public_view(profile) for profile in map(found.get, result.sample)
              if profile is not None and not is_stub(profile)]
    return {"count": result.count, "sample": sample, "breakdown": result.breakdown,
            "evaluated_at": now, "index_size": result.index_size}


def business_overview(*, audience) -> dict:
    """Customers, orders and revenue over the audience index, which holds customers
    only: stubs (orders whose customer is not ingested yet) are left out, their
    orders and spend too, until their customer arrives."""
    totals = _ready_index(audience).totals()
    return {"customers": totals["customers"],
            "customers_with_orders": totals["customers_with_orders"],
            "orders": totals["orders"], "revenue": round(totals["spend"], 2), "currency": "INR"}


def save_segment(name: str, rule: Rule, now: datetime, *, audience,
                 segments: SegmentStore) -> dict:
    """Save `rule` under `name` with its audience size now. Names need not be unique:
    they are labels, the id identifies a segment."""
    count = _ready_index(audience).count(rule, now)
    segment = {"_id": new_segment_id(), "name": name, "rules": rule_to_dict(rule),
               "count": count, "created_at": now, "updated_at": now}
    segments.insert(segment)
    return segment


def list_segments(limit: int, before: str | None, *,
                  segments: SegmentStore) -> tuple[list[dict], str | None]:
    """One page, newest first, and the last id when more follow."""
    page = segments.page(before, limit + 1)
    items = page[:limit]
    return items, (items[-1]["_id"] if len(page) > limit else None)


def get_segment(segment_id: str, now: datetime, *, audience, segments: SegmentStore,
                parse) -> dict:
    """The segment and its audience size now (`current_count` None while loading).
    `parse`: rules.parse_rules, to evaluate the saved canonical rules."""
    segment = segments.find(segment_id)
    if segment is None:
        raise SegmentNotFound(segment_id)
    current = None
    if audience.ready:
        current = audience.index.count(parse(segment["rules"]), now)
    return {**segment, "current_count": current,
            "evaluated_at": now if current is not None else None}


def rename_segment(segment_id: str, name: str, now: datetime, *,
                   segments: SegmentStore) -> dict:
    if not segments.rename(segment_id, name, now):
        raise SegmentNotFound(segment_id)
    segment = segments.find(segment_id)
    if segment is None:  # deleted in between
        raise SegmentNotFound(segment_id)
    return segment


def delete_segment(segment_id: str, *, segments: SegmentStore) -> None:
    if not segments.delete(segment_id):
        raise SegmentNotFound(segment_id)
