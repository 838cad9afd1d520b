"""Applying deliveries.reported (and older delivery.reported) batches, with a hand-written
in-memory store."""
from __future__ import annotations

import pytest
from receipts import domain
from receipts.handlers import UnknownCampaign, apply_batch, apply_deliveries, report_receipts

from shared.backbone.envelope import new_event
from shared.backbone.events import CAMPAIGN_LAUNCHED, DELIVERIES_REPORTED, DELIVERY_REPORTED


class FakeStore:
    """Insert-only collections keyed by message id, like receipts' real store."""

    def __init__(self):
        self.statuses: dict[str, dict[str, str]] = {}
        self.outcomes: dict[tuple[str, str], set[str]] = {}
        self.fail_outcomes_once = False
        self.campaigns: set[str] = set()

    def remember_campaigns(self, launches):
        self.campaigns.update(launch["campaign_id"] for launch in launches)

    def known_campaigns(self, campaign_ids):
        return campaign_ids & self.campaigns

    def record_statuses(self, campaign_id, deliveries):
        stored = self.statuses.setdefault(campaign_id, {})
        inserted = set()
        for delivery in deliveries:
            if delivery["message_id"] not in stored:
                stored[delivery["message_id"]] = delivery["status"]
                inserted.add(delivery["message_id"])
        return inserted

    def stored_statuses(self, campaign_id, message_ids):
        stored = self.statuses.get(campaign_id, {})
        return {i: stored[i] for i in message_ids if i in stored}

    def record_outcomes(self, campaign_id, status, message_ids):
        if self.fail_outcomes_once:
            self.fail_outcomes_once = False
            raise ConnectionError("killed between the two inserts")
        self.outcomes.setdefault((campaign_id, status), set()).update(message_ids)

    def refresh_stats(self, campaign_id):
        return {"sent": len(self.outcomes.get((campaign_id, "SENT"), ())),
                "failed": len(self.outcomes.get((campaign_id, "FAILED"), ()))}


def _receipts(pairs):
    return [{"message_id": m, "status": s, "reported_at": "2026-01-01T00:00:00+00:00"}
            for m, s in pairs]


def _events(pairs):
    """One `deliveries.reported` event for the whole callback."""
    return [domain.deliveries_reported(_receipts(pairs), "corr")]


def _old_events(pairs):
    """One `delivery.reported` per receipt, as logged before `deliveries.reported`."""
    return [new_event(DELIVERY_REPORTED, domain.delivery_of(receipt), producer="receipts",
                      event_id=domain.delivery_event_id(receipt["message_id"], receipt["status"]))
            for receipt in _receipts(pairs)]


def test_counts_follow_first_final_status():
    store = FakeStore()
    counts = apply_deliveries(_events([("c.1.0", "SENT"), ("c.1.1", "FAILED"), ("c.1.2", "SENT")]),
                              store=store)
    assert counts == {"c": {"sent": 2, "failed": 1}}


def test_duplicates_and_out_of_order_receipts_change_nothing():
    store = FakeStore()
    apply_deliveries(_events([("c.1.0", "SENT"), ("c.1.1", "FAILED")]), store=store)
    counts = apply_deliveries(_events([("c.1.0", "FAILED"), ("c.1.1", "SENT"), ("c.1.0", "SENT")]),
                              store=store)
    assert counts == {"c": {"sent": 1, "failed": 1}}
    assert store.statuses["c"] == {"c.1.0": "SENT", "c.1.1": "FAILED"}


def test_redelivery_after_a_crash_between_the_inserts_repairs_the_counts():
    store = FakeStore()
    store.fail_outcomes_once = True
    batch = _events([("c.1.0", "SENT"), ("c.1.1", "SENT")])
    try:
        apply_deliveries(batch, store=store)
    except ConnectionError:
        pass
    assert store.refresh_stats("c") == {"sent": 0, "failed": 0}
    assert apply_deliveries(batch, store=store) == {"c": {"sent": 2, "failed": 0}}


def test_campaigns_are_kept_apart():
    store = FakeStore()
    counts = apply_deliveries(_events([("a.1.0", "SENT"), ("b.1.0", "FAILED")]), store=store)
    assert counts == {"a": {"sent": 1, "failed": 0}, "b": {"sent": 0, "failed": 1}}


def test_report_appends_one_batch_of_events():
    class FakeLog:
        def __init__(self):
            self.batches = []

        def append(self, batch):
            self.batches.append(batch)

    log = FakeLog()
    receipts = [{"message_id": "c.1.0", "status": "SENT", "reported_at": "2026-01-01T00:00:00Z"},
                {"message_id": "c.1.0", "status": "SENT", "reported_at": "2026-01-01T00:00:00Z"}]
    assert report_receipts(receipts, event_log=log, correlation_id="x") == 1
    (batch,) = log.batches
    (event,) = batch
    assert event["event_type"] == DELIVERIES_REPORTED
    assert [r["message_id"] for r in event["data"]["receipts"]] == ["c.1.0"]


def _launched(campaign_id):
    return new_event(CAMPAIGN_LAUNCHED, {"campaign_id": campaign_id, "attempt": 1},
                     producer="campaigns")


def test_a_batch_learns_its_campaigns_before_applying_their_receipts():
    store = FakeStore()
    counts = apply_batch([_launched("c")] + _events([("c.1.0", "SENT")]), store=store)
    assert counts == {"c": {"sent": 1, "failed": 0}}


def test_receipts_of_unknown_campaigns_raise_after_the_known_ones_are_applied():
    store = FakeStore()
    apply_batch([_launched("c")], store=store)
    with pytest.raises(UnknownCampaign):
        apply_batch(_events([("c.1.0", "SENT"), ("x.1.0", "SENT")]), store=store)
    assert store.refresh_stats("c") == {"sent": 1, "failed": 0}
    assert "x" not in store.statuses


def test_old_per_receipt_events_apply_like_a_callback_event():
    pairs = [("c.1.0", "SENT"), ("c.1.1", "FAILED"), ("c.1.0", "FAILED")]
    old, new = FakeStore(), FakeStore()
    assert apply_deliveries(_old_events(pairs), store=old) == {"c": {"sent": 1, "failed": 1}}
    assert apply_deliveries(_events(pairs), store=new) == {"c": {"sent": 1, "failed": 1}}
    assert old.statuses == new.statuses == {"c": {"c.1.0": "SENT", "c.1.1": "FAILED"}}


def test_a_batch_mixing_old_and_new_events_applies_them_in_order():
    store = FakeStore()
    events = _old_events([("c.1.0", "FAILED")]) + _events([("c.1.0", "SENT"), ("c.1.1", "SENT")])
    assert apply_batch([_launched("c")] + events, store=store) == {"c": {"sent": 1, "failed": 1}}
    assert store.statuses["c"] == {"c.1.0": "FAILED", "c.1.1": "SENT"}


def test_a_callback_mixing_known_and_unknown_campaigns_applies_the_known_part_once():
    store = FakeStore()
    apply_batch([_launched("c")], store=store)
    event = _events([("c.1.0", "SENT"), ("x.1.0", "SENT"), ("c.1.1", "FAILED")])
    for _retry in range(3):  # the consumer retries the event, then dead-letters it
        with pytest.raises(UnknownCampaign):
            apply_batch(event, store=store)
    assert store.refresh_stats("c") == {"sent": 1, "failed": 1}
    assert "x" not in store.statuses
    apply_batch([_launched("x")], store=store)  # its launch was late: the next retry applies it
    assert apply_batch(event, store=store) == {"c": {"sent": 1, "failed": 1},
                                                "x": {"sent": 1, "failed": 0}}
