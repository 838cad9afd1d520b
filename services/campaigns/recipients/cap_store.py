"""The frequency cap's storage in the campaigns database (written by campaigns alone):

- `settings`: `_id` "frequency_cap" -> {max_messages, per_days, updated_at}; absent
  means no cap. One document written whole by `PUT`, read by `_id`.
- the send ledger is not stored: it is the communications logs (`messages_<cid>`)
  of the campaigns launched recently (frequency_cap.py), read whole when the
  dispatcher loads it.
"""
from __future__ import annotations

from datetime import UTC, datetime

from pymongo.database import Database

from campaigns.recipients.frequency_cap import Cap

SETTINGS = "settings"
FREQUENCY_CAP = "frequency_cap"


class CapStore:
    def __init__(self, db: Database):
        self._db = db

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
        naive = since.astimezone(UTC).replace(tzinfo=None)
        return [(document["_id"], document["created_at"]) for document in
                self._db["campaigns"].find({"created_at": {"$gte": naive}},
                                           {"created_at": 1})]

    def logged_customers(self, campaign_id: str) -> list[str]:
        """Every customer the campaign's communications log holds (one read of it)."""
        return [document["_id"] for document in
                self._db[f"messages_{campaign_id}"].find({}, {"_id": 1}, batch_size=5000)]
