"""The campaigns database (the only module writing it). Every collection below is
written by the campaigns service alone, and the hot paths only insert and read by `_id`
(on FerretDB any other filter, sort or count reads the whole collection):

- `campaigns`: one document per campaign, `_id` time-ordered (`new_campaign_id`),
  so newest first is a sort on `_id` (fine for the hundreds of campaigns a shop runs).
- `attempts`: `_id` "<campaign_id>:<n>", one per attempt (1 = launch, n > 1 = retry-failed);
  its insert is what makes two concurrent retries of one campaign impossible.
- `messages_<cid>`: the communications log, `_id` = the customer's external id
  (unique per campaign and customer), {message_id, attempt, text, to, queued_at}.
  Written once, by insert_many_new: a redelivered chunk changes nothing.
- `chunks_<cid>`: one document per audience chunk (`_id` = zero-padded chunk index)
  with the chunk's customer ids in order and its lint. Counted with collStats to
  know when the whole audience is queued; read by `_id` to page the log.
- `retry_chunks_<cid>`: the frozen recipients of each retry attempt ("<n>:<index>").
- `retried_<cid>`: `_id` = a FAILED message id that a later attempt sent again
  ({attempt, message_id of the new message}); its count is subtracted from failed.
- `holdout_<cid>`: the held-out customers (`_id` = external id, {chunk, held_out_at}),
  insert-only; counted with collStats, read by `_id` (attribution). Their chunk
  document lists them in order too (`held_out_ids`), which is what the listing pages.
- `controls`: `_id` "<campaign_id>:<sequence>", one per pause/resume/cancel
  ({action, control, at, requeued_at}); its insert is what makes two concurrent
  changes of one campaign impossible (the campaign's `control_seq` is the last applied).
- `launches`: `_id` = campaign id, {due_at, reason}: a launch owed (a scheduled
  campaign's `send_at`, or a launch request in progress), deleted once its events are
  logged. Tiny (only campaigns not launched yet), so the scheduler scans it every second.
"""
from __future__ import annotations

import os
import threading
import time
from datetime import UTC

from pymongo import ReplaceOne
from pymongo.database import Database
from pymongo.errors import OperationFailure

from shared.mongo import bulk_write_chunked, insert_many_new

CAMPAIGNS = "campaigns"
ATTEMPTS = "attempts"
CONTROLS = "controls"
LAUNCHES = "launches"

_id_lock = threading.Lock()
_last_id = 0


def new_campaign_id(now_ms: int | None = None) -> str:
    """32 hex digits: 48 bits of milliseconds, then 80 random bits; increasing within
    a process, so the newest campaign has the largest id (hex only: it is part of
    collection names and message ids)."""
    global _last_id
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    candidate = (now_ms << 80) | int.from_bytes(os.urandom(10), "big")
    with _id_lock:
        _last_id = max(candidate, _last_id + 1)
        return f"{_last_id:032x}"


def chunk_key(chunk_index: int) -> str:
    return f"{chunk_index:06d}"


def retry_chunk_key(attempt: int, index: int) -> str:
    return f"{attempt}:{index:06d}"


class CampaignStore:
    def __init__(self, db: Database):
        self._db = db
        self._campaigns = db[CAMPAIGNS]
        self._attempts = db[ATTEMPTS]
        self._controls = db[CONTROLS]
        self._launches = db[LAUNCHES]

    # -- campaigns --------------------------------------------------------
    def insert(self, campaign: dict) -> None:
        self._campaigns.insert_one(campaign)

    def find(self, campaign_id: str) -> dict | None:
        return self._campaigns.find_one({"_id": campaign_id})

    def page(self, before: str | None, limit: int) -> list[dict]:
        query = {} if before is None else {"_id": {"$lt": before}}
        return list(self._campaigns.find(query).sort("_id", -1).limit(limit))

    def update(self, campaign_id: str, fields: dict) -> None:
        self._campaigns.update_one({"_id": campaign_id}, {"$set": fields})

    def update_if(self, campaign_id: str, expected: dict, fields: dict) -> bool:
        """Set `fields` only if the campaign still has the `expected` values (one
        document's compare-and-set: FerretDB has no transactions); False if it had not."""
        result = self._campaigns.update_one({"_id": campaign_id, **expected}, {"$set": fields})
        return result.matched_count == 1

    # -- launches owed (scheduled, or in progress) -------------------------
    def owe_launch(self, campaign_id: str, due_at, reason: str) -> None:
        self._launches.replace_one({"_id": campaign_id}, {"due_at": due_at, "reason": reason},
                                   upsert=True)

    def due_launches(self, now) -> list[dict]:
        return [entry for entry in self._launches.find({})
                if _aware(entry["due_at"]) <= now]

    def drop_launch(self, campaign_id: str) -> None:
        self._launches.delete_one({"_id": campaign_id})

    # -- attempts ---------------------------------------------------------
    def insert_attempt(self, campaign_id: str, attempt: int, document: dict) -> bool:
        """False when that attempt exists already (someone else started it)."""
        return bool(insert_many_new(self._attempts, [
            {"_id": f"{campaign_id}:{attempt}", "campaign_id": campaign_id,
             "attempt": attempt, **document}]))

    def find_attempt(self, campaign_id: str, attempt: int) -> dict | None:
        return self._attempts.find_one({"_id": f"{campaign_id}:{attempt}"})

    def update_attempt(self, campaign_id: str, attempt: int, fields: dict) -> None:
        self._attempts.update_one({"_id": f"{campaign_id}:{attempt}"}, {"$set": fields})

    # -- control changes (pause, resume, cancel) ---------------------------
    def insert_control(self, campaign_id: str, sequence: int, document: dict) -> bool:
        """False when that change exists already (someone else made it)."""
        return bool(insert_many_new(self._controls, [
            {"_id": f"{campaign_id}:{sequence}", "campaign_id": campaign_id,
             "sequence": sequence, **document}]))

    def find_control(self, campaign_id: str, sequence: int) -> dict | None:
        return self._controls.find_one({"_id": f"{campaign_id}:{sequence}"})

    def update_control(self, campaign_id: str, sequence: int, fields: dict) -> None:
        self._controls.update_one({"_id": f"{campaign_id}:{sequence}"}, {"$set": fields})

    def control_of(self, campaign_id: str) -> str | None:
        """The campaign's control state (None: no such campaign), read by `_id`."""
        campaign = self._campaigns.find_one({"_id": campaign_id}, {"control": 1})
        return None if campaign is None else campaign.get("control", "active")

    # -- the communications log --------------------------------------------
    def insert_messages(self, campaign_id: str, entries: list[dict]) -> list[int]:
        """Indexes of the entries inserted; the others existed already."""
        return insert_many_new(self._db[f"messages_{campaign_id}"], entries)

    def mark_unsubscribed(self, campaign_id: str, customer_id: str, at) -> bool:
        """The entry's `unsubscribed_at` (its unsubscribe link was used); False: no entry."""
        result = self._db[f"messages_{campaign_id}"].update_one(
            {"_id": customer_id}, {"$set": {"unsubscribed_at": at}})
        return result.matched_count > 0

    def all_messages(self, campaign_id: str):
        """Every entry of the log (one read of the whole collection, streamed)."""
        return self._db[f"messages_{campaign_id}"].find({}, batch_size=2000)

    def find_messages(self, campaign_id: str, customer_ids: list[str]) -> dict[str, dict]:
        collection = self._db[f"messages_{campaign_id}"]
        found = {}
        for customer_id in customer_ids:
            entry = collection.find_one({"_id": customer_id})
            if entry is not None:
                found[customer_id] = entry
        return found

    # -- the holdout ---------------------------------------------------------
    def insert_held_out(self, campaign_id: str, entries: list[dict]) -> None:
        insert_many_new(self._db[f"holdout_{campaign_id}"], entries)

    def is_held_out(self, campaign_id: str, customer_id: str) -> bool:
        return self._db[f"holdout_{campaign_id}"].find_one({"_id": customer_id}) is not None

    def held_out_count(self, campaign_id: str) -> int:
        return self._count(f"holdout_{campaign_id}")

    def find_message(self, campaign_id: str, customer_id: str) -> dict | None:
        return self._db[f"messages_{campaign_id}"].find_one({"_id": customer_id})

    # -- chunks -------------------------------------------------------------
    def insert_chunk(self, campaign_id: str, chunk_index: int, document: dict) -> None:
        insert_many_new(self._db[f"chunks_{campaign_id}"],
                        [{"_id": chunk_key(chunk_index), **document}])

    def find_chunk(self, campaign_id: str, chunk_index: int) -> dict | None:
        return self._db[f"chunks_{campaign_id}"].find_one({"_id": chunk_key(chunk_index)})

    def all_chunks(self, campaign_id: str) -> list[dict]:
        """Every chunk document (one per <= 1,000 recipients: a small collection)."""
        return list(self._db[f"chunks_{campaign_id}"].find({}, {"ids": 0, "held_out_ids": 0}))

    def queued_chunks(self, campaign_id: str) -> int:
        return self._count(f"chunks_{campaign_id}")

    # -- retries --------------------------------------------------------------
    def freeze_retry(self, campaign_id: str, attempt: int, parts: list[dict]) -> None:
        """Record the recipients of a retry attempt ({ids, failed} per part); replaced
        whole, so a crash before the attempt's commit point leaves nothing stale."""
        bulk_write_chunked(self._db[f"retry_chunks_{campaign_id}"], (
            ReplaceOne({"_id": retry_chunk_key(attempt, n)}, part, upsert=True)
            for n, part in enumerate(parts)), chunk=10)

    def find_retry_chunk(self, campaign_id: str, attempt: int, index: int) -> dict | None:
        return self._db[f"retry_chunks_{campaign_id}"].find_one(
            {"_id": retry_chunk_key(attempt, index)})

    def insert_retried(self, campaign_id: str, entries: list[dict]) -> None:
        insert_many_new(self._db[f"retried_{campaign_id}"], entries)

    def find_retried(self, campaign_id: str, message_ids: list[str]) -> dict[str, dict]:
        collection = self._db[f"retried_{campaign_id}"]
        found = {}
        for message_id in message_ids:
            entry = collection.find_one({"_id": message_id})
            if entry is not None:
                found[message_id] = entry
        return found

    def all_retried(self, campaign_id: str) -> list[dict]:
        return list(self._db[f"retried_{campaign_id}"].find({}))

    def retried_count(self, campaign_id: str) -> int:
        return self._count(f"retried_{campaign_id}")

    def _count(self, name: str) -> int:
        # collStats is exact and ~0.1 s on FerretDB, where count_documents scans.
        try:
            return int(self._db.command("collStats", name).get("count", 0))
        except OperationFailure:
            return 0  # not created yet

    def reachable(self) -> bool:
        try:
            self._db.client.admin.command("ping")
            return True
        except Exception:
            return False


def _aware(moment):
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


class SegmentRules:
    """THE cross-service read of campaigns: a saved segment's rules, read-only and by
    `_id` from the segments database's `segments` collection (segments' audience
    requests take rules, not segment ids, and services do not call each other over HTTP)."""

    def __init__(self, segments_db: Database):
        self._segments = segments_db["segments"]
        self._profiles = segments_db["profiles"]

    def rules_of(self, segment_id: str) -> dict | None:
        segment = self._segments.find_one({"_id": segment_id}, {"rules": 1})
        return None if segment is None else segment["rules"]

    def profiles_of(self, external_ids: list[str]) -> dict[str, dict]:
        """Profiles by external id (test sends, at most 10), read by `_id`."""
        found = (self._profiles.find_one({"_id": external_id}) for external_id in external_ids)
        return {profile["_id"]: profile for profile in found if profile is not None}
