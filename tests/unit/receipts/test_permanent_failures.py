"""A permanent vendor failure (INVALID_NUMBER) is marked so from the vendor's receipt to the
`deliveries.reported` event that segments suppresses its customer from."""
from __future__ import annotations

from receipts.domain import deliveries_reported
from receipts.schemas import load_receipt_batch
from vendor_sim import domain as vendor

from shared.backbone.events import upcast


def receipts_of(outcomes: list[tuple[str, vendor.Outcome]]) -> list[dict]:
    return [vendor.receipt({"_id": message_id, "provider_message_id": "pm",
                            "metadata": {"customer_external_id": f"c{n}"}},
                           outcome, "2026-01-01T00:00:00.000Z")
            for n, (message_id, outcome) in enumerate(outcomes)]


def test_only_invalid_numbers_are_permanent_and_the_mark_reaches_the_event():
    options = dict(seed=7, failure_rate=0.3, min_delay_ms=1, max_delay_ms=2)
    outcomes = [(f"cmp.1.{i}", vendor.outcome(f"cmp.1.{i}", **options)) for i in range(300)]
    sent = receipts_of(outcomes)
    assert {r["reason"] for r in sent if r["permanent"]} == {"INVALID_NUMBER"}
    assert all(r["permanent"] == (r["reason"] == "INVALID_NUMBER") for r in sent)
    event = upcast(deliveries_reported(load_receipt_batch({"receipts": sent}), "corr"))
    marked = {r["message_id"] for r in event["data"]["receipts"] if r["permanent"]}
    assert marked == {r["message_id"] for r in sent if r["permanent"]} and marked


def test_a_receipt_without_the_mark_is_not_permanent_and_a_sent_one_never_is():
    plain = {"message_id": "cmp.1.0", "status": "FAILED", "reported_at": "2026-01-01T00:00:00Z",
             "reason": "INVALID_NUMBER"}
    sent = {**plain, "message_id": "cmp.1.1", "status": "SENT", "permanent": True}
    event = deliveries_reported(load_receipt_batch({"receipts": [plain, sent]}), "corr")
    assert [r["permanent"] for r in event["data"]["receipts"]] == [False, False]
