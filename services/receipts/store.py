"""Delivery statuses per campaign, insert-only: the only module writing receipts' database.

For campaign `<cid>`:
- `statuses_<cid>`: `_id` = message id, {status, provider_message_id,
  customer_external_id, reported_at, reason}. The first final status stored wins.
- `sent_<cid>` / `failed_<cid>`: `_id` = message id, one document per message
  whose winning status is that one, so their collStats counts ARE the stats.
- `campaign_stats`: `_id` = campaign id, a cache of the two counts.
- `campaigns`: `_id` = campaign id, every campaign seen in `campaign.launched`.
Every filter is `{"_id": value}` (FerretDB answers only those quickly).
"""
from __future__ import annotations

from datetime import UTC, datetime

from pymongo.database import Database

from receipts import deliveries_view
from shared.mongo import insert_many_new, ping

STATS_COLLECTION = "campaign_stats"
CAMPAIGNS_COLLECTION = "campaigns"


class DeliveryStore:
    def __init__(self, db: Database):
        self._db = db
        # Campaigns are never forgotten, so a cache of known ones is always right.
        self._known_campaigns: set[str] = set()

    def reachable(self) -> bool:
        return ping(self._db.client)

    def record_statuses(self, campaign_id: str, deliveries: list[dict]) -> set[str]:
        """Insert each delivery's status unless its message has one.

        Returns the message ids inserted."""
        documents = [{"_id": d["message_id"], "status": d["status"],
                      "provider_message_id": d.get("provider_message_id"),
                      "customer_external_id": d.get("customer_external_id"),
                      "reported_at": d["reported_at"], "reason": d.get("reason")}
                     for d in deliveries]
        inserted = insert_many_new(self._db[deliveries_view.statuses(campaign_id)], documents)
        return {documents[i]["_id"] for i in inserted}

    def stored_statuses(self, campaign_id: str, message_ids: list[str]) -> dict[str, str]:
        return deliveries_view.statuses_for(self._db, campaign_id, message_ids)

    def record_outcomes(self, campaign_id: str, status: str, message_ids: list[str]) -> None:
        now = datetime.now(UTC)
        collection = self._db[deliveries_view.outcome_collection(campaign_id, status)]
        insert_many_new(collection, [{"_id": i, "recorded_at": now} for i in message_ids])

    def remember_campaigns(self, launches: list[dict]) -> None:
        """Campaign attempts seen in `campaign.launched` (first one of each campaign kept)."""
        now = datetime.now(UTC)
        insert_many_new(self._db[CAMPAIGNS_COLLECTION],
                        [{"_id": launch["campaign_id"], "attempt": launch["attempt"],
                          "first_seen_at": now} for launch in launches])
        self._known_campaigns.update(launch["campaign_id"] for launch in launches)

    def known_campaigns(self, campaign_ids: set[str]) -> set[str]:
        misses = campaign_ids - self._known_campaigns
        found = {i for i in misses
                 if self._db[CAMPAIGNS_COLLECTION].find_one({"_id": i}, {"_id": 1}) is not None}
        self._known_campaigns.update(found)
        return campaign_ids & self._known_campaigns

    def drop_campaign_projections(self, campaign_id: str) -> None:
        """Forget a campaign's statuses, outcomes and stats (a replay rebuilds them)."""
        for name in (deliveries_view.statuses(campaign_id),
                     *(deliveries_view.outcome_collection(campaign_id, status)
                       for status in (deliveries_view.SENT, deliveries_view.FAILED))):
            self._db.drop_collection(name)
        self._db[STATS_COLLECTION].delete_one({"_id": campaign_id})

    def refresh_stats(self, campaign_id: str) -> dict[str, int]:
        counts = deliveries_view.campaign_counts(self._db, campaign_id)
        self._db[STATS_COLLECTION].replace_one(
            {"_id": campaign_id}, {**counts, "updated_at": datetime.now(UTC)}, upsert=True)
        return counts
