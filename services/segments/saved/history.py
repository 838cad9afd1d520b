"""How big a saved segment has been: one size a day, and any taken on demand.

Collection `segment_sizes` (written only by the segments API): one document
per size, `_id` = `<segment id>/<day>/daily` for the day's size or
`<segment id>/<moment to the microsecond>/now` for one taken on demand. The
day's `_id` makes it exactly once per day however many replicas (or passes)
try: a second insert is a duplicate key (11000) and changes nothing. A
segment's sizes are one `_id` range read (`<id>/` .. `<id>0`; "0" follows "/"),
the one kind of filter FerretDB runs in SQL (INFRA.md).

The day's sizes are counted on the API process's audience index by a thread
(`DailySizes`) that wakes every `interval` seconds and records a size for
every saved segment that has none for today yet; a replica whose index is
still loading records nothing until it is ready.
"""
from __future__ import annotations

import logging
import os
import threading
from datetime import UTC, datetime

from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from segments.audience.preview import IndexNotReady, ready_index
from segments.rules.language import RuleError, parse_rules

LOG = logging.getLogger(__name__)
SEGMENT_SIZES = "segment_sizes"
DAILY, ON_DEMAND = "daily", "on_demand"
MAX_SIZES_SHOWN = 400  # more than a year of days, plus sizes taken on demand


def size_id(segment_id: str, at: datetime, kind: str) -> str:
    if kind == DAILY:
        return f"{segment_id}/{at:%Y-%m-%d}/daily"
    return f"{segment_id}/{at.astimezone(UTC):%Y-%m-%dT%H:%M:%S.%fZ}/now"


class SizeHistory:
    def __init__(self, db: Database):
        self._sizes = db[SEGMENT_SIZES]

    def record(self, segment_id: str, at: datetime, count: int, kind: str) -> dict | None:
        """The size recorded, or None when this day's (or moment's) was already there."""
        size = {"_id": size_id(segment_id, at, kind), "segment_id": segment_id, "at": at,
                "count": int(count), "kind": kind}
        try:
            self._sizes.insert_one(size)
        except DuplicateKeyError:
            return None
        return size

    def of(self, segment_id: str) -> list[dict]:
        """The segment's sizes, oldest first (the latest MAX_SIZES_SHOWN)."""
        found = self._sizes.find({"_id": {"$gt": f"{segment_id}/", "$lt": f"{segment_id}0"}})
        sizes = sorted(found, key=lambda size: (_utc(size["at"]), size["_id"]))
        return sizes[-MAX_SIZES_SHOWN:]


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def all_segments(segments, page_size: int = 200):
    before = None
    while True:
        page = segments.page(before, page_size)
        yield from page
        if len(page) < page_size:
            return
        before = page[-1]["_id"]


def record_daily_sizes(now: datetime, *, segments, history: SizeHistory, audience) -> int:
    """Today's size of every saved segment that has none yet; how many were recorded."""
    index = ready_index(audience)
    recorded = 0
    for segment in all_segments(segments):
        try:
            rule = parse_rules(segment["rules"])
        except RuleError:  # saved before a rule change: shown, never counted again
            continue
        if history.record(segment["_id"], now, index.count(rule, now), DAILY) is not None:
            recorded += 1
    return recorded


class DailySizes:
    """The thread that keeps each saved segment's size of the day."""

    def __init__(self, database, audience, interval_seconds: float, clock=None):
        self._database, self._audience = database, audience
        self._interval = interval_seconds
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock, self._pid = threading.Lock(), None
        self._stopping = threading.Event()

    def ensure_started(self) -> None:
        with self._lock:
            if self._pid == os.getpid():
                return
            self._pid = os.getpid()  # a forked child has none of its parent's threads
            threading.Thread(target=self._run, name="segment-sizes", daemon=True).start()

    def stop(self) -> None:
        self._stopping.set()

    def _run(self) -> None:
        # The first pass soon after start (the index is loading meanwhile), then every interval.
        wait = min(self._interval, 30.0)
        while not self._stopping.wait(wait):
            wait = self._interval
            try:
                record_daily_sizes(self._clock(), segments=self._database.segments(),
                                   history=SizeHistory(self._database.database()),
                                   audience=self._audience)
            except IndexNotReady:
                wait = min(self._interval, 30.0)
            except PyMongoError as error:
                LOG.warning("segment sizes not recorded: %s", error)
