"""The orders of the audience index (index.py), for order windows: `{"field":
"total_spend", "op": "gt", "value": 5000, "in_last": "90d"}` (rules/language.py).

Three flat numpy arrays, one entry per order held: `rows` (int32, the index
row of its customer), `placed` (int64 epoch microseconds) and `amounts`
(float64, INR). Each row's orders are contiguous (`start`, `count` per row,
in the order the profile lists them: oldest first). Upserting a row retires
its old range (placed = RETIRED, int64 min, which no cutoff reaches) and
appends the new one; once more entries are retired than live, the arrays
are compacted (order kept, so every row's range stays contiguous).

A window is one vectorised pass, no Python per customer: the mask `placed >=
now - d`, then `np.bincount(rows, weights=amounts * mask)` for the spend or
`np.bincount(rows, weights=mask)` for the count, over every row (0 for a
customer without an order in the window), compared as number columns are.
Per row the spend is summed in list order as float64 (the lifetime
`total_spend` is an exact decimal: the two may differ in the last bits).

Profiles give their orders as `orders`: `{"placed_at": [epoch ms, ...],
"amount": [...]}` (profile.updated, projection/order_fold.py); absent, None
or empty is no order. Not thread-safe: the index locks.
"""
from __future__ import annotations

import numpy as np

from segments.audience.text_columns import grown
from segments.rules.language import Condition

RETIRED = np.iinfo(np.int64).min
_MIN_ENTRIES = 1024
_MAX_MS = 2 ** 52  # epoch ms far beyond year 9999, and exact as a float
_NO_ORDERS = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float64))


class OrderWindows:
    def __init__(self) -> None:
        self.rows = np.zeros(0, dtype=np.int32)
        self.placed = np.full(0, RETIRED, dtype=np.int64)
        self.amounts = np.zeros(0, dtype=np.float64)
        self.size = 0  # entries used, live or retired
        self.retired = 0
        self.start = np.zeros(0, dtype=np.int64)  # per index row
        self.count = np.zeros(0, dtype=np.int64)

    def __getstate__(self) -> dict:
        """Pickled without the unused capacity."""
        state = dict(self.__dict__)
        for name in ("rows", "placed", "amounts"):
            state[name] = state[name][: self.size].copy()
        return state

    @property
    def live(self) -> int:
        return self.size - self.retired

    def resize(self, capacity: int) -> None:
        """Room for `capacity` index rows."""
        self.start = grown(self.start, capacity, 0)
        self.count = grown(self.count, capacity, 0)

    def prepare(self, values: list) -> list[tuple[np.ndarray, np.ndarray]]:
        """Per profile, its orders as (placed epoch us, amounts); raises on a bad one
        before anything changes."""
        return [_orders(value) for value in values]

    def store(self, rows: np.ndarray, prepared: list[tuple[np.ndarray, np.ndarray]]) -> None:
        """Rows given once each (the index deduplicates a batch)."""
        held = self.count[rows]
        for row in rows[held > 0].tolist():
            begin = int(self.start[row])
            self.placed[begin: begin + int(self.count[row])] = RETIRED
        self.retired += int(held.sum())
        self.count[rows] = 0
        counts = np.fromiter((len(placed) for placed, _ in prepared), np.int64, len(prepared))
        total = int(counts.sum())
        if total:
            self._room_for(total)
            end = self.size + total
            self.rows[self.size: end] = np.repeat(rows.astype(np.int32), counts)
            self.placed[self.size: end] = np.concatenate([placed for placed, _ in prepared])
            self.amounts[self.size: end] = np.concatenate([amounts for _, amounts in prepared])
            self.start[rows] = self.size + np.cumsum(counts) - counts
            self.count[rows] = counts
            self.size = end
        if self.retired > self.live:
            self._compact()

    def _room_for(self, extra: int) -> None:
        needed = self.size + extra
        if needed > len(self.placed):
            capacity = max(needed, 2 * len(self.placed), _MIN_ENTRIES)
            self.rows = grown(self.rows, capacity, 0)
            self.placed = grown(self.placed, capacity, RETIRED)
            self.amounts = grown(self.amounts, capacity, 0.0)

    def _compact(self) -> None:
        keep = self.placed[: self.size] != RETIRED
        retired_before = np.concatenate(([0], np.cumsum(~keep)))
        held = np.flatnonzero(self.count)
        self.start[held] -= retired_before[self.start[held]]
        live = int(np.count_nonzero(keep))
        self.rows[:live] = self.rows[: self.size][keep]
        self.placed[:live] = self.placed[: self.size][keep]
        self.amounts[:live] = self.amounts[: self.size][keep]
        self.placed[live: self.size] = RETIRED
        self.size, self.retired = live, 0

    def values(self, rule: Condition, now_us: int, n: int) -> np.ndarray:
        """Per row 0..n-1, the spend (total_spend) or the number (order_count) of its
        orders placed at or after now - rule.window."""
        inside = self.placed[: self.size] >= now_us - rule.window
        weights = self.amounts[: self.size] * inside if rule.field == "total_spend" else inside
        return np.bincount(self.rows[: self.size], weights=weights, minlength=n)[:n]

    def held(self, row: int) -> list[list]:
        """The orders of one row as [placed_at epoch ms, amount] pairs (tests)."""
        begin, end = int(self.start[row]), int(self.start[row] + self.count[row])
        return [[placed // 1000, amount] for placed, amount in
                zip(self.placed[begin:end].tolist(), self.amounts[begin:end].tolist(),
                    strict=True)]


def _orders(value) -> tuple[np.ndarray, np.ndarray]:
    if not value or not value.get("placed_at"):
        return _NO_ORDERS
    placed = np.asarray(value["placed_at"], dtype=np.float64)  # ints up to 2**53 exactly
    amounts = np.asarray(value["amount"], dtype=np.float64)
    if placed.ndim != 1 or placed.shape != amounts.shape:
        raise ValueError("orders need as many amounts as placed_at times")
    if not (np.all(np.isfinite(placed)) and np.all(np.abs(placed) <= _MAX_MS)
            and np.all(np.isfinite(amounts))):
        raise ValueError("an order's placed_at must be epoch milliseconds, its amount finite")
    return placed.astype(np.int64) * 1000, amounts
