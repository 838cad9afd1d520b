"""The text and tags columns of the audience index (columns.py says how each works):
int32 codes into a dictionary of casefolded distinct values, the text as written
kept beside it, and tags as an append-only log of (tag code, row) entries."""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from itertools import islice, repeat
from typing import Any

import numpy as np

from segments.audience.storage.arena import TextArena
from segments.rules.language import NEGATED_OPS, TEXT_TESTS, Condition

SCAN_CACHE_SIZE = 32
MIN_CAPACITY = 1024  # rows (or tag entries) an array starts with; it grows by doubling


def grown(array: np.ndarray, capacity: int, fill: Any) -> np.ndarray:
    bigger = np.full(capacity, fill, dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


def extended_scan(scans: OrderedDict, key: tuple[str, str], total: int,
                  scan: Callable[[int], np.ndarray], first: int) -> np.ndarray:
    """A needle's cached boolean per value (or entry), extended by `scan(known)` to the
    `total` values there are now; the `first` values (placeholders) are False. The
    cache keeps the SCAN_CACHE_SIZE needles used last."""
    table = scans.pop(key, np.zeros(first, dtype=bool))
    if len(table) < total:
        table = np.concatenate([table, scan(len(table))])
    scans[key] = table
    if len(scans) > SCAN_CACHE_SIZE:
        scans.popitem(last=False)
    return table


class Dictionary:
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
        def scan(known: int) -> np.ndarray:
            fresh = map(TEXT_TESTS[op], islice(self.values, known, None), repeat(needle))
            return np.fromiter(fresh, bool, len(self.values) - known)

        return extended_scan(self._scans, (op, needle), len(self.values), scan, first=0)


class Written:
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


class TextColumn:
    def __init__(self) -> None:
        self.dictionary = Dictionary()
        self.written = Written()  # only the texts that differ from their casefold
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


class TagsColumn:
    def __init__(self) -> None:
        self.dictionary = Dictionary()
        self.entry_codes = np.zeros(0, dtype=np.int32)  # 0 marks a dead entry
        self.entry_rows = np.zeros(0, dtype=np.int32)
        self.used = self.live = 0
        self.row_start = np.zeros(0, dtype=np.int64)
        self.row_count = np.zeros(0, dtype=np.int32)
        self.lists = Written()  # the tag lists as written, in order (0: no tags)
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


class ArenaValues:
    """Texts per row in a TextArena: one int32 entry number per row (0: none).

    Re-storing a row's unchanged text keeps its entry; a changed one adds an entry
    and leaves the old unused, and the arena is rebuilt from the rows once more
    than half of its entries are unused (`store` says so: entry numbers change)."""

    def __init__(self) -> None:
        self.arena = TextArena()
        self.codes = np.zeros(0, dtype=np.int32)
        self._unused = 0

    def resize(self, capacity: int) -> None:
        self.codes = grown(self.codes, capacity, 0)

    def store(self, rows: np.ndarray, texts: list) -> bool:
        """Each row's text (None: none); True when the arena was rebuilt."""
        entries = self.codes[rows].astype(np.int64)
        fresh = []
        for at, (entry, text) in enumerate(zip(entries.tolist(), texts, strict=True)):
            if entry and self.arena.text(entry) == text:
                continue
            self._unused += bool(entry)
            entries[at] = 0
            if text is not None:
                fresh.append(at)
        entries[fresh] = self.arena.append([texts[at] for at in fresh])
        self.codes[rows] = entries
        if self._unused <= len(rows) or self._unused <= len(self.arena) // 2 + 4096:
            return False
        arena, used = TextArena(), np.flatnonzero(self.codes)
        self.codes[used] = arena.append(self.arena.texts(self.codes[used].tolist()))
        self.arena, self._unused = arena, 0
        return True

    def shown(self, rows: np.ndarray) -> list[str | None]:
        return self.arena.texts(self.codes[rows].tolist())

    def blank(self, n: int) -> np.ndarray:
        """Per row: no text, or only whitespace."""
        return self.arena.blank()[self.codes[:n]]


class ArenaTextColumn:
    """A text column whose values are mostly one per customer (email): no dictionary,
    the casefolded texts in a TextArena (storage/arena.py), and the texts as
    written, where they differ, in a second one (ArenaValues each).
    `eq` / `in` compare CRCs, `contains` / `starts_with` search the arena's bytes;
    a search is cached per needle and extended to the entries added since."""

    def __init__(self) -> None:
        self.folded, self.written = ArenaValues(), ArenaValues()
        self._scans: OrderedDict[tuple[str, str], np.ndarray] = OrderedDict()

    def resize(self, capacity: int) -> None:
        self.folded.resize(capacity)
        self.written.resize(capacity)

    def prepare(self, values: list) -> tuple[list, list]:
        folded = [None if value is None else value.casefold() for value in values]
        written = [None if text is None or text == key else text
                   for text, key in zip(values, folded, strict=True)]
        return folded, written

    def store(self, rows: np.ndarray, prepared: tuple[list, list]) -> None:
        folded, written = prepared
        if self.folded.store(rows, folded):
            self._scans.clear()  # its entry numbers changed
        self.written.store(rows, written)

    def shown(self, rows: np.ndarray) -> list[str | None]:
        folded = self.folded.arena
        return [self.written.arena.text(w) if w else folded.text(c)
                for c, w in zip(self.folded.codes[rows].tolist(),
                                self.written.codes[rows].tolist(), strict=True)]

    def blank(self, n: int) -> np.ndarray:
        return self.folded.blank(n)

    def match(self, rule: Condition, now_us: int, n: int) -> np.ndarray:
        op, arena = NEGATED_OPS.get(rule.op, rule.op), self.folded.arena
        if op in TEXT_TESTS:
            table = self._scan(op, rule.operand)
        else:
            table = np.zeros(len(arena), dtype=bool)
            table[arena.any_of([rule.operand] if op == "eq" else rule.operand)] = True
        hit = table[self.folded.codes[:n]]
        return ~hit if op != rule.op else hit

    def _scan(self, op: str, needle: str) -> np.ndarray:
        arena = self.folded.arena
        return extended_scan(self._scans, (op, needle), len(arena), lambda known: arena.having(
            needle, at_start=op == "starts_with", first_entry=known), first=1)  # 0: no value
