"""The attribution worker's handler: `order.placed` batches -> conversions and sums.

It keeps, in memory, every tracked campaign's counted orders (loaded from
`conversions_<cid>` when the campaign is first seen, so a restart resumes
exactly) and writes the campaign's sums by `_id` after each batch. That is
safe because one process at a time runs it (a single active consumer) and
the handler and the ticker share one lock.

Membership is read from the campaign's own log (`messages_<cid>`, which
carries the variant) and holdout (`holdout_<cid>`), by `_id`. While a campaign's
audience is still being written, a customer missing from both may only be
missing yet: such orders wait (`attribution_waiting_<cid>`, and in memory) and
are attributed once every chunk is recorded (checked by every batch and by
`tick`, called every few seconds). Campaigns stay tracked for TRACK_DAYS after
launch, so an order accepted late but placed inside the window still counts.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from campaigns.recipients import groups
from campaigns.recipients.groups import DEFAULT_VARIANT, HOLDOUT
from campaigns.results.attribution import (
    MAX_WINDOW_DAYS,
    CampaignConversions,
    as_utc,
    day_after_launch,
    launched_at_of,
)
from shared.backbone.events import ORDER_PLACED

log = logging.getLogger(__name__)
TRACK_DAYS = 2 * MAX_WINDOW_DAYS
COMPLETE_CHECK_SECONDS = 1.0


@dataclass
class Tracked:
    conversions: CampaignConversions
    campaign: dict
    waiting: list[dict] = field(default_factory=list)
    complete: bool = False
    checked_at: float = 0.0


class Attributor:
    def __init__(self, *, store, attribution_store, clock=lambda: datetime.now(UTC),
                 refresh_seconds: float = 2.0, track_days: float | None = TRACK_DAYS):
        """`track_days` None: every launched campaign, however old (replay)."""
        self._store, self._attribution = store, attribution_store
        self._clock, self._refresh_seconds = clock, refresh_seconds
        self._track_days = track_days
        self._lock = threading.Lock()
        self._tracked: dict[str, Tracked] = {}
        self._refreshed = float("-inf")
        # A standby (single active consumer) gets no batch: its ticks must not write.
        self._active = False

    def handle_batch(self, envelopes: list[dict]) -> None:
        orders = [order for order in map(_order, envelopes) if order is not None]
        with self._lock:
            self._active = True
            self._refresh(force=False)
            touched = self._resolve_completed() | self._attribute(orders)
            self._save(touched)

    def tick(self) -> None:
        """Pick up new campaigns and attribute waiting orders of completed audiences."""
        with self._lock:
            if not self._active:
                return
            self._refresh(force=True)
            self._save(self._resolve_completed())

    # -- campaigns ------------------------------------------------------------
    def _refresh(self, *, force: bool) -> None:
        if not force and time.monotonic() - self._refreshed < self._refresh_seconds:
            return
        horizon = (None if self._track_days is None
                   else self._clock() - timedelta(days=self._track_days))
        for campaign in self._attribution.launched_campaigns():
            launched_at = launched_at_of(campaign)
            cid = campaign["_id"]
            if launched_at is None or (horizon is not None and launched_at < horizon):
                self._tracked.pop(cid, None)
            elif cid in self._tracked:
                self._tracked[cid].campaign = campaign
            else:
                self._tracked[cid] = self._load(campaign, launched_at)
        self._refreshed = time.monotonic()

    def _load(self, campaign: dict, launched_at: datetime) -> Tracked:
        cid = campaign["_id"]
        conversions = CampaignConversions(cid, launched_at)
        for stored in self._attribution.all_conversions(cid):
            conversions.add(stored["_id"], stored["customer"], stored["group"], stored["day"],
                            stored["amount"])
        return Tracked(conversions, campaign, waiting=self._attribution.all_waiting(cid))

    def _is_complete(self, tracked: Tracked) -> bool:
        """Every chunk of the audience is recorded: who is in it is known for good."""
        if not tracked.complete and time.monotonic() - tracked.checked_at >= \
                COMPLETE_CHECK_SECONDS:
            tracked.checked_at = time.monotonic()
            chunk_count = tracked.campaign.get("chunk_count")
            if chunk_count is None:
                chunk_count = (self._store.find(tracked.conversions.campaign_id) or {}).get(
                    "chunk_count")
            tracked.complete = (chunk_count is not None and self._store.queued_chunks(
                tracked.conversions.campaign_id) >= chunk_count)
        return tracked.complete

    # -- orders ---------------------------------------------------------------
    def _resolve_completed(self) -> set[str]:
        touched = set()
        for cid, tracked in self._tracked.items():
            if tracked.waiting and self._is_complete(tracked):
                self._count(tracked, tracked.waiting)
                self._attribution.drop_waiting(cid)
                log.info("waiting orders attributed", extra={"campaign_id": cid,
                                                             "orders": len(tracked.waiting)})
                tracked.waiting = []
                touched.add(cid)
        return touched

    def _attribute(self, orders: list[dict]) -> set[str]:
        touched = set()
        for cid, tracked in self._tracked.items():
            mine = []
            for order in orders:
                day = day_after_launch(tracked.conversions.launched_at, order["placed_at"])
                if day is not None:
                    mine.append({"_id": order["order_id"], "customer": order["customer"],
                                 "day": day, "amount": order["amount"]})
            if not mine:
                continue
            if self._is_complete(tracked):
                if self._count(tracked, mine):
                    touched.add(cid)
            else:
                self._attribution.insert_waiting(cid, mine)
                tracked.waiting += mine
        return touched

    def _count(self, tracked: Tracked, orders: list[dict]) -> int:
        """Count the orders of audience members: stored first, then in memory, so a
        failure half-way is retried whole and each order still counts once."""
        cid = tracked.conversions.campaign_id
        groups: dict[str, str | None] = {}
        counted = []
        for order in orders:
            customer = order["customer"]
            if customer not in groups:
                groups[customer] = self._group_of(tracked, customer)
            if groups[customer] is not None:
                counted.append({**order, "group": groups[customer]})
        if counted:
            self._attribution.insert_conversions(cid, counted)
        return sum(tracked.conversions.add(c["_id"], c["customer"], c["group"], c["day"],
                                           c["amount"]) for c in counted)

    def _group_of(self, tracked: Tracked, customer: str) -> str | None:
        # A customer who ordered before is not looked up again, and the assignment says
        # where to look first (the holdout, or the log), so a member takes one find by _id
        # (a held-out one took two). The other place is still read on a miss: the group
        # recorded at launch is the one that counts.
        known = tracked.conversions.group_of(customer)
        if known is not None:
            return known
        campaign, cid = tracked.campaign, tracked.conversions.campaign_id
        holdout = bool(campaign.get("holdout_percent"))
        if holdout and groups.group_of(campaign, customer) == HOLDOUT:
            if self._store.is_held_out(cid, customer):
                return HOLDOUT
            holdout = False
        entry = self._store.find_message(cid, customer)
        if entry is not None:
            return entry.get("variant", DEFAULT_VARIANT)
        if holdout and self._store.is_held_out(cid, customer):
            return HOLDOUT
        return None

    def _save(self, touched: set[str]) -> None:
        now = self._clock()
        for cid in touched:
            self._attribution.save_summary(cid, self._tracked[cid].conversions.summary(), now)


def _order(envelope: dict) -> dict | None:
    if envelope.get("event_type") != ORDER_PLACED:
        return None
    data = envelope["data"]
    try:
        placed_at = as_utc(data["placed_at"])
    except (KeyError, TypeError, ValueError):
        log.warning("order.placed without a readable placed_at; not attributed",
                    extra={"event_id": envelope.get("event_id")})
        return None
    return {"order_id": data["external_id"], "customer": data["customer_external_id"],
            "amount": float(data["amount"]), "placed_at": placed_at}

