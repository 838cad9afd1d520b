"""Saved segments and audience requests in the segments database.

Collections (each written only by the segments service):
- `segments`: saved segments. `_id` is time-ordered (`new_segment_id`), so
  "newest first" is a sort on `_id` and a page is `_id < cursor`. On FerretDB
  that filter and sort read the whole collection: fine for the hundreds of
  segments a shop keeps, and on MongoDB it uses the `_id` index.
- `audiences`: one record per audience request (`_id` = request_id) with its
  frozen size and chunk count; `audience_members`: the frozen member ids of
  an unfinished request in documents of MEMBERS_PER_DOCUMENT, read by `_id`
  (see audience_stream.py for why they are frozen, and when they go).
"""
from __future__ import annotations

import os
import threading
import time
from datetime import datetime

from pymongo import ReplaceOne
from pymongo.database import Database

from shared.backbone import envelope
from shared.backbone.outbox import LOG_COLLECTION
from shared.mongo import bulk_write_chunked

SEGMENTS = "segments"
AUDIENCES = "audiences"
AUDIENCE_MEMBERS = "audience_members"
MEMBERS_PER_DOCUMENT = 10_000

_id_lock = threading.Lock()
_last_id = 0


def new_segment_id(now_ms: int | None = None) -> str:
    """32 hex digits: 48 bits of milliseconds since 1970, then 80 random bits,
    strictly increasing within a process (two saves in one millisecond still
    sort in save order; across processes within a millisecond, the order is random)."""
    global _last_id
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    candidate = (now_ms << 80) | int.from_bytes(os.urandom(10), "big")
    with _id_lock:
        _last_id = max(candidate, _last_id + 1)
        return f"{_last_id:032x}"


class SegmentStore:
    def __init__(self, db: Database):
        self._segments = db[SEGMENTS]

    def insert(self, segment: dict) -> None:
        self._segments.insert_one(segment)

    def find(self, segment_id: str) -> dict | None:
        return self._segments.find_one({"_id": segment_id})

    def page(self, before: str | None, limit: int) -> list[dict]:
        """Up to `limit` segments with `_id` < `before`, newest first."""
        query = {} if before is None else {"_id": {"$lt": before}}
        return list(self._segments.find(query).sort("_id", -1).limit(limit))

    def rename(self, segment_id: str, name: str, updated_at: datetime) -> bool:
        result = self._segments.update_one({"_id": segment_id},
                                           {"$set": {"name": name, "updated_at": updated_at}})
        return result.matched_count == 1

    def delete(self, segment_id: str) -> bool:
        return self._segments.delete_one({"_id": segment_id}).deleted_count == 1


class AudienceStore:
    def __init__(self, db: Database):
        self._records = db[AUDIENCES]
        self._members = db[AUDIENCE_MEMBERS]
        self._log = db[LOG_COLLECTION]

    def find(self, request_id: str) -> dict | None:
        return self._records.find_one({"_id": request_id})

    def freeze(self, request_id: str, members: list[str], chunk_size: int,
               created_at: datetime) -> dict:
        """Record the request's members; the record, written last, is the commit point
        (member documents left by a crash before it are overwritten by the next try)."""
        parts = [members[i:i + MEMBERS_PER_DOCUMENT]
                 for i in range(0, len(members), MEMBERS_PER_DOCUMENT)]
        bulk_write_chunked(self._members, (
            ReplaceOne({"_id": _member_document_id(request_id, n)}, {"ids": part}, upsert=True)
            for n, part in enumerate(parts)), chunk=10)
        record = {"_id": request_id, "audience_size": len(members),
                  "chunk_count": max(1, -(-len(members) // chunk_size)),
                  "member_documents": len(parts), "complete": False, "created_at": created_at}
        self._records.replace_one({"_id": request_id}, record, upsert=True)
        return record

    def members(self, record: dict) -> list[str]:
        ids: list[str] = []
        for n in range(record["member_documents"]):
            document = self._members.find_one({"_id": _member_document_id(record["_id"], n)})
            if document is None:
                raise LookupError(f"member document {n} of audience {record['_id']} is missing")
            ids += document["ids"]
        return ids

    def complete(self, record: dict) -> None:
        """Every chunk is in the event log: the members are no longer needed."""
        self._records.update_one({"_id": record["_id"]}, {"$set": {"complete": True}})
        for n in range(record["member_documents"]):
            self._members.delete_one({"_id": _member_document_id(record["_id"], n)})

    def logged_event(self, event_id: str) -> dict | None:
        """An event of the segments event log as it was published (by `_id`: fast)."""
        document = self._log.find_one({"_id": event_id})
        return None if document is None else envelope.logged(document)


def _member_document_id(request_id: str, n: int) -> str:
    return f"{request_id}/{n:06d}"
