"""A request rate limit per API key that holds across every gateway worker and replica.

Each key may make `limit` calls per fixed window of `window_seconds` (wall-clock
windows, so replicas need synchronised clocks, as any NTP-run host has). Past
it, 429 `RATE_LIMITED` with `Retry-After` (seconds to the next window).

The shared store is the gateway's own database (the one holding the API keys),
so the limit needs nothing new to run, and it is exact on FerretDB as on
MongoDB because it never updates a counter (FerretDB loses concurrent `$inc`):
a window's `limit` call slots are cut into blocks of `block` slots, and block
`b` of a key's window `w` is the document `_id: "<key_id>:<w>:<b>"` in
`rate_slots`. A worker *claims* a block by inserting that document: the insert
succeeds for exactly one worker anywhere (a duplicate `_id` is error 11000:
taken, try the next block), and the claimer hands its slots to its own calls
without asking the database again. So a window admits at most `limit` calls in
all, at the cost of one insert per `block` calls; a worker's unused slots are
lost when the window ends, so a busy key may get slightly fewer (at most one
block per worker). When every block is taken the worker answers 429 for the
rest of the window without touching the database.

Claimed blocks are deleted by their claimer once their window has passed
(FerretDB has no TTL indexes); a worker killed mid-window leaves its few
documents behind, a harmless leftover of a few bytes.
"""
from __future__ import annotations

import logging
import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from flask import current_app
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError, PyMongoError

from gateway.resources import resources
from shared.mongo import is_duplicate_key

log = logging.getLogger(__name__)

COLLECTION = "rate_slots"
# About 50 claims fill a window: few inserts, and little left unused when a window ends.
BLOCKS_PER_WINDOW = 50
MAX_BLOCK = 100


def block_size(limit: int) -> int:
    return max(1, min(limit // BLOCKS_PER_WINDOW, MAX_BLOCK))


class MongoSlots:
    """The `rate_slots` collection: a block is claimed by inserting its `_id`."""

    def __init__(self, collection: Collection):
        self._collection = collection

    def claim(self, slot_id: str) -> bool:
        """True for exactly one caller anywhere; False when the block is already taken."""
        try:
            self._collection.insert_one({"_id": slot_id})
        except DuplicateKeyError:
            return False
        except PyMongoError as error:
            if is_duplicate_key(error):
                return False
            raise  # the database is down: the gateway answers 503 (gateway/outage.py)
        return True

    def release(self, slot_ids: list[str]) -> None:
        self._collection.delete_many({"_id": {"$in": slot_ids}})


@dataclass
class _Window:
    number: int
    slots_left: int = 0
    next_block: int = 0
    exhausted: bool = False


class RateLimiter:
    """One per gateway process; thread-safe. `slots`: MongoSlots, or a fake in unit tests."""

    def __init__(self, slots, window_seconds: float = 60.0,
                 clock: Callable[[], float] = time.time):
        self._slots = slots
        self._window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._windows: dict[str, _Window] = {}
        self._current = -1
        self._claimed: list[tuple[int, str]] = []  # (window, _id) of blocks this process holds

    def admit(self, key_id: str, limit: int) -> float | None:
        """None when the call may go ahead; else the seconds until the key may call again."""
        if limit <= 0:
            return None
        now = self._clock()
        number = int(now // self._window_seconds)
        with self._lock:
            self._roll(number)
            window = self._windows.get(key_id)
            if window is None or window.number != number:
                window = self._windows[key_id] = _Window(number)
            if window.slots_left == 0 and not window.exhausted:
                self._claim(key_id, window, limit)
            if window.slots_left > 0:
                window.slots_left -= 1
                return None
        return max((number + 1) * self._window_seconds - now, 1.0)

    def _claim(self, key_id: str, window: _Window, limit: int) -> None:
        block = block_size(limit)
        blocks = math.ceil(limit / block)
        while window.next_block < blocks:
            index = window.next_block
            slot_id = f"{key_id}:{window.number}:{index}"
            taken = not self._slots.claim(slot_id)  # raises when the database is down
            window.next_block += 1
            if taken:
                continue
            self._claimed.append((window.number, slot_id))
            window.slots_left = min(block, limit - index * block)
            return
        window.exhausted = True

    def _roll(self, number: int) -> None:
        """On a new window: forget past windows and delete the blocks this process claimed."""
        if number <= self._current:
            return
        self._current = number
        self._windows = {key: w for key, w in self._windows.items() if w.number >= number}
        stale = [slot_id for window, slot_id in self._claimed if window < number]
        self._claimed = [(window, slot_id) for window, slot_id in self._claimed
                         if window >= number]
        if stale:
            try:
                self._slots.release(stale)
            except PyMongoError as error:  # left behind, never read again: harmless
                log.warning("rate slots not deleted", extra={"error": type(error).__name__,
                                                             "count": len(stale)})


EXTENSION = "crm_rate_limiter"


def provide(app, rate_limiter: RateLimiter) -> None:
    """Use this limiter in every process of `app` (unit tests hand in one over fake slots)."""
    app.extensions[EXTENSION] = (None, rate_limiter)


def limiter() -> RateLimiter:
    """This process's limiter over the gateway's database (rebuilt after a fork)."""
    built = current_app.extensions.get(EXTENSION)
    if built is None or built[0] not in (None, os.getpid()):
        state = resources()
        database = state.mongo_client[state.config.settings.database_name("gateway")]
        built = (os.getpid(), RateLimiter(MongoSlots(database[COLLECTION]),
                                          state.config.rate_window_seconds))
        current_app.extensions[EXTENSION] = built
    return built[1]
