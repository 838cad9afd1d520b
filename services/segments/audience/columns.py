"""The columns of the audience index (audience_index.py): one per rule field.

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

The index also answers the recipients of an audience (audience_stream.py),
so every column can give back its rows' values as the customer GET shows
them (`shown(rows)`): text as written, not casefolded (a second int32 code
per row into the distinct written values that differ from their casefold,
0 = the casefolded value is the text, as for most emails); tags as the
written list (one int32 code per row into the distinct lists, few in a
shop); times as ISO strings in UTC with milliseconds and `Z`; counts as
ints. `phone` is no rule field: it is kept (a list of the values, mostly
unique, so not worth a dictionary) only to be shown.

Every column has `resize(capacity)`, `prepare(values)` (convert a batch, may
raise, changes nothing), `store(rows, prepared)` and `shown(rows)`; rule
columns also `match(rule, now_us, n)` (a fresh boolean array over rows
0..n-1). Not thread-safe: the index locks.
"""
from __future__ import annotations

from collections import OrderedDict
from datetime import datetime
from itertools import islice, repeat
from typing import Any

import numpy as np

from segments.audience.rule_values import NUMBER, TAGS, TEXT, epoch_us
from segments.audience.rules import FIELDS, NEGATED_OPS, TEXT_TESTS, Condition

MISSING = np.iinfo(np.int64).min
SCAN_CACHE_SIZE = 32
MIN_CAPACITY = 1024


def grown(array: np.ndarray, capacity: int, fill: Any) -> np.ndarray:
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
    def __init__(self, counts: bool = False) -> None:
        self.values = np.full(0, np.nan)
        self._counts = counts  # shown as ints (visits, order_count)

    def resize(self, capacity: int) -> None:
        self.values = grown(self.values, capacity, np.nan)

    def prepare(self, values: list) -> np.ndarray:
        return np.array(values, dtype=np.float64)

    def store(self, rows: np.ndarray, prepared: np.ndarray) -> None:
        self.values[rows] = prepared

    def shown(self, rows: np.ndarray) -> list:
        kind = int if self._counts else float
        return [None if x != x else kind(x) for x in self.values[rows].tolist()]  # NaN: missing

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
        self.values = grown(self.values, capacity, MISSING)

    def prepare(self, values: list) -> np.ndarray:
        return np.fromiter(map(_to_epoch_us, values), np.int64, len(values))

    def store(self, rows: np.ndarray, prepared: np.ndarray) -> None:
        self.values[rows] = prepared

    def shown(self, rows: np.ndarray) -> list[str | None]:
        # MISSING is numpy's NaT; datetime64 -> ms floors, as datetime.isoformat does.
        texts = np.datetime_as_string(self.values[rows].astype("datetime64[us]"), unit="ms")
        return [None if text == "NaT" else text + "Z" for text in texts.tolist()]

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


class _Written:
    """Distinct values as written (str, or tuples of tags); code 0 is "none"."""

    def __init__(self) -> None:
        self.values: list = [None]
        self.codes: dict = {}

    def encode(self, value) -> int:
        code = self.codes.get(value)
        if code is None:
            code = self.codes[value] = len(self.values)
            self.values.append(value)
        return code


class _TextColumn:
    def __init__(self) -> None:
        self.dictionary = _Dictionary()
        self.written = _Written()  # only the texts that differ from their casefold
        self.codes = np.zeros(0, dtype=np.int32)
        self.written_codes = np.zeros(0, dtype=np.int32)

    def resize(self, capacity: int) -> None:
        self.codes = grown(self.codes, capacity, 0)
        self.written_codes = grown(self.written_codes, capacity, 0)

    def prepare(self, values: list) -> tuple[np.ndarray, np.ndarray]:
        codes = np.fromiter(map(self.dictionary.encode, values), np.int32, len(values))
        return codes, np.fromiter(map(self._encode_written, values), np.int32, len(values))

    def _encode_written(self, text: str | None) -> int:
        if text is None or text == text.casefold():
            return 0
        return self.written.encode(text)

    def store(self, rows: np.ndarray, prepared: tuple[np.ndarray, np.ndarray]) -> None:
        self.codes[rows], self.written_codes[rows] = prepared

    def shown(self, rows: np.ndarray) -> list[str | None]:
        folded, written = self.dictionary.values, self.written.values
        return [written[w] if w else (folded[c] if c else None)
                for c, w in zip(self.codes[rows].tolist(), self.written_codes[rows].tolist(),
                                strict=True)]

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
        self.lists = _Written()  # the tag lists as written, in order (0: no tags)
        self.list_codes = np.zeros(0, dtype=np.int32)

    def resize(self, capacity: int) -> None:
        self.row_start = grown(self.row_start, capacity, 0)
        self.row_count = grown(self.row_count, capacity, 0)
        self.list_codes = grown(self.list_codes, capacity, 0)

    def prepare(self, values: list) -> tuple[list[list[int]], np.ndarray]:
        codes = [sorted({self.dictionary.encode(tag) for tag in tags or ()}) for tags in values]
        lists = [self.lists.encode(tuple(tags)) if tags else 0 for tags in values]
        return codes, np.array(lists, dtype=np.int32)

    def shown(self, rows: np.ndarray) -> list[list[str]]:
        lists = self.lists.values
        return [list(lists[code]) if code else [] for code in self.list_codes[rows].tolist()]

    def store(self, rows: np.ndarray, prepared: tuple[list[list[int]], np.ndarray]) -> None:
        tag_codes, self.list_codes[rows] = prepared
        for row, codes in zip(rows.tolist(), tag_codes, strict=True):
            start, count = int(self.row_start[row]), int(self.row_count[row])
            self.entry_codes[start:start + count] = 0
            self._append(row, codes)
            self.live += len(codes) - count
        if self.used > 2 * self.live + 4096:
            self._compact()

    def _append(self, row: int, codes: list[int]) -> None:
        end = self.used + len(codes)
        if end > len(self.entry_codes):
            capacity = max(end, 2 * len(self.entry_codes), MIN_CAPACITY)
            self.entry_codes = grown(self.entry_codes, capacity, 0)
            self.entry_rows = grown(self.entry_rows, capacity, 0)
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


class _ShownOnlyColumn:
    """A field no rule may name, kept only to be shown: the values as given, per row."""

    def __init__(self) -> None:
        self.values: list = []

    def resize(self, capacity: int) -> None:
        self.values.extend([None] * (capacity - len(self.values)))

    def prepare(self, values: list) -> list:
        return list(values)

    def store(self, rows: np.ndarray, prepared: list) -> None:
        for row, value in zip(rows.tolist(), prepared, strict=True):
            self.values[row] = value

    def shown(self, rows: np.ndarray) -> list:
        return [self.values[row] for row in rows.tolist()]


_COLUMN_KINDS = {NUMBER: _NumberColumn, TEXT: _TextColumn, TAGS: _TagsColumn}
COUNTS = ("visits", "order_count")  # numbers shown as ints
SHOWN_ONLY = ("phone",)  # profile fields kept to be shown, never matched


def new_columns() -> dict[str, Any]:
    """One empty column per rule field and per shown-only field, by field name."""
    columns: dict[str, Any] = {name: _COLUMN_KINDS.get(kind, _TimeColumn)()
                               for name, (kind, _) in FIELDS.items()}
    for name in COUNTS:
        columns[name] = _NumberColumn(counts=True)
    columns.update((name, _ShownOnlyColumn()) for name in SHOWN_ONLY)
    return columns
