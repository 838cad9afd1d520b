"""An in-memory columnar index of customer profiles for instant audience counts.

Each rule field is one numpy column, one row per customer (rows never move,
so "row order" is first-seen order and stays stable):

- numbers: float64, NaN when missing (NaN compares unequal to everything,
  which is exactly the "missing never equals" rule of rules.py);
- times: int64 epoch microseconds, MISSING = int64 min (so `older_than`,
  which is `t < cutoff`, includes missing values for free);
- city / email / name: int32 codes into a per-column dictionary of casefolded
  values (code 0 = no value). `eq` is one integer compare; `in`, `contains`,
  `starts_with` build a boolean table over the distinct values and gather it
  by code, so the string work runs once per distinct value, not per row.
  Scans for `contains` / `starts_with` are cached per needle and extended
  incrementally as new distinct values arrive (the dictionary only grows);
- tags: an append-only log of (tag code, row) entries; replacing a profile
  kills its old entries (code 0) and the log is compacted once more than half
  of it is dead. A tag test is a table gather over the log plus one scatter.

Upserts are amortised O(1): arrays grow by doubling. Removing a profile only
marks its row dead (customers are not deleted through the API; memory is
reclaimed by building a fresh index).

Thread safety: one lock around every write and every evaluation. A count over
1,000,000 rows holds it for tens of milliseconds, which the consumer thread
can afford to wait. `match_ids` evaluates under the lock and then yields from
that snapshot of rows; an id removed meanwhile is skipped.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime, timedelta
from itertools import islice, repeat
from typing import Any

import numpy as np

from segments.rules import (
    FIELDS,
    NEGATED_OPS,
    NUMBER,
    TAGS,
    TEXT,
    TEXT_TESTS,
    AllOf,
    AnyOf,
    Condition,
    Not,
    Rule,
    epoch_us,
    rule_to_dict,
    top_level_conditions,
)

MISSING = np.iinfo(np.int64).min
SCAN_CACHE_SIZE = 32
_MIN_CAPACITY = 1024


def _grown(array: np.ndarray, capacity: int, fill: Any) -> np.ndarray:
    bigger = np.full(capacity, fill, dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


def _to_epoch_us(moment: Any) -> int:
    if moment is None:
        return MISSING
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return epoch_us(moment)


class _NumberColumn:
    def __init__(self) -> None:
        self.values = np.full(0, np.nan)

    def resize(self, capacity: int) -> None:
        self.values = _grown(self.values, capacity, np.nan)

    def prepare(self, values: list) -> np.ndarray:
        return np.array(values, dtype=np.float64)

    def store(self, rows: np.ndarray, prepared: np.ndarray) -> None:
        self.values[rows] = prepared

    def match(self, rule: Condition, now_us: int, n: int) -> np.ndarray:
        x, operand = self.values[:n], rule.operand
        if rule.op == "between":
            return (x >= operand[0]) & (x <= operand[1])
        if rule.op == "in":
            return np.isin(x, operand)
        return {"eq": np.equal, "ne": np.not_equal, "gt": np.greater, "gte": np.greater_equal,
                "lt": np.less, "lte": np.less_equal}[rule.op](x, operand)


class _TimeColumn:
    def __init__(self) -> None:
        self.values = np.full(0, MISSING, dtype=np.int64)

    def resize(self, capacity: int) -> None:
        self.values = _grown(self.values, capacity, MISSING)

    def prepare(self, values: list) -> np.ndarray:
        return np.fromiter(map(_to_epoch_us, values), np.int64, len(values))

    def store(self, rows: np.ndarray, prepared: np.ndarray) -> None:
        self.values[rows] = prepared

    def match(self, rule: Condition, now_us: int, n: int) -> np.ndarray:
        t, op = self.values[:n], rule.op
        if op == "before":
            return (t < rule.operand) & (t != MISSING)
        if op == "after":
            return t > rule.operand
        if op == "within":
            return t >= now_us - rule.operand
        if op == "older_than":
            return t < now_us - rule.operand
        return (t != MISSING) if rule.operand else (t == MISSING)


class _Dictionary:
    """Casefolded distinct values; code 0 is "no value" (its placeholder ""
    never satisfies contains/starts_with, whose needles are non-empty)."""

    def __init__(self) -> None:
        self.values: list[str] = [""]
        self.codes: dict[str, int] = {}
        self._scans: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()

    def encode(self, text: str | None) -> int:
        if text is None:
            return 0
        key = text.casefold()
        code = self.codes.get(key)
        if code is None:
            code = self.codes[key] = len(self.values)
            self.values.append(key)
        return code

    def table(self, op: str, operand: Any) -> np.ndarray:
        """A boolean per code: does that distinct value satisfy the positive op?"""
        if op in TEXT_TESTS:
            return self._scan(op, operand)
        wanted = [operand] if op == "eq" else operand
        table = np.zeros(len(self.values), dtype=bool)
        table[[self.codes[v] for v in wanted if v in self.codes]] = True
        return table

    def _scan(self, op: str, needle: str) -> np.ndarray:
        table = self._scans.pop((op, needle), np.zeros(0, dtype=bool))
        known = len(table)
        if known < len(self.values):
            fresh = map(TEXT_TESTS[op], islice(self.values, known, None), repeat(needle))
            table = np.concatenate([table, np.fromiter(fresh, bool, len(self.values) - known)])
        self._scans[op, needle] = table
        if len(self._scans) > SCAN_CACHE_SIZE:
            self._scans.popitem(last=False)
        return table


class _TextColumn:
    def __init__(self) -> None:
        self.dictionary = _Dictionary()
        self.codes = np.zeros(0, dtype=np.int32)

    def resize(self, capacity: int) -> None:
        self.codes = _grown(self.codes, capacity, 0)

    def prepare(self, values: list) -> np.ndarray:
        return np.fromiter(map(self.dictionary.encode, values), np.int32, len(values))

    def store(self, rows: np.ndarray, prepared: np.ndarray) -> None:
        self.codes[rows] = prepared

    def match(self, rule: Condition, now_us: int, n: int) -> np.ndarray:
        op = NEGATED_OPS.get(rule.op, rule.op)
        codes = self.codes[:n]
        if op == "eq":
            hit = codes == self.dictionary.codes.get(rule.operand, -1)
        else:
            hit = self.dictionary.table(op, rule.operand)[codes]
        return ~hit if op != rule.op else hit


class _TagsColumn:
    def __init__(self) -> None:
        self.dictionary = _Dictionary()
        self.entry_codes = np.zeros(0, dtype=np.int32)  # 0 marks a dead entry
        self.entry_rows = np.zeros(0, dtype=np.int32)
        self.used = self.live = 0
        self.row_start = np.zeros(0, dtype=np.int64)
        self.row_count = np.zeros(0, dtype=np.int32)

    def resize(self, capacity: int) -> None:
        self.row_start = _grown(self.row_start, capacity, 0)
        self.row_count = _grown(self.row_count, capacity, 0)

    def prepare(self, values: list) -> list[list[int]]:
        return [sorted({self.dictionary.encode(tag) for tag in tags or ()}) for tags in values]

    def store(self, rows: np.ndarray, prepared: list[list[int]]) -> None:
        for row, codes in zip(rows.tolist(), prepared):
            start, count = int(self.row_start[row]), int(self.row_count[row])
            self.entry_codes[start:start + count] = 0
            self._append(row, codes)
            self.live += len(codes) - count
        if self.used > 2 * self.live + 4096:
            self._compact()

    def _append(self, row: int, codes: list[int]) -> None:
        end = self.used + len(codes)
        if end > len(self.entry_codes):
            capacity = max(end, 2 * len(self.entry_codes), _MIN_CAPACITY)
            self.entry_codes = _grown(self.entry_codes, capacity, 0)
            self.entry_rows = _grown(self.entry_rows, capacity, 0)
        self.entry_codes[self.used:end] = codes
        self.entry_rows[self.used:end] = row
        self.row_start[row], self.row_count[row] = self.used, len(codes)
        self.used = end

    def _compact(self) -> None:
        # A row's entries are contiguous and all alive or all dead, so each
        # row's new start is its old start minus the dead entries before it.
        keep = self.entry_codes[: self.used] != 0
        new_position = np.cumsum(keep) - 1
        tagged = np.flatnonzero(self.row_count > 0)
        self.row_start[tagged] = new_position[self.row_start[tagged]]
        self.entry_codes[: self.live] = self.entry_codes[: self.used][keep]
        self.entry_rows[: self.live] = self.entry_rows[: self.used][keep]
        self.used = self.live

    def match(self, rule: Condition, now_us: int, n: int) -> np.ndarray:
        op = NEGATED_OPS.get(rule.op, rule.op)
        table = self.dictionary.table(op, rule.operand)
        hit_entries = table[self.entry_codes[: self.used]]
        hit = np.zeros(n, dtype=bool)
        hit[self.entry_rows[: self.used][hit_entries]] = True
        return ~hit if op != rule.op else hit


_COLUMN_KINDS = {NUMBER: _NumberColumn, TEXT: _TextColumn, TAGS: _TagsColumn}


class AudienceIndex:
    """Profiles are dicts keyed by `external_id` (str, required) with the rule
    fields of rules.FIELDS; absent keys and None are missing values. Times are
    datetimes (naive = UTC) or ISO strings; `tags` a list of str or None.
    Other keys (phone, ...) are ignored. Rules come from rules.parse_rules and
    `now` must be timezone-aware."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._row_of: dict[str, int] = {}
        self._ids: list[str | None] = []
        self._alive = np.zeros(0, dtype=bool)
        self._columns = {name: _COLUMN_KINDS.get(kind, _TimeColumn)()
                         for name, (kind, _) in FIELDS.items()}

    def __len__(self) -> int:
        return len(self._row_of)

    def __contains__(self, external_id: str) -> bool:
        return external_id in self._row_of

    def upsert(self, profile: dict) -> None:
        self.upsert_many((profile,))

    def upsert_many(self, profiles: Iterable[dict]) -> None:
        latest = {profile["external_id"]: profile for profile in profiles}
        with self._lock:
            prepared = self._prepare(list(latest.values()))
            rows = np.fromiter(map(self._row_for, latest), np.int64, len(latest))
            self._store(rows, prepared)

    def remove(self, external_id: str) -> bool:
        with self._lock:
            row = self._row_of.pop(external_id, None)
            if row is None:
                return False
            self._ids[row] = None
            self._store(np.array([row]), self._prepare([{}]))
            self._alive[row] = False
            return True

    def _row_for(self, external_id: str) -> int:
        row = self._row_of.get(external_id)
        if row is None:
            row = self._row_of[external_id] = len(self._ids)
            self._ids.append(external_id)
            if len(self._ids) > len(self._alive):
                capacity = max(2 * len(self._alive), _MIN_CAPACITY)
                self._alive = _grown(self._alive, capacity, False)
                for column in self._columns.values():
                    column.resize(capacity)
        return row

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

    def match_ids(self, rule: Rule, now: datetime) -> Iterator[str]:
        with self._lock:
            rows, ids = np.flatnonzero(self._audience(rule, now)), self._ids
        return (ids[row] for row in rows.tolist() if ids[row] is not None)

    def sample(self, rule: Rule, now: datetime, k: int = 10) -> list[str]:
        """Up to k matching ids spread evenly over the audience in row order:
        deterministic, and not only the oldest customers."""
        with self._lock:
            rows = np.flatnonzero(self._audience(rule, now))
            if len(rows) > k:
                rows = rows[np.linspace(0, len(rows) - 1, k).round().astype(np.int64)]
            return [self._ids[row] for row in rows.tolist()]

    def breakdown(self, rule: Rule, now: datetime) -> list[dict]:
        """Per top-level part: its own count, and the count of the parts so far
        combined as the rule combines them (and for all, or for any)."""
        combine = np.logical_or if isinstance(rule, AnyOf) else np.logical_and
        steps, so_far = [], None
        with self._lock:
            for part in top_level_conditions(rule):
                own = self._audience(part, now)
                so_far = own if so_far is None else combine(so_far, own)
                steps.append({"rule": rule_to_dict(part), "count": int(np.count_nonzero(own)),
                              "cumulative": int(np.count_nonzero(so_far))})
        return steps

    def _audience(self, rule: Rule, now: datetime) -> np.ndarray:
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        audience = self._evaluate(rule, epoch_us(now), len(self._ids))
        audience &= self._alive[: len(self._ids)]
        return audience

    def _evaluate(self, rule: Rule, now_us: int, n: int) -> np.ndarray:
        """A fresh boolean array per rule (callers may modify it in place)."""
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


_CITIES = ("Mumbai", "Delhi", "Bengaluru", "Hyderabad", "Chennai", "Kolkata", "Pune",
           "Ahmedabad", "Jaipur", "Lucknow", "Kochi", "Indore", "Surat", "Nagpur", "Bhopal")
_TAGS = ("vip", "new", "churn-risk", "wholesale", "newsletter", "app-user", "gold", "silver")
_FIRST = ("Aarav", "Vivaan", "Aditya", "Ananya", "Diya", "Isha", "Kabir", "Meera", "Rohan",
          "Saanvi", "Arjun", "Priya", "Rahul", "Neha", "Vikram", "Kavya", "Ishaan", "Zara")
_LAST = ("Sharma", "Verma", "Iyer", "Reddy", "Nair", "Gupta", "Mehta", "Khan", "Das", "Patel")


def synthetic_profiles(n: int, seed: int = 0, now: datetime | None = None) -> Iterator[dict]:
    """Plausible profiles for benchmarks and demos: unique emails, ~15 cities
    (some missing), 0-3 tags, spends and times spread over two years."""
    rng = np.random.default_rng(seed)
    now = now or datetime(2025, 1, 1, tzinfo=UTC)
    orders = rng.poisson(2.0, n)
    spend = np.round(orders * rng.gamma(2.0, 900.0, n), 2)
    visits = rng.poisson(8.0, n)
    ages = rng.integers(0, 730 * 86_400, (n, 3))
    city, first, last = rng.integers(-2, len(_CITIES), n), rng.integers(0, 18, n), rng.integers(0, 10, n)
    tag_counts, tag_picks = rng.integers(0, 4, n), rng.integers(0, len(_TAGS), (n, 3))
    for i in range(n):
        signed_up = now - timedelta(seconds=int(ages[i, 0]))
        visit = None if visits[i] == 0 else now - timedelta(seconds=int(ages[i, 1] // 2))
        order = None if orders[i] == 0 else now - timedelta(seconds=int(ages[i, 2] // 2))
        yield {
            "external_id": f"cust-{seed}-{i}", "name": f"{_FIRST[first[i]]} {_LAST[last[i]]}",
            "email": f"{_FIRST[first[i]].lower()}.{i}@example.com", "phone": None,
            "city": _CITIES[city[i]] if city[i] >= 0 else None,
            "tags": [_TAGS[t] for t in tag_picks[i, : tag_counts[i]]],
            "signed_up_at": signed_up, "last_visit_at": visit, "last_order_at": order,
            "last_active_at": max((t for t in (visit, order) if t), default=None),
            "visits": None if i % 10 == 0 else int(visits[i]),
            "total_spend": float(spend[i]), "order_count": int(orders[i]),
        }
