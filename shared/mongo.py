"""MongoDB helpers that behave the same on MongoDB 7 and FerretDB 1.24.

See docs/architecture.md for the FerretDB limits these work around.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Iterable, Sequence

from pymongo import MongoClient
from pymongo.collection import Collection
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from shared.config import Settings

DUPLICATE_KEY = 11000
# FerretDB handles each update of a bulk one after another; small chunks keep
# one request short and stay far from its per-request limits.
UPDATE_CHUNK = 100


def connect(settings: Settings) -> MongoClient:
    """A client for this process. Create it after fork, never at import time."""
    return MongoClient(
        settings.mongo_url,
        serverSelectionTimeoutMS=3000,
        connectTimeoutMS=3000,
        socketTimeoutMS=60000,
        tz_aware=True,
        uuidRepresentation="standard",
    )


def is_duplicate_key(error: PyMongoError) -> bool:
    if isinstance(error, DuplicateKeyError):
        return True
    return getattr(error, "code", None) == DUPLICATE_KEY


def insert_many_new(collection: Collection, documents: Sequence[dict]) -> list[int]:
    """Insert documents, skipping those whose `_id` exists. Returns the indexes inserted."""
    if not documents:
        return []
    try:
        collection.insert_many(documents, ordered=False)
        return list(range(len(documents)))
    except BulkWriteError as error:
        failed = set()
        for write_error in error.details.get("writeErrors", []):
            if write_error.get("code") != DUPLICATE_KEY:
                raise
            failed.add(write_error["index"])
        return [i for i in range(len(documents)) if i not in failed]


def bulk_write_chunked(collection: Collection, operations: Iterable,
                       chunk: int = UPDATE_CHUNK) -> None:
    batch: list = []
    for operation in operations:
        batch.append(operation)
        if len(batch) >= chunk:
            collection.bulk_write(batch, ordered=True)
            batch = []
    if batch:
        collection.bulk_write(batch, ordered=True)


def ping(client: MongoClient) -> bool:
    try:
        client.admin.command("ping")
        return True
    except PyMongoError:
        return False


# FerretDB answers a few reads by `_id` at once faster than one after another
# (measured ~1.6x with 4 threads); more only adds contention.
READ_THREADS = 4


def find_by_ids(find: Callable[[str], dict | None], external_ids: list[str],
                thread_name_prefix: str) -> dict[str, dict | None]:
    """`find(id)` for each id (a lookup by `_id`), in parallel once there are enough."""
    if len(external_ids) < 2 * READ_THREADS:
        return {external_id: find(external_id) for external_id in external_ids}
    with ThreadPoolExecutor(READ_THREADS, thread_name_prefix=thread_name_prefix) as pool:
        return dict(zip(external_ids, pool.map(find, external_ids), strict=True))


class DocumentsById:
    """A collection read by `_id` only (the one lookup FerretDB does fast), the base
    of the stores that hold one document per customer, order or the like."""

    thread_name_prefix = "read"

    def __init__(self, db, collection: str):
        self._db = db
        self._documents = db[collection]

    def find(self, document_id: str) -> dict | None:
        return self._documents.find_one({"_id": document_id})

    def find_many(self, document_ids: list[str]) -> dict[str, dict | None]:
        """Documents by `_id` (None where there is none), read in parallel."""
        return find_by_ids(self.find, document_ids, self.thread_name_prefix)

    def recreate(self) -> None:
        """Start from an empty collection that exists (so it can be renamed even if empty)."""
        self._documents.drop()
        self._db.create_collection(self._documents.name)
