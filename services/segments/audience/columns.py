"""The columns of the audience index (audience_index.py): one per rule field.

Each rule field is one numpy column, one row per customer (rows never move,
so "row order" is first-seen order and stays stable):

- numbers: float64, NaN when missing (NaN compares unequal to everything,
  which is exactly the "missing never equals" rule of rules.py);
- times: int64 epoch microseconds, MISSING = int64 min (so `older_than`,
  which is `t < cutoff`, includes missing values for free);
- city / name: int32 codes into a per-column dictionary of casefolded
  values (code 0 = no value). `eq` is one integer compare; `in`, `contains`,
  `starts_with` build a boolean table over the distinct values and gather it
  by code, so the string work runs once per distinct value, not per row.
  Scans for `contains` / `starts_with` are cached per needle and extended
  incrementally as new distinct values arrive (the dictionary only grows);
- email, one value per customer, where a dictionary would cost ~150 bytes a
  row: the texts in one byte array (storage/arena.py, ~40 bytes a row),
  searched with numpy (text_columns.ArenaTextColumn);
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
unique, so not worth a dictionary, in an arena) only to be shown.

Every column has `resize(capacity)`, `prepare(values)` (convert a batch, may
raise, changes nothing), `store(rows, prepared)` and `shown(rows)`; rule
columns also `match(rule, now_us, n)` (a fresh boolean array over rows
0..n-1). Not thread-safe: the index locks.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

import numpy as np

from segments.audience.text_columns import (
    ArenaTextColumn,
    ArenaValues,
    TagsColumn,
    TextColumn,
    grown,
)
from segments.rules.language import FIELDS, Condition
from segments.rules.values import (
    CONSENT,
    CONSENT_VALUES,
    FLAG,
    NUMBER,
    TAGS,
    TEXT,
    epoch_us,
)

MISSING = np.iinfo(np.int64).min


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
        return compare(self.values[:n], rule)


def compare(x: np.ndarray, rule: Condition) -> np.ndarray:
    """A number condition over the values `x` (a column's, or an order window's)."""
    operand = rule.operand
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


class _ShownOnlyColumn(ArenaValues):
    """A field no rule may name, kept only to be shown: the texts as given (phone,
    suppression reason and campaign), in an arena (mostly unique, or mostly none)."""

    def prepare(self, values: list) -> list:
        return [None if value is None else str(value) for value in values]


class _ConsentColumn:
    """marketing_consent as an int8 index into CONSENT_VALUES; missing is the default,
    subscribed (a profile from before consent existed)."""

    def __init__(self) -> None:
        self.codes = np.zeros(0, dtype=np.int8)

    def resize(self, capacity: int) -> None:
        self.codes = grown(self.codes, capacity, 0)

    def prepare(self, values: list) -> np.ndarray:
        return np.array([CONSENT_VALUES.index(value) if value in CONSENT_VALUES else 0
                         for value in values], dtype=np.int8)

    def store(self, rows: np.ndarray, prepared: np.ndarray) -> None:
        self.codes[rows] = prepared

    def shown(self, rows: np.ndarray) -> list[str]:
        return [CONSENT_VALUES[code] for code in self.codes[rows].tolist()]

    def match(self, rule: Condition, now_us: int, n: int) -> np.ndarray:
        hit = self.codes[:n] == CONSENT_VALUES.index(rule.operand)
        return hit if rule.op == "eq" else ~hit


class _FlagColumn:
    """A bool per row (suppressed); missing is False."""

    def __init__(self) -> None:
        self.values = np.zeros(0, dtype=bool)

    def resize(self, capacity: int) -> None:
        self.values = grown(self.values, capacity, False)

    def prepare(self, values: list) -> np.ndarray:
        return np.array([bool(value) for value in values], dtype=bool)

    def store(self, rows: np.ndarray, prepared: np.ndarray) -> None:
        self.values[rows] = prepared

    def shown(self, rows: np.ndarray) -> list[bool]:
        return self.values[rows].tolist()

    def match(self, rule: Condition, now_us: int, n: int) -> np.ndarray:
        hit = self.values[:n].copy()
        return hit if rule.operand else ~hit


_COLUMN_KINDS = {NUMBER: _NumberColumn, TEXT: TextColumn, TAGS: TagsColumn,
                 CONSENT: _ConsentColumn, FLAG: _FlagColumn}
COUNTS = ("visits", "order_count")  # numbers shown as ints
UNIQUE_TEXTS = ("email",)  # text rule fields with a value per customer, kept in an arena
SHOWN_ONLY = ("phone", "suppression_reason", "suppression_campaign_id")  # shown, never matched
# Times kept to be shown (the suppression list, audience recipients), never matched.
SHOWN_TIMES = ("marketing_consent_at", "suppressed_since")


def new_columns() -> dict[str, Any]:
    """One empty column per rule field and per shown-only field, by field name."""
    columns: dict[str, Any] = {name: _COLUMN_KINDS.get(kind, _TimeColumn)()
                               for name, (kind, _) in FIELDS.items()}
    for name in COUNTS:
        columns[name] = _NumberColumn(counts=True)
    columns.update((name, ArenaTextColumn()) for name in UNIQUE_TEXTS)
    columns.update((name, _ShownOnlyColumn()) for name in SHOWN_ONLY)
    columns.update((name, _TimeColumn()) for name in SHOWN_TIMES)
    return columns
