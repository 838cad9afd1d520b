"""`crm replay deliveries` rebuilds exactly what the live receipts consumer built,
on real FerretDB and RabbitMQ, from a log holding both event kinds."""
from __future__ import annotations

import os

from click.testing import CliRunner
from receipts import deliveries_view, domain, handlers
from receipts.bootstrap import receipts_event_log
from receipts.config import ReceiptsConfig
from receipts.consumer import build_consumer
from receipts.store import CAMPAIGNS_COLLECTION, STATS_COLLECTION

from crm.replay import replay
from shared import mongo
from shared.backbone.envelope import new_event
from shared.backbone.events import CAMPAIGN_LAUNCHED, DELIVERY_REPORTED
from shared.backbone.publisher import Publisher
from tests.support.backbone import ConsumerThread, wait_for

CAMPAIGNS = ("cA", "cB")


def environment(settings) -> dict[str, str]:
    return {**os.environ, "CRM_DB_PREFIX": settings.db_prefix,
            "CRM_QUEUE_PREFIX": settings.queue_prefix, "CRM_EXCHANGE": settings.exchange,
            "CRM_DEAD_LETTER_EXCHANGE": settings.dead_letter_exchange}


def receipt(message_id, status, n=0):
    return {"message_id": message_id, "provider_message_id": f"pm_{message_id}",
            "status": status, "reported_at": f"2026-01-01T00:00:{n % 60:02d}+00:00",
            "reason": None if status == "SENT" else "UNREACHABLE",
            "metadata": {"customer_external_id": f"cust-{n}"}}


def callbacks() -> list[list[dict]]:
    """Vendor callbacks: campaign cA in three (one retried as is, one reporting some
    messages again with the other status), cB mixed with a campaign never launched."""
    first = [receipt(f"cA.1.{i}", "FAILED" if i % 5 == 0 else "SENT", i) for i in range(300)]
    second = [receipt(f"cA.1.{i}", "SENT" if i % 5 == 0 else "FAILED", i) for i in range(0, 400, 3)]
    mixed = [receipt(f"cB.1.{i}", "FAILED" if i % 4 == 0 else "SENT", i) for i in range(200)]
    mixed += [receipt("cU.1.0", "SENT"), receipt("cU.1.1", "FAILED")]
    return [first, first, second, mixed]


def old_events() -> list[dict]:
    """Per-receipt `delivery.reported` events, as logged before `deliveries.reported`."""
    reported = [receipt(f"cB.2.{i}", "SENT" if i % 3 else "FAILED", i) for i in range(50)]
    reported.append(receipt("cB.2.0", "SENT"))  # a later, losing status
    return [new_event(DELIVERY_REPORTED, domain.delivery_of(r), producer="receipts",
                      event_id=domain.delivery_event_id(r["message_id"], r["status"]))
            for r in reported]


def projection(db) -> dict:
    """What the campaigns API can see of each campaign, plus the full status documents."""
    seen = {}
    for campaign_id in (*CAMPAIGNS, "cU"):
        stats = db[STATS_COLLECTION].find_one({"_id": campaign_id}) or {}
        seen[campaign_id] = {
            "statuses": sorted(db[deliveries_view.statuses(campaign_id)].find({}),
                               key=lambda d: d["_id"]),
            "sent": sorted(d["_id"] for d in db[f"sent_{campaign_id}"].find({})),
            "failed": sorted(d["_id"] for d in db[f"failed_{campaign_id}"].find({})),
            "stats": (stats.get("sent"), stats.get("failed")),
            "counts": deliveries_view.campaign_counts(db, campaign_id)}
    return seen


def launch(settings, db) -> None:
    publisher = Publisher(settings)
    try:
        publisher.publish([new_event(CAMPAIGN_LAUNCHED, {"campaign_id": c, "attempt": 1},
                                     producer="campaigns") for c in CAMPAIGNS])
    finally:
        publisher.close()
    assert wait_for(lambda: all(db[CAMPAIGNS_COLLECTION].find_one({"_id": c})
                                for c in CAMPAIGNS), timeout=20)


def corrupt(db) -> None:
    db.drop_collection(deliveries_view.statuses("cA"))
    db["sent_cA"].delete_many({"_id": {"$in": ["cA.1.1", "cA.1.2"]}})
    db["failed_cB"].insert_one({"_id": "cB.1.1"})  # a SENT message counted as failed
    db[deliveries_view.statuses("cB")].delete_one({"_id": "cB.2.0"})
    db[deliveries_view.statuses("cB")].replace_one({"_id": "cB.1.4"}, {"status": "SENT"})
    db[STATS_COLLECTION].replace_one({"_id": "cB"}, {"sent": 1, "failed": 1})


def test_replay_rebuilds_the_live_projection(settings):
    config = ReceiptsConfig(settings=settings, batch_wait_ms=50)
    client = mongo.connect(settings)
    db = client[config.database_name]
    event_log = receipts_event_log(config, client, retry_for=10)
    runner = CliRunner()
    consumer = ConsumerThread(build_consumer(config, client)).start()
    try:
        launch(settings, db)
        old = old_events()
        event_log.append(old[:-1])
        event_log.append(old[-1:])  # after the others in the log, as in the queue
        for callback in callbacks():  # what the webhook does with each callback
            handlers.report_receipts(callback, event_log=event_log, correlation_id="replay")
        # cA: 300 of the first callback, 34 more of the second (300..399 step 3).
        assert wait_for(lambda: sum(deliveries_view.campaign_counts(db, "cA").values()) == 334
                        and sum(deliveries_view.campaign_counts(db, "cB").values()) == 250,
                        timeout=60)
        refused = runner.invoke(replay, ["deliveries"], env=environment(settings))
        assert refused.exit_code != 0 and "stop the receipts consumer" in refused.output
    finally:
        consumer.stop()
    live = projection(db)
    # First final status wins: cA.1.0 FAILED (first callback), cA.1.3 SENT then FAILED.
    statuses = {d["_id"]: d["status"] for d in live["cA"]["statuses"]}
    assert (statuses["cA.1.0"], statuses["cA.1.3"], statuses["cA.1.399"]) == \
        ("FAILED", "SENT", "FAILED")
    assert live["cA"]["counts"] == {"sent": 240 + 7, "failed": 60 + 27}
    assert live["cB"]["counts"] == {"sent": 150 + 33, "failed": 50 + 17}
    assert live["cA"]["stats"] == (247, 87) and live["cB"]["stats"] == (183, 67)
    assert live["cU"]["statuses"] == []

    corrupt(db)
    assert projection(db) != live
    result = runner.invoke(replay, ["deliveries"], env=environment(settings))
    client.close()
    assert result.exit_code == 0, result.output
    assert "cA: 434 receipts" in result.output and "never launched" in result.output
    client = mongo.connect(settings)
    try:
        assert projection(client[config.database_name]) == live
    finally:
        client.close()
