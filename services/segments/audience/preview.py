"""Previewing an audience: its size, a sample of profiles and a breakdown, now.

Counts come from the in-memory audience index (holder.py); the sample's
profiles are read from the database by `_id` (the one fast FerretDB lookup),
so they show every field as the customer GET does.
"""
from __future__ import annotations

from datetime import datetime

from segments.projection.profiles import is_stub, public_view
from segments.rules.language import Rule
from shared.metrics import PREVIEW_LATENCY

SAMPLE_SIZE = 10


class IndexNotReady(Exception):
    """The audience index is still loading: counts would be wrong."""

    def __init__(self, status: dict):
        loaded, total = status.get("loaded"), status.get("total")
        progress = f" ({loaded:,} of about {total:,} profiles read)" if (
            loaded is not None and total) else ""
        super().__init__(f"The audience index is still loading{progress}; try again shortly.")
        self.status = status


def ready_index(audience):
    if not audience.ready:
        raise IndexNotReady(audience.status())
    return audience.index


def preview(rule: Rule, now: datetime, *, audience, profiles) -> dict:
    """Count, sample profiles and breakdown of `rule` at `now`."""
    index = ready_index(audience)
    with PREVIEW_LATENCY.time():
        result = index.preview(rule, now, SAMPLE_SIZE)
    found = profiles.find_many(result.sample)
    sample = [public_view(profile) for profile in map(found.get, result.sample)
              if profile is not None and not is_stub(profile)]
    return {"count": result.count, "sample": sample, "breakdown": result.breakdown,
            "evaluated_at": now, "index_size": result.index_size}
