"""`crm replay profiles` rebuilds consent and suppressions exactly as the live projector
folded them: consent changes and partial updates from ingest's log, permanent failures
from receipts' `deliveries.reported`, lifted suppressions, arriving in any order."""
from __future__ import annotations

from datetime import timedelta

import pytest
from click.testing import CliRunner
from segments.projection.profile_store import ProfileStore
from segments.projection.replay import replay

from shared import mongo
from shared.backbone.envelope import new_event
from shared.backbone.events import (
    CUSTOMER_CONSENT_CHANGED,
    CUSTOMER_SUPPRESSION_LIFTED,
    CUSTOMER_UPSERTED,
    DELIVERIES_REPORTED,
)
from shared.backbone.outbox import EventLog
from shared.backbone.publisher import Publisher
from tests.support.profiles import (
    BASE,
    comparable,
    customer_upserted,
    environment,
    iso,
    running_projector,
    wait_for,
)

pytestmark = pytest.mark.integration


def consent(customer: str, value: str, source: str = "api", campaign: str | None = None):
    return new_event(CUSTOMER_CONSENT_CHANGED, {"external_id": customer, "marketing_consent": value,
                                                "source": source, "campaign_id": campaign},
                     producer="ingest")


def partial(customer: str, **fields):
    data = {"external_id": customer, "name": f"Customer {customer}",
            "email": f"{customer}@example.com", **fields}
    return new_event(CUSTOMER_UPSERTED, data, producer="ingest")


def failures(*pairs: tuple[str, str, bool], day: int = 1):
    receipts = [{"message_id": f"cmp{day}.1.{n}", "campaign_id": f"cmp{day}",
                 "customer_external_id": customer, "status": "FAILED",
                 "reported_at": iso(BASE + timedelta(days=day, seconds=n)), "reason": reason,
                 "permanent": permanent, "provider_message_id": None}
                for n, (customer, reason, permanent) in enumerate(pairs)]
    return new_event(DELIVERIES_REPORTED, {"receipts": receipts}, producer="receipts")


def test_replay_rebuilds_consent_and_suppressions_exactly(config):
    settings = config.settings
    client = mongo.connect(settings)
    publisher = Publisher(settings)
    ingest_log = EventLog(client[settings.database_name("ingest")], publisher)
    receipts_log = EventLog(client[settings.database_name("receipts")], publisher)
    store = ProfileStore(client[config.database_name])
    try:
        with running_projector(config):
            ingest_log.append([customer_upserted(f"c{n}") for n in range(6)])
            ingest_log.append([consent("c0", "unsubscribed"),
                               consent("c1", "unsubscribed", "link", "cmp1"),
                               partial("c2", marketing_consent="unsubscribed", city="Goa"),
                               partial("c3", city="Agra")])  # keeps everything else
            receipts_log.append([failures(("c4", "INVALID_NUMBER", True),
                                          ("c5", "INVALID_NUMBER", True),
                                          ("c3", "UNREACHABLE", False))])
            ingest_log.append([consent("c1", "subscribed"),
                               new_event(CUSTOMER_SUPPRESSION_LIFTED, {"external_id": "c5"},
                                         producer="ingest"),
                               customer_upserted("sentinel")])
            wait_for(lambda: store.find("sentinel") and (store.find("c5") or {}).get(
                "projection", {}).get("suppression_event"), "the live projection")
        live = {p["_id"]: comparable(p) for p in store.all_profiles()}
        assert [live[f"c{n}"]["marketing_consent"] for n in range(6)] == [
            "unsubscribed", "subscribed", "unsubscribed", "subscribed", "subscribed",
            "subscribed"]
        assert [live[f"c{n}"]["suppressed"] for n in range(6)] == [False] * 4 + [True, False]
        assert live["c4"]["suppression_reason"] == "INVALID_NUMBER"
        assert live["c3"]["city"] == "Agra" and live["c3"]["visits"] == 2

        result = CliRunner().invoke(replay, ["profiles"], env=environment(config))
        assert result.exit_code == 0, result.output
        assert {p["_id"]: comparable(p) for p in store.all_profiles()} == live
    finally:
        publisher.close()
        client.drop_database(settings.database_name("receipts"))
        client.close()
