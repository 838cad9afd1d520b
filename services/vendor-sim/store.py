"""The vendor's own records, insert-only: the only module touching its database.

- `messages`: `_id` = our message id, inserted once when accepted (a resend
  inserts nothing), so a kill -9 neither loses an accepted message nor sends it twice.
- `reported`: `_id` = message id, inserted once its receipt was acknowledged
  by the webhook. At start, messages without a `reported` entry are reported again.
"""
from __future__ import annotations

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
        now = datetime.now(UTC)
        insert_many_new(self._reported, [{"_id": i, "reported_at": now} for i in message_ids])

    def unreported(self) -> list[dict]:
        """Accepted messages whose receipt was never acknowledged (one scan each, at start only)."""
        reported = {document["_id"] for document in self._reported.find({}, {"_id": 1},
                                                                          batch_size=10_000)}
        return [message for message in self._messages.find({}, batch_size=10_000)
                if message["_id"] not in reported]
