"""Read-only view of delivery statuses: THE one cross-service read of the suite.

The campaigns API imports this module to build campaign stats and to show
each message's status; it reads receipts' database (pass it
`client[settings.database_name("receipts")]`) and never writes it. Every
collection keeps exactly one writer (receipts' consumer, receipts/store.py).

- `campaign_counts(db, cid)` -> {"sent": n, "failed": n}: collStats counts
  (exact, ~0.1 s on FerretDB, where count_documents scans the collection).
- `statuses_for(db, cid, message_ids)` -> {message_id: "SENT"|"FAILED"} for
  those that have a final status (missing ones are still pending).
- `reasons_for(db, cid, message_ids)` -> {message_id: the vendor's reason} for
  those that have one (failed messages: INVALID_NUMBER, UNREACHABLE, ...).
- `page_by_status(db, cid, status, after, limit)` -> up to `limit` message
  ids with that final status, in id order, after `after` (None for the first page).
"""
from __future__ import annotations

from pymongo.database import Database
from pymongo.errors import OperationFailure

SENT, FAILED = "SENT", "FAILED"


def statuses(campaign_id: str) -> str:
    return f"statuses_{campaign_id}"


def outcome_collection(campaign_id: str, status: str) -> str:
    return f"{'sent' if status == SENT else 'failed'}_{campaign_id}"


def _count(db: Database, name: str) -> int:
    try:
        return int(db.command("collStats", name).get("count", 0))
    except OperationFailure:
        return 0  # no receipt yet: the collection does not exist


def campaign_counts(db: Database, campaign_id: str) -> dict[str, int]:
    return {"sent": _count(db, outcome_collection(campaign_id, SENT)),
            "failed": _count(db, outcome_collection(campaign_id, FAILED))}


def statuses_for(db: Database, campaign_id: str, message_ids: list[str]) -> dict[str, str]:
    # One find_one by _id each: the only lookup FerretDB does without a scan.
    collection = db[statuses(campaign_id)]
    found = {}
    for message_id in message_ids:
        document = collection.find_one({"_id": message_id}, {"status": 1})
        if document is not None:
            found[message_id] = document["status"]
    return found


def reasons_for(db: Database, campaign_id: str, message_ids: list[str]) -> dict[str, str]:
    """The vendor's reason of each of those messages that has one (FAILED ones)."""
    collection = db[statuses(campaign_id)]
    found = {}
    for message_id in message_ids:
        document = collection.find_one({"_id": message_id}, {"reason": 1})
        if document is not None and document.get("reason"):
            found[message_id] = document["reason"]
    return found


def page_by_status(db: Database, campaign_id: str, status: str, after: str | None,
                   limit: int) -> list[str]:
    """Reads the whole outcome collection on FerretDB (a sort): for paging, not hot paths."""
    query = {} if after is None else {"_id": {"$gt": after}}
    cursor = db[outcome_collection(campaign_id, status)].find(query, {"_id": 1}).sort("_id", 1)
    return [document["_id"] for document in cursor.limit(limit)]
