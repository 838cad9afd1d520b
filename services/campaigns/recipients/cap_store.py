"""The frequency cap's storage in the campaigns database (written by campaigns alone):

- `settings`: `_id` "frequency_cap" -> {max_messages, per_days, updated_at}; absent
  means no cap. One document written whole by `PUT`, read by `_id`.
- the send ledger is not stored: it is the communications logs (`messages_<cid>`)
  of the campaigns launched recently (frequency_cap.py), read whole when the
  dispatcher loads it and at every preflight while a cap is set.

A campaign's log is final once its whole audience is queued: the dispatcher writes a
chunk's document (`chunks_<cid>`) only after that chunk's log entries, a redelivered
chunk inserts nothing, and retries log into `retried_<cid>`. So `logged_customers`
keeps, per process, the customers of each campaign that was fully queued BEFORE its
log was read, and never reads that log again; a campaign still being dispatched is
read at every call. Exact, without counters: nothing is cached that can still grow.
Memory: a list of references to the ledger's own strings (~8 bytes per message);
campaigns launched before the window asked for are let go.
"""
from __future__ import annotations

import threading
from datetime import UTC, datetime

from pymongo.database import Database
from pymongo.errors import OperationFailure

from campaigns.recipients.frequency_cap import Cap

SETTINGS = "settings"
FREQUENCY_CAP = "frequency_cap"


class CapStore:
    def __init__(self, db: Database):
        self._db = db
        self._final: dict[str, tuple[datetime, list[str]]] = {}  # fully queued: never grows
        self._final_lock = threading.Lock()  # a threaded server's requests share it

    def frequency_cap(self) -> Cap:
        document = self._db[SETTINGS].find_one({"_id": FREQUENCY_CAP})
        if document is None or document.get("max_messages") is None:
            return Cap(None, (document or {}).get("per_days") or 7)
        return Cap(int(document["max_messages"]), int(document["per_days"]))

    def set_frequency_cap(self, cap: Cap, now: datetime) -> None:
        self._db[SETTINGS].replace_one(
            {"_id": FREQUENCY_CAP},
            {"_id": FREQUENCY_CAP, "max_messages": cap.max_messages, "per_days": cap.per_days,
             "updated_at": now}, upsert=True)

    def campaigns_launched_since(self, since: datetime) -> list[tuple[str, datetime]]:
        """(campaign id, launch time) of every campaign created since `since` (one read
        of the campaigns collection: hundreds of documents)."""
        naive = _naive_utc(since)
        found = [(document["_id"], document["created_at"]) for document in
                 self._db["campaigns"].find({"created_at": {"$gte": naive}},
                                            {"created_at": 1})]
        with self._final_lock:  # out of the window: let go (read again if ever asked)
            self._final = {cid: kept for cid, kept in self._final.items()
                           if _naive_utc(kept[0]) >= naive}
        return found

    def logged_customers(self, campaign_id: str) -> list[str]:
        """Every customer the campaign's communications log holds (one read of it, or
        none once the campaign was seen fully queued)."""
        final = self._final.get(campaign_id)
        if final is not None:
            return final[1]
        launched_at = self._fully_queued_at(campaign_id)  # asked BEFORE reading the log
        customers = [document["_id"] for document in
                     self._db[f"messages_{campaign_id}"].find({}, {"_id": 1}, batch_size=5000)]
        if launched_at is not None:
            with self._final_lock:
                self._final[campaign_id] = (launched_at, customers)
        return customers

    def _fully_queued_at(self, campaign_id: str) -> datetime | None:
        """The campaign's launch time if every chunk of its audience is recorded."""
        campaign = self._db["campaigns"].find_one({"_id": campaign_id},
                                                  {"chunk_count": 1, "created_at": 1})
        if campaign is None or campaign.get("chunk_count") is None:
            return None
        try:  # collStats: exact, where count_documents would scan
            queued = int(self._db.command("collStats", f"chunks_{campaign_id}").get("count", 0))
        except OperationFailure:
            return None  # no chunk recorded yet
        return campaign["created_at"] if queued >= campaign["chunk_count"] else None


def _naive_utc(moment: datetime) -> datetime:
    # The database gives naive UTC times (or aware ones, by client options).
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
