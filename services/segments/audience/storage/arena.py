"""Many texts in one numpy byte array: the compact storage behind the index's
customer ids and emails (text kept as Python strings costs ~60 bytes of
overhead each, a dict of them ~100 more; here a text costs its UTF-8 bytes
plus 13).

A `TextArena` is append-only. Each `append` gives every text an entry
number; entry 0 is "no text" and holds nothing. The bytes are laid out as

    NUL text1 NUL text2 NUL ...

so a search over the whole byte array finds a needle inside one entry only
(a needle never holds NUL: a NUL in a stored text is kept as U+FFFD, and a
needle with NUL matches nothing), and "starts with" is the needle right
after a NUL. Both run as numpy passes over the bytes: the positions of the
needle's first byte, narrowed by each next byte, then mapped to their entry
by a binary search over the entries' starts.

Each entry also keeps a CRC-32 of its bytes, so `equal` and `any_of` compare
one integer per entry and check the few candidates' bytes (a CRC is the same
in every process, so a pickled arena stays right).

Nothing is ever removed: a caller that replaces texts builds a fresh arena
when enough of its entries are no longer used (text_columns.ArenaTextColumn).
Not thread-safe: the index locks.
"""
from __future__ import annotations

import zlib

import numpy as np

MIN_CAPACITY = 1024
SEPARATOR = b"\0"
REPLACEMENT = "\ufffd"


def _grown(array: np.ndarray, needed: int) -> np.ndarray:
    if needed <= len(array):
        return array
    bigger = np.zeros(max(needed, 2 * len(array), MIN_CAPACITY), dtype=array.dtype)
    bigger[: len(array)] = array
    return bigger


class TextArena:
    def __init__(self) -> None:
        self._bytes = np.zeros(MIN_CAPACITY, dtype=np.uint8)  # [0] is the first NUL
        self._used = 1
        # starts[e]: entry e's first byte; starts[count] = used, so entry e ends
        # (without its NUL) at starts[e + 1] - 1. Entry 0 starts and ends at 1.
        self._starts = np.ones(MIN_CAPACITY, dtype=np.int64)
        self._crcs = np.zeros(MIN_CAPACITY, dtype=np.uint32)
        self.count = 1

    def __len__(self) -> int:
        return self.count

    def append(self, texts: list[str]) -> np.ndarray:
        """Every text as a new entry, in order; returns their entry numbers."""
        encoded = [_encoded(text) for text in texts]
        n = len(encoded)
        first = self.count
        if not n:
            return np.zeros(0, dtype=np.int64)
        blob = SEPARATOR.join(encoded) + SEPARATOR
        lengths = np.fromiter(map(len, encoded), np.int64, n) + 1
        self._bytes = _grown(self._bytes, self._used + len(blob))
        self._starts = _grown(self._starts, first + n + 1)
        self._crcs = _grown(self._crcs, first + n + 1)
        self._bytes[self._used:self._used + len(blob)] = np.frombuffer(blob, dtype=np.uint8)
        self._starts[first + 1:first + n + 1] = self._used + np.cumsum(lengths)
        self._crcs[first:first + n] = np.fromiter(map(zlib.crc32, encoded), np.uint32, n)
        self._used += len(blob)
        self.count += n
        return np.arange(first, first + n, dtype=np.int64)

    def text(self, entry: int) -> str | None:
        if entry == 0:
            return None
        start, end = self._starts[entry], self._starts[entry + 1] - 1
        return self._bytes[start:end].tobytes().decode()

    def texts(self, entries) -> list[str | None]:
        return [self.text(entry) for entry in entries]

    def blank(self) -> np.ndarray:
        """Per entry: no text, or only whitespace (entry 0 included). One numpy pass
        counts each entry's ASCII non-space bytes; the few with none are checked
        as text (a non-ASCII space is whitespace too)."""
        if self.count == 1:
            return np.ones(1, dtype=bool)
        data = self._bytes[: self._used]
        solid = (data > 32) & (data < 127)  # printable ASCII other than space
        counts = np.add.reduceat(solid, self._starts[1:self.count])
        blank = np.ones(self.count, dtype=bool)
        blank[1:] = counts == 0
        for entry in np.flatnonzero(blank[1:]).tolist():
            blank[entry + 1] = not self.text(entry + 1).strip()
        return blank

    def equal(self, text: str) -> np.ndarray:
        """The entries whose text is `text` exactly (entry numbers, ascending)."""
        return self.any_of([text])

    def any_of(self, texts) -> np.ndarray:
        wanted = {_encoded(text) for text in texts if SEPARATOR.decode() not in text}
        if not wanted:
            return np.zeros(0, dtype=np.int64)
        crcs = np.fromiter(map(zlib.crc32, wanted), np.uint32, len(wanted))
        candidates = np.flatnonzero(np.isin(self._crcs[1:self.count], crcs)) + 1
        return np.array([entry for entry in candidates.tolist()
                         if self._raw(entry) in wanted], dtype=np.int64)

    def _raw(self, entry: int) -> bytes:
        return self._bytes[self._starts[entry]:self._starts[entry + 1] - 1].tobytes()

    def having(self, needle: str, at_start: bool, first_entry: int = 1) -> np.ndarray:
        """Per entry from `first_entry` to the last: does its text contain `needle`
        (or start with it)? A boolean array of `count - first_entry`."""
        found = np.zeros(max(self.count - first_entry, 0), dtype=bool)
        if not needle or SEPARATOR.decode() in needle or not len(found):
            return found
        pattern = np.frombuffer((SEPARATOR if at_start else b"") + needle.encode(), np.uint8)
        # The NUL before first_entry belongs to the search, for `at_start`.
        offset = int(self._starts[first_entry]) - 1
        haystack = self._bytes[offset:self._used]
        if len(haystack) < len(pattern):
            return found
        positions = np.flatnonzero(haystack[: len(haystack) - len(pattern) + 1] == pattern[0])
        for k in range(1, len(pattern)):
            positions = positions[haystack[positions + k] == pattern[k]]
        if at_start:
            positions = positions + 1  # the entry starts right after its NUL
        entries = np.searchsorted(self._starts[first_entry:self.count + 1], positions + offset,
                                  side="right") - 1
        found[entries] = True
        return found


def _encoded(text: str) -> bytes:
    return text.replace(SEPARATOR.decode(), REPLACEMENT).encode()
