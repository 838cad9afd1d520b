"""The attribution read model in the campaigns database (written by the attribution
worker alone, and by `crm replay attribution`); every write is an insert or a
replace by `_id`, from one process at a time (single active consumer):

- `conversions_<cid>`: one document per order counted for the campaign
  (`_id` = the order's external id, {customer, group, day, amount}). Insert-only:
  a redelivered or replayed order inserts nothing, so it counts once.
- `attribution_waiting_<cid>`: orders that arrived while the campaign's audience
  was still being written (its members not all known yet), same shape without
  group; dropped once they are attributed.
- `attribution`: `_id` = campaign id, the day-by-day sums per group that the
  results endpoint reads with one find by `_id` ({groups, orders, updated_at}),
  replaced whole after every batch that touched the campaign.
"""
from __future__ import annotations

from datetime import datetime

from pymongo.database import Database

from shared.mongo import insert_many_new

SUMMARIES = "attribution"
# With what the assignment of a customer's group reads (recipients/groups.py).
_CAMPAIGN_FIELDS = {"status": 1, "created_at": 1, "launched_at": 1, "holdout_percent": 1,
                    "chunk_count": 1, "variants": 1, "message": 1, "assignment": 1}


class AttributionStore:
    def __init__(self, db: Database):
        self._db = db

    def launched_campaigns(self) -> list[dict]:
        """Every campaign, with what attribution needs (a shop has hundreds: one read)."""
        return list(self._db["campaigns"].find({}, _CAMPAIGN_FIELDS))

    def insert_conversions(self, campaign_id: str, conversions: list[dict]) -> None:
        insert_many_new(self._db[f"conversions_{campaign_id}"], conversions)

    def all_conversions(self, campaign_id: str):
        return self._db[f"conversions_{campaign_id}"].find({}, batch_size=5000)

    def insert_waiting(self, campaign_id: str, orders: list[dict]) -> None:
        insert_many_new(self._db[f"attribution_waiting_{campaign_id}"], orders)

    def all_waiting(self, campaign_id: str) -> list[dict]:
        return list(self._db[f"attribution_waiting_{campaign_id}"].find({}))

    def drop_waiting(self, campaign_id: str) -> None:
        self._db.drop_collection(f"attribution_waiting_{campaign_id}")

    def save_summary(self, campaign_id: str, summary: dict, now: datetime) -> None:
        self._db[SUMMARIES].replace_one({"_id": campaign_id},
                                        {**summary, "updated_at": now}, upsert=True)

    def find_summary(self, campaign_id: str) -> dict | None:
        return self._db[SUMMARIES].find_one({"_id": campaign_id})

    def drop_campaign(self, campaign_id: str) -> None:
        """Forget everything attributed to the campaign (replay rebuilds it)."""
        self._db.drop_collection(f"conversions_{campaign_id}")
        self._db.drop_collection(f"attribution_waiting_{campaign_id}")
        self._db[SUMMARIES].delete_one({"_id": campaign_id})
