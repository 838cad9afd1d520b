"""The only module of the segments service that touches MongoDB/FerretDB (profiles).

On FerretDB only filters that are exactly `{"_id": value}` are fast, so the
projector's hot path reads and writes profiles by `_id` alone (~1 ms each).
The list endpoint (`page`) filters on `_id > cursor` and sorts on `_id`, which
FerretDB does by reading the whole collection in Go: measured ~3 s per page at
20,000 profiles, growing linearly. Accepted for a paged listing that is not on
any hot path; on MongoDB the same query uses the `_id` index. If it ever
matters, an append-only page index kept by the projector (documents of
external_ids read by `_id`) would make a page cost O(limit).
"""
from __future__ import annotations

import uuid
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from pymongo import ReplaceOne
from pymongo.database import Database
from pymongo.errors import DuplicateKeyError, PyMongoError

from segments.projection.profiles import BOOKKEEPING
from shared.mongo import UPDATE_CHUNK, DocumentsById, bulk_write_chunked, insert_many_new

PROFILES = "profiles"
REBUILD = "profiles_rebuild"
RETIRED = "profiles_retired"
INDEX_META = "index_meta"
GENERATION = "generation"
INSERT_CHUNK = 1000
# FerretDB answers a few requests at once faster than one after another (measured:
# replaces ~1.3x with 2 threads); more only adds contention.
WRITE_THREADS = 2
# Stubs (orders seen, customer not yet) are not shown to API clients.
_SHOWN = {f"{BOOKKEEPING}.customer_event": {"$ne": None}}


class ProfileStore(DocumentsById):
    """Profiles (stubs too) by external_id."""

    thread_name_prefix = "profile-read"

    def __init__(self, db: Database, collection: str = PROFILES):
        super().__init__(db, collection)
        self._profiles = self._documents

    def insert_new(self, profiles: list[dict]) -> list[dict]:
        """Insert profiles; returns those whose `_id` already existed (not written)."""
        inserted = set(insert_many_new(self._profiles, profiles))
        return [p for i, p in enumerate(profiles) if i not in inserted]

    def replace(self, profiles: list[dict]) -> None:
        """Replace whole profiles by `_id`, in chunks, a couple of chunks at a time."""
        chunks = [profiles[i:i + UPDATE_CHUNK] for i in range(0, len(profiles), UPDATE_CHUNK)]
        if len(chunks) < 2:
            return self._replace_chunk(profiles)
        with ThreadPoolExecutor(WRITE_THREADS, thread_name_prefix="profile-write") as pool:
            list(pool.map(self._replace_chunk, chunks))

    def _replace_chunk(self, profiles: list[dict]) -> None:
        bulk_write_chunked(self._profiles, (ReplaceOne({"_id": p["_id"]}, p) for p in profiles))

    def insert_all(self, profiles: Iterable[dict], chunk: int = INSERT_CHUNK) -> int:
        """Bulk-load an empty collection (replay); returns how many were written."""
        written, batch = 0, []
        for profile in profiles:
            batch.append(profile)
            if len(batch) >= chunk:
                written += len(insert_many_new(self._profiles, batch))
                batch = []
        return written + len(insert_many_new(self._profiles, batch))

    def shown(self, external_id: str) -> dict | None:
        """A profile as the API may show it (None for unknown customers and stubs)."""
        profile = self.find(external_id)
        if profile is None or profile[BOOKKEEPING]["customer_event"] is None:
            return None
        return profile

    def page(self, after: str | None, limit: int) -> list[dict]:
        """Up to `limit` shown profiles with `_id` > `after`, in `_id` order (a full scan
        on FerretDB; `_id` order makes cursor walking visit each profile exactly once)."""
        query = dict(_SHOWN)
        if after is not None:
            query["_id"] = {"$gt": after}
        return list(self._profiles.find(query).sort("_id", 1).limit(limit))

    def scan(self, batch_size: int = 5000) -> Iterable[list[dict]]:
        """Every profile (stubs too), in batches, without the order ids (only the
        projector needs them). A full read: on FerretDB ~0.25 ms per profile
        (measured here: 20,000 profiles in ~5 s, the same with or without a
        projection), so ~4-5 minutes at 1,000,000; reads by `_id` cost ~1 ms each
        (~0.6 ms with a few threads)."""
        batch: list[dict] = []
        for profile in self._profiles.find({}, {f"{BOOKKEEPING}.order_ids": 0},
                                           batch_size=batch_size):
            batch.append(profile)
            if len(batch) >= batch_size:
                yield batch
                batch = []
        if batch:
            yield batch

    def estimated_count(self) -> int | None:
        """About how many profiles there are, cheaply (None if the server will not
        say): `collStats` answers from metadata on FerretDB (~0.1 s at 20,000),
        while count_documents / estimated_document_count read every document."""
        try:
            return int(self._db.command("collStats", self._profiles.name).get("count", 0))
        except PyMongoError:
            return None

    def find_any(self) -> dict | None:
        return self._profiles.find_one({})

    def all_profiles(self) -> Iterable[dict]:
        return self._profiles.find({})

    def drop(self) -> None:
        self._profiles.drop()



class ProfilesGeneration:
    """Which build of `profiles` this is: a uuid in `index_meta` {_id: "generation"},
    renewed by `crm replay profiles` (commands.py). An audience index snapshot
    (index_snapshot.py) is only good for the generation it was built from."""

    def __init__(self, db: Database):
        self._meta = db[INDEX_META]

    def current(self) -> str:
        """The generation, created on first use."""
        document = self._meta.find_one({"_id": GENERATION})
        if document is None:
            try:
                self._meta.insert_one({"_id": GENERATION, "value": uuid.uuid4().hex})
            except DuplicateKeyError:
                pass  # another process created it first: theirs it is
            document = self._meta.find_one({"_id": GENERATION})
        return document["value"]

    def renew(self) -> str:
        value = uuid.uuid4().hex
        self._meta.replace_one({"_id": GENERATION}, {"value": value}, upsert=True)
        return value


class ReplicaConsumers:
    """Which process last began consuming each replica queue (index_feed.py): a uuid
    in `index_meta` {_id: "consumer <queue>"}, written before that process acks
    anything. A snapshot (index_snapshot.py) records its writer's, so it is refused
    once any other process (with any snapshot directory) has consumed the queue."""

    def __init__(self, db: Database):
        self._meta = db[INDEX_META]

    def last(self, queue: str) -> str | None:
        document = self._meta.find_one({"_id": f"consumer {queue}"})
        return None if document is None else document["value"]

    def begin(self, queue: str) -> str:
        value = uuid.uuid4().hex
        self._meta.replace_one({"_id": f"consumer {queue}"}, {"value": value}, upsert=True)
        return value


def swap_in_rebuild(db: Database, live: str = PROFILES, rebuild: str = REBUILD,
                    retired: str = RETIRED) -> None:
    """Make `profiles_rebuild` the live `profiles` collection (or `rebuild` the `live` one).

    FerretDB 1.24 supports renameCollection but not `dropTarget`, so the old
    collection is first renamed aside, then the rebuild renamed in, then the old
    one dropped: a crash in between loses nothing (the old data stays in
    `profiles_retired`). Between the two renames (milliseconds) reads find no profiles.
    """
    db.drop_collection(retired)
    if live in db.list_collection_names():
        db[live].rename(retired)
    db[rebuild].rename(live)
    db.drop_collection(retired)
