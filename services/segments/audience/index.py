"""An in-memory columnar index of customer profiles for instant audience counts.

One numpy column per rule field (index_columns.py), one row per customer,
plus `phone`: the index holds every public field of a profile, so it also
answers what an audience's recipients look like (`shown`) without reading
the database. Each profile's orders (placed_at, amount) are kept apart for
order windows (`in_last`, order_windows.py) and never shown.

Upserts are amortised O(1): arrays grow by doubling. Removing a profile only
marks its row dead (customers are not deleted through the API; memory is
reclaimed by building a fresh index).

Each row remembers the `version` of the profile it holds (the projector's
change counter, see profiles.py), so `upsert_newer` can take updates in any
order and more than once: a replica that loads the database while its queue
already collects `profile.updated` events ends with the newest of both.

Thread safety: one lock around every write and every evaluation. A count over
1,000,000 rows holds it for tens of milliseconds, which the consumer thread
can afford to wait. `match_ids` evaluates under the lock and then yields from
that snapshot of rows; an id removed meanwhile is skipped.
"""
from __future__ import annotations

import bisect
import pickle
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any, BinaryIO

import numpy as np

from segments.audience.columns import compare, new_columns
from segments.audience.order_windows import OrderWindows
from segments.audience.storage.customer_ids import CustomerIds
from segments.audience.text_columns import MIN_CAPACITY, grown
from segments.rules.language import (
    AllOf,
    AnyOf,
    Condition,
    Not,
    Rule,
    rule_to_dict,
    top_level_conditions,
)
from segments.rules.values import epoch_us

NO_VERSION = -1


@dataclass(frozen=True)
class Preview:
    """One evaluation of a rule: the count, a sample of ids and the breakdown."""

    count: int
    sample: list[str]
    breakdown: list[dict]
    index_size: int


class AudienceIndex:
    """Profiles are dicts keyed by `external_id` (str, required) with the rule
    fields of rules.FIELDS; absent keys and None are missing values. Times are
    datetimes (naive = UTC) or ISO strings; `tags` a list of str or None;
    `version` an int (0 when absent), `phone` a str or None. Other keys are ignored.
    Rules come from rules.parse_rules and `now` must be timezone-aware."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ids = CustomerIds()  # row -> external_id and back (None: removed)
        self._alive = np.zeros(0, dtype=bool)
        self._versions = np.zeros(0, dtype=np.int64)
        self._columns = new_columns()
        self._windows = OrderWindows()  # each profile's orders, for in_last

    def __len__(self) -> int:
        return self._ids.live

    def __getstate__(self) -> dict:
        """What pickle keeps: everything but the lock (the ids keep no lookup, they
        rebuild it on load). Pickle through `dump`, which holds the lock."""
        state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict) -> None:
        columns = {name: type(column) for name, column in state["_columns"].items()}
        if (columns != {name: type(column) for name, column in new_columns().items()}
                or "_windows" not in state or not isinstance(state["_ids"], CustomerIds)):
            # A snapshot from before a column was added: the caller reads the profiles instead.
            raise TypeError("an audience index snapshot with other columns")
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def __contains__(self, external_id: str) -> bool:
        return self._ids.row(external_id) is not None

    def dump(self, file: BinaryIO) -> None:
        """The whole index into `file` (pickle protocol 5), consistent: under the lock;
        read back by snapshot.py."""
        with self._lock:
            pickle.dump(self, file, protocol=5)

    def version(self, external_id: str) -> int | None:
        with self._lock:
            row = self._ids.row(external_id)
            return None if row is None else int(self._versions[row])

    def upsert(self, profile: dict) -> None:
        self.upsert_many((profile,))

    def upsert_many(self, profiles: Iterable[dict]) -> None:
        """Store every profile as given (the last one per id wins), whatever its version."""
        latest = {profile["external_id"]: profile for profile in profiles}
        with self._lock:
            self._store_profiles(list(latest.values()))

    def upsert_newer(self, profiles: Iterable[dict]) -> int:
        """Store the profiles whose `version` is above the one held for their id
        (a new id always is); returns how many were stored."""
        latest: dict[str, dict] = {}
        for profile in profiles:
            held = latest.get(profile["external_id"])
            if held is None or _version(profile) > _version(held):
                latest[profile["external_id"]] = profile
        with self._lock:
            held = self._ids.rows(latest)
            newer = [(profile, row) for profile, row in zip(latest.values(), held, strict=True)
                     if row is None or self._versions[row] < _version(profile)]
            self._store_profiles([profile for profile, _ in newer], [row for _, row in newer])
        return len(newer)

    def _store_profiles(self, profiles: list[dict], rows: list[int | None] | None = None) -> None:
        """`rows`: each profile's row if already looked up (None: not held)."""
        if not profiles:
            return
        prepared = self._prepare(profiles)
        orders = self._windows.prepare([profile.get("orders") for profile in profiles])
        versions = np.fromiter(map(_version, profiles), np.int64, len(profiles))
        if rows is None:
            rows = self._ids.rows(profile["external_id"] for profile in profiles)
        rows = self._rows_for(profiles, rows)
        self._store(rows, prepared)
        self._windows.store(rows, orders)
        self._versions[rows] = versions

    def remove(self, external_id: str) -> bool:
        with self._lock:
            row = self._ids.row(external_id)
            if row is None:
                return False
            self._ids.remove(row)
            self._store(np.array([row]), self._prepare([{}]))
            self._windows.store(np.array([row]), self._windows.prepare([None]))
            self._alive[row] = False
            return True

    def _rows_for(self, profiles: list[dict], rows: list[int | None]) -> np.ndarray:
        """Each profile's row: the one held, or a new one for a new id."""
        new = [at for at, row in enumerate(rows) if row is None]
        if new:
            added = self._ids.add([profiles[at]["external_id"] for at in new]).tolist()
            for at, row in zip(new, added, strict=True):
                rows[at] = row
            if len(self._ids) > len(self._alive):
                capacity = max(2 * len(self._alive), len(self._ids), MIN_CAPACITY)
                self._alive = grown(self._alive, capacity, False)
                self._versions = grown(self._versions, capacity, NO_VERSION)
                for column in (*self._columns.values(), self._windows):
                    column.resize(capacity)
        return np.array(rows, dtype=np.int64)

    def _prepare(self, profiles: list[dict]) -> dict[str, Any]:
        """Converts every value first, so a bad profile raises before any
        column changes."""
        return {name: column.prepare([profile.get(name) for profile in profiles])
                for name, column in self._columns.items()}

    def _store(self, rows: np.ndarray, prepared: dict[str, Any]) -> None:
        for name, column in self._columns.items():
            column.store(rows, prepared[name])
        self._alive[rows] = True

    def count(self, rule: Rule, now: datetime) -> int:
        with self._lock:
            return int(np.count_nonzero(self._audience(rule, now)))

    def read_audience(self, rule: Rule, now: datetime, read: Callable):
        """`read(audience, columns, ids)` under the lock (audience/check.py)."""
        with self._lock:
            return read(self._audience(rule, now), self._columns, self._ids)

    def match_ids(self, rule: Rule, now: datetime) -> Iterator[str]:
        with self._lock:
            rows, ids = np.flatnonzero(self._audience(rule, now)), self._ids
        return (external_id for external_id in map(ids.__getitem__, rows.tolist())
                if external_id is not None)

    def shown(self, external_ids: list[str]) -> list[dict | None]:
        """Per id, the profile held as the customer GET shows its public fields
        (index_columns: text as written, times ISO UTC with ms and `Z`), or None
        for an id not held."""
        with self._lock:
            rows = self._ids.rows(external_ids)
            held = np.array([row for row in rows if row is not None], dtype=np.int64)
            names = list(self._columns)
            values = zip(*(self._columns[name].shown(held) for name in names), strict=True)
        found = iter(values)
        return [None if row is None else
                {"external_id": external_id, **dict(zip(names, next(found), strict=True))}
                for external_id, row in zip(external_ids, rows, strict=True)]

    def suppressed_page(self, after: str | None, limit: int) -> list[dict]:
        """The suppressed customers (API.md, the suppression list) by external_id,
        the first `limit` after `after`, as `shown` gives them."""
        with self._lock:
            rows = np.flatnonzero(self._columns["suppressed"].values[: len(self._ids)]
                                  & self._alive[: len(self._ids)])
            ids = sorted(self._ids[row] for row in rows.tolist())
        if after is not None:
            ids = ids[bisect.bisect_right(ids, after):]
        return [shown for shown in self.shown(ids[:limit]) if shown is not None]

    def _sample(self, audience: np.ndarray, k: int) -> list[str]:
        """Up to k matching ids spread evenly over the audience in row order:
        deterministic, and not only the oldest customers."""
        rows = np.flatnonzero(audience)
        if len(rows) > k:
            rows = rows[np.linspace(0, len(rows) - 1, k).round().astype(np.int64)]
        return [self._ids[row] for row in rows.tolist()]

    def breakdown(self, rule: Rule, now: datetime) -> list[dict]:
        """Per top-level part: its own count, and the count of the parts so far
        combined as the rule combines them (and for all, or for any)."""
        with self._lock:
            return self._breakdown(rule, now)[0]

    def _breakdown(self, rule: Rule, now: datetime) -> tuple[list[dict], np.ndarray]:
        """The breakdown, and the audience it ends with (the whole rule's)."""
        combine = np.logical_or if isinstance(rule, AnyOf) else np.logical_and
        steps, so_far = [], None
        for part in top_level_conditions(rule):
            own = self._audience(part, now)
            so_far = own if so_far is None else combine(so_far, own)
            steps.append({"rule": rule_to_dict(part), "count": int(np.count_nonzero(own)),
                          "cumulative": int(np.count_nonzero(so_far))})
        return steps, so_far

    def preview(self, rule: Rule, now: datetime, k: int = 10) -> Preview:
        """Count, sample and breakdown from one evaluation under one lock, so the
        three always agree (the count is the breakdown's last cumulative)."""
        with self._lock:
            steps, audience = self._breakdown(rule, now)
            return Preview(count=steps[-1]["cumulative"], sample=self._sample(audience, k),
                           breakdown=steps, index_size=self._ids.live)

    def totals(self) -> dict:
        """Over every profile held: how many, how many have ordered, their orders and
        spend summed (numpy over the columns: milliseconds at a million rows)."""
        with self._lock:
            n = len(self._ids)
            alive = self._alive[:n]
            counts = self._columns["order_count"].values[:n][alive]
            spend = self._columns["total_spend"].values[:n][alive]
            return {"customers": int(np.count_nonzero(alive)),
                    "customers_with_orders": int(np.count_nonzero(counts > 0)),
                    "orders": int(np.nansum(counts)),
                    "spend": float(np.nansum(spend))}

    def _audience(self, rule: Rule, now: datetime) -> np.ndarray:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        audience = self._evaluate(rule, epoch_us(now), len(self._ids))
        audience &= self._alive[: len(self._ids)]
        return audience

    def _evaluate(self, rule: Rule, now_us: int, n: int) -> np.ndarray:
        """A fresh boolean array per rule (callers may modify it in place)."""
        if isinstance(rule, Condition) and rule.window is not None:
            return compare(self._windows.values(rule, now_us, n), rule)
        if isinstance(rule, Condition):
            return self._columns[rule.field].match(rule, now_us, n)
        if isinstance(rule, Not):
            return ~self._evaluate(rule.rule, now_us, n)
        is_all = isinstance(rule, AllOf)
        result = self._evaluate(rule.rules[0], now_us, n)
        for child in rule.rules[1:]:
            if (not result.any()) if is_all else result.all():
                break  # already decided for every row
            if is_all:
                result &= self._evaluate(child, now_us, n)
            else:
                result |= self._evaluate(child, now_us, n)
        return result


def _version(profile: dict) -> int:
    return int(profile.get("version") or 0)
