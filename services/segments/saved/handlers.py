"""Keeping saved segments: one plain function per command.

Audience sizes come from the in-memory audience index (audience/holder.py).
"""
from __future__ import annotations

from datetime import datetime

from segments.audience.preview import ready_index
from segments.rules.language import Rule, rule_to_dict
from segments.saved.store import SegmentStore, new_segment_id


class SegmentNotFound(Exception):
    pass


def save_segment(name: str, rule: Rule, now: datetime, *, audience,
                 segments: SegmentStore) -> dict:
    """Save `rule` under `name` with its audience size now. Names need not be unique:
    they are labels, the id identifies a segment."""
    count = ready_index(audience).count(rule, now)
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
