"""Attribution on real RabbitMQ and FerretDB: order.placed events logged by an ingest
event log reach the campaigns-attribution worker, count once per campaign in their
customer's group (orders that arrive before the audience wait for it), the results
endpoint reports them, and `crm replay attribution` rebuilds the same sums."""
from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from campaigns.app import create_app
from campaigns.bootstrap import Dependencies
from campaigns.config import CampaignsConfig
from campaigns.delivery.dispatcher import build_dispatcher
from campaigns.handlers import request_id
from campaigns.recipients import groups
from campaigns.recipients.assignment import ASSIGNMENT
from campaigns.results.replay import rebuild_attribution
from campaigns.results.worker import build_attributor, build_consumer, start_ticker

from shared import mongo
from shared.backbone.envelope import new_event
from shared.backbone.events import AUDIENCE_CHUNK, ORDER_PLACED
from shared.backbone.outbox import service_event_log
from tests.support import backbone
from tests.support.backbone import ConsumerThread, wait_for

pytestmark = pytest.mark.integration
sandbox = backbone.sandbox_fixture("campaigns", "ingest")
VARIANTS = [{"name": "A", "message": "Hi {first_name|there}", "weight": 60},
            {"name": "B", "message": "Hello {name|friend}", "weight": 40}]


@pytest.fixture
def config(sandbox):
    return CampaignsConfig(settings=sandbox.settings, attribution_tick_seconds=0.5)


@pytest.fixture
def workers(config, sandbox):
    sandbox.track(config.audience_queue)
    sandbox.track(config.attribution_queue)
    dependencies = Dependencies(config, publish_retry_seconds=5.0)
    dispatcher = ConsumerThread(build_dispatcher(config, dependencies)).start()
    client = mongo.connect(config.settings)
    attributor = build_attributor(config, client)
    attribution = ConsumerThread(build_consumer(config, attributor)).start()
    stop = threading.Event()
    start_ticker(attributor, stop, config.attribution_tick_seconds)
    yield {"attribution": attribution}
    stop.set()
    for thread in (attribution, dispatcher):
        if thread.alive:
            thread.stop()
    dependencies.close()
    client.close()


def orders(specs, launched_at):
    """(order id, customer, hours after launch, amount) -> order.placed events."""
    return [new_event(ORDER_PLACED, {
        "external_id": order_id, "customer_external_id": customer, "amount": amount,
        "placed_at": (launched_at + timedelta(hours=hours)).isoformat()}, producer="ingest",
        event_id=f"order-{order_id}") for order_id, customer, hours, amount in specs]


def chunks(cid, members):
    size = len(members)
    return [new_event(AUDIENCE_CHUNK, {
        "request_id": request_id(cid), "chunk_index": i, "chunk_count": 2,
        "audience_size": size, "recipients": members[i * size // 2:(i + 1) * size // 2]},
        producer="segments", event_id=f"{cid}-chunk-{i}") for i in range(2)]


def test_orders_are_attributed_once_per_group_and_replay_rebuilds_them(config, sandbox,
                                                                      workers):
    app = create_app(config)
    api = app.test_client()
    created = api.post("/api/v1/campaigns", json={
        "name": "Diwali", "rules": {"field": "city", "op": "eq", "value": "pune"},
        "variants": VARIANTS, "holdout_percent": 30})
    assert created.status_code == 201, created.get_json()
    cid = created.get_json()["id"]
    launched_at = datetime.fromisoformat(created.get_json()["created_at"]).astimezone(UTC)
    members = [{"external_id": f"c{n:04d}", "name": f"Name{n}", "email": f"c{n}@x.in"}
               for n in range(600)]
    decided_by = {"_id": cid, "variants": VARIANTS, "holdout_percent": 30,
                  "assignment": ASSIGNMENT}  # what every create now stores
    group = {m["external_id"]: groups.group_of(decided_by, m["external_id"]) for m in members}
    ingest_db = mongo.connect(config.settings)[config.settings.database_name("ingest")]
    ingest_log = service_event_log(config.settings, ingest_db, retry_for=10.0)

    # Orders that arrive before the audience: they wait, then count.
    early = [(f"e{n}", f"c{n:04d}", 1 + n % 40, 100.0 + n) for n in range(0, 600, 3)]
    ingest_log.append(orders(early, launched_at))
    sandbox.publish(chunks(cid, members))
    late = [(f"l{n}", f"c{n:04d}", 30 + n % 100, 50.0) for n in range(0, 600, 7)]
    outside = [("before", "c0001", -2, 999.0), ("stranger", "x9", 3, 999.0),
               ("too-late", "c0002", 24 * 91, 999.0)]
    ingest_log.append(orders(late + outside, launched_at))
    sandbox.publish(orders(early[:20], launched_at))  # delivered again (logged once)

    def expected(window_days):
        counted = [o for o in early + late if o[2] < 24 * window_days]
        by_group = {}
        for _order_id, customer, _hours, amount in counted:
            totals = by_group.setdefault(group[customer], {"orders": 0, "revenue": 0.0,
                                                           "customers": set()})
            totals["orders"] += 1
            totals["revenue"] += amount
            totals["customers"].add(customer)
        return by_group

    def shown(window_days):
        body = api.get(f"/api/v1/campaigns/{cid}/results?window_days={window_days}")
        assert body.status_code == 200
        body = body.get_json()
        return {g["name"]: g for g in [body["holdout"], *body["variants"]]}

    for window in (2, 7):
        want = expected(window)
        assert wait_for(lambda w=window, want=want: all(
            shown(w)[name]["orders"] == totals["orders"] for name, totals in want.items()),
            timeout=60)
        got = shown(window)
        for name, totals in want.items():
            assert got[name]["converted"] == len(totals["customers"])
            assert got[name]["revenue"] == pytest.approx(totals["revenue"])
            assert got[name]["customers"] == sum(1 for g in group.values() if g == name)
        lift = got["A"]["lift_vs_holdout"]["conversion_rate"]
        assert lift["enough_data"] is True and lift["ci95"][0] <= lift["absolute"] <= \
            lift["ci95"][1]

    before = shown(7)
    workers["attribution"].stop()
    summary = rebuild_attribution(mongo.connect(config.settings)[config.database_name],
                                  ingest_db, echo=lambda _line: None)
    assert summary["orders"] == len(early) + len(late) + len(outside)
    assert shown(7) == before
