"""The vendor's own records, insert-only: the only module touching its database.

- `messages`: `_id` = our message id, inserted once when accepted (a resend
  inserts nothing), so a kill -9 neither loses an accepted message nor sends it twice.
- `reported`: one document per acknowledged callback, listing its message ids
  (one row instead of a thousand: the database is the bottleneck of a
  campaign). At start, messages in no `reported` document are reported again.
"""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from pymongo.database import Database

from shared.mongo import insert_many_new


class VendorStore:
    def __init__(self, db: Database):
        self._messages = db["messages"]
        self._reported = db["reported"]

    def accept(self, messages: list[dict]) -> list[dict]:
        """Insert messages (each with `_id`); returns those that were new."""
        now = datetime.now(UTC)
        documents = [{**message, "accepted_at": now} for message in messages]
        return [documents[i] for i in insert_many_new(self._messages, documents)]

    def mark_reported(self, message_ids: list[str]) -> None:
        self._reported.insert_one({"_id": str(uuid.uuid4()), "message_ids": message_ids,
                                   "reported_at": datetime.now(UTC)})

    def reported_count(self) -> int:
        """Message ids acknowledged (a scan; for tests and diagnostics)."""
        return len(self._reported_ids())

    def unreported(self) -> list[dict]:
        """Accepted messages whose receipt was never acknowledged (one scan each, at start only)."""
        reported = self._reported_ids()
        return [message for message in self._messages.find({}, batch_size=10_000)
                if message["_id"] not in reported]

    def _reported_ids(self) -> set[str]:
        reported: set[str] = set()
        for document in self._reported.find({}, {"message_ids": 1}, batch_size=100):
            reported.update(document["message_ids"])
        return reported
