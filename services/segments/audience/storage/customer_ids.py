"""The index's rows and their customers' external ids, both ways, compact.

A row's id never changes (rows never move; a removed customer's row is only
marked), so the ids are kept in a TextArena in row order (entry = row + 1),
about 20 bytes per customer where a list of strings and a dict back cost ~190.

The way back, id -> row, is a sorted numpy array of the ids' hashes with
their rows beside it, plus a dict of the ids added since the last merge into
it (merged once it holds MERGE_AT ids, so a million new customers cost ~15
merges). A hash is Python's own, so it is never stored: `__setstate__` (a
snapshot load) rebuilds the lookup, and two ids with the same hash are told
apart by their text.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from segments.audience.storage.arena import TextArena

MERGE_AT = 65_536


class CustomerIds:
    def __init__(self) -> None:
        self._arena = TextArena()
        self._removed: set[int] = set()
        self._new_lookup()

    def _new_lookup(self) -> None:
        self._hashes = np.zeros(0, dtype=np.int64)
        self._rows = np.zeros(0, dtype=np.int64)
        self._recent: dict[str, int] = {}

    def __getstate__(self) -> dict:
        return {"arena": self._arena, "removed": self._removed}

    def __setstate__(self, state: dict) -> None:
        self._arena, self._removed = state["arena"], state["removed"]
        self._new_lookup()
        rows = np.arange(len(self), dtype=np.int64)
        hashes = np.fromiter(map(hash, self._arena.texts(rows + 1)), np.int64, len(rows))
        self._merge(hashes, rows)

    def __len__(self) -> int:
        """Rows, removed ones included (the index's n)."""
        return self._arena.count - 1

    @property
    def live(self) -> int:
        return len(self) - len(self._removed)

    def __getitem__(self, row: int) -> str | None:
        """The id held in `row`, or None once removed."""
        if row in self._removed:
            return None
        return self._arena.text(row + 1)

    def row(self, external_id: str) -> int | None:
        row = self._recent.get(external_id)
        if row is not None:
            return None if row in self._removed else row
        key = hash(external_id)
        at = int(np.searchsorted(self._hashes, key))
        while at < len(self._hashes) and self._hashes[at] == key:
            row = int(self._rows[at])
            if row not in self._removed and self._arena.text(row + 1) == external_id:
                return row
            at += 1
        return None

    def rows(self, external_ids: Iterable[str]) -> list[int | None]:
        return [self.row(external_id) for external_id in external_ids]

    def add(self, external_ids: list[str]) -> np.ndarray:
        """New rows for ids not held (the caller checked); returns the rows."""
        rows = self._arena.append(external_ids) - 1
        self._recent.update(zip(external_ids, rows.tolist(), strict=True))
        if len(self._recent) >= MERGE_AT:
            recent = self._recent
            self._recent = {}
            self._merge(np.fromiter(map(hash, recent), np.int64, len(recent)),
                        np.fromiter(recent.values(), np.int64, len(recent)))
        return rows

    def _merge(self, hashes: np.ndarray, rows: np.ndarray) -> None:
        all_hashes = np.concatenate([self._hashes, hashes])
        order = np.argsort(all_hashes, kind="stable")
        self._hashes = all_hashes[order]
        self._rows = np.concatenate([self._rows, rows])[order]

    def remove(self, row: int) -> None:
        self._removed.add(row)
