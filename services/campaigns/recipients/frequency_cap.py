"""The frequency cap (API.md, Frequency cap), exact when campaigns launch at the same moment.

FerretDB has no transactions and loses concurrent `$inc` (docs/architecture.md),
so no counter is kept in the database. Instead the cap has ONE owner: the
campaigns dispatcher, the single active consumer of its queue, decides every
launch's audience chunk by chunk, one after another, and is the only writer of
the communications logs (`messages_<cid>`, `_id` = customer). Those logs are
the send ledger: "customer c got a message from campaign X, launched at t".

`SendLedger` is the dispatcher's in-memory index of them (customer -> campaign
-> launch time), loaded from the logs of the campaigns launched in the last
MAX_PER_DAYS days the first time a cap is in force (and again after a
reconnect, when another dispatcher may have been active), then kept current
as chunks are logged. Because decisions are serial and each sees every
earlier one, a customer is capped when `max_messages` OTHER campaigns
launched less than `per_days` before or after this one already messaged
them: then no window of `per_days` ever holds more than `max_messages`
campaigns' messages for anyone, whatever order simultaneous launches are
decided in. A customer this campaign already logged (a chunk redelivered
after a crash) is never capped: the first decision stands.
A campaign created with `ignore_frequency_cap` is not capped, but is recorded.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

log = logging.getLogger(__name__)

MAX_PER_DAYS = 90


@dataclass(frozen=True)
class Cap:
    max_messages: int | None = None  # None: no cap (the default)
    per_days: int = 7

    @property
    def active(self) -> bool:
        return self.max_messages is not None


def _epoch(moment: datetime) -> float:
    # Times read back from the database are naive UTC.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


class SendLedger:
    def __init__(self) -> None:
        self._sent: dict[str, dict[str, float]] = {}  # customer -> campaign -> launch (epoch s)

    def __len__(self) -> int:
        return len(self._sent)

    def record(self, campaign_id: str, launched_at: datetime, customer_ids) -> None:
        moment = _epoch(launched_at)
        for customer in customer_ids:
            self._sent.setdefault(customer, {})[campaign_id] = moment

    def capped(self, campaign_id: str, launched_at: datetime, customer_ids, cap: Cap) -> set[str]:
        """Those of `customer_ids` who are at the cap for this campaign."""
        if not cap.active:
            return set()
        moment, span = _epoch(launched_at), cap.per_days * 86_400
        capped = set()
        for customer in customer_ids:
            sent = self._sent.get(customer)
            if not sent or campaign_id in sent:
                continue
            near = sum(1 for at in sent.values() if abs(at - moment) < span)
            if near >= cap.max_messages:
                capped.add(customer)
        return capped


class LedgerOwner:
    """The dispatcher's ledger and cap: `at_cap(campaign)` for exclusions.decide,
    `record(campaign, ids)` after a chunk is logged, `clear()` on (re)connect.
    `store`: cap_store.CapStore (or a fake)."""

    def __init__(self, store) -> None:
        self._store = store
        self._ledger: SendLedger | None = None

    def clear(self) -> None:
        self._ledger = None

    def at_cap(self, campaign: dict):
        """The `at_cap(ids)` of this campaign, or None when it is not capped."""
        cap = self._store.frequency_cap()
        if not cap.active or campaign.get("ignore_frequency_cap"):
            return None
        ledger = self._loaded(campaign["created_at"])
        return lambda ids: ledger.capped(campaign["_id"], campaign["created_at"], ids, cap)

    def record(self, campaign: dict, customer_ids: list[str]) -> None:
        if self._ledger is not None:  # not loaded: the logs already say it all
            self._ledger.record(campaign["_id"], campaign["created_at"], customer_ids)

    def _loaded(self, now: datetime) -> SendLedger:
        if self._ledger is None:
            ledger = SendLedger()
            since = (now if now.tzinfo else now.replace(tzinfo=UTC)) - timedelta(days=MAX_PER_DAYS)
            campaigns = self._store.campaigns_launched_since(since)
            for campaign_id, launched_at in campaigns:
                ledger.record(campaign_id, launched_at, self._store.logged_customers(campaign_id))
            log.info("send ledger loaded", extra={"campaigns": len(campaigns),
                                                  "customers": len(ledger)})
            self._ledger = ledger
        return self._ledger
