"""Attribution: the day-by-day sums against a brute-force count, the worker's handler
with fakes (membership, holdout, windows, waiting, redelivery, restart), and the
results endpoint."""
from __future__ import annotations

import copy
import random
from datetime import timedelta

import pytest
from campaigns import handlers
from campaigns.app import create_app
from campaigns.config import CampaignsConfig
from campaigns.delivery import fanout
from campaigns.recipients import groups
from campaigns.results.attribution import CampaignConversions, window_totals
from campaigns.results.attributor import Attributor

from shared.backbone.envelope import new_event
from shared.backbone.events import ORDER_PLACED
from tests.support.fakes import NOW, FakeDeliveries, FakeEventLog, chunk, people
from tests.support.fakes import FakeCampaignStore as FakeStore

VARIANTS = [{"name": "A", "message": "Hi {first_name|there}", "weight": 50},
            {"name": "B", "message": "Hello {name|friend}", "weight": 50}]


class FakeAttributionStore:
    def __init__(self, campaigns: FakeStore):
        self._campaigns = campaigns
        self.conversions, self.waiting, self.summaries = {}, {}, {}

    def launched_campaigns(self):
        return [dict(c) for c in self._campaigns.campaigns.values()]

    def insert_conversions(self, cid, conversions):
        mine = self.conversions.setdefault(cid, {})
        for conversion in conversions:
            mine.setdefault(conversion["_id"], dict(conversion))

    def all_conversions(self, cid):
        return list(self.conversions.get(cid, {}).values())

    def insert_waiting(self, cid, orders):
        mine = self.waiting.setdefault(cid, {})
        for order in orders:
            mine.setdefault(order["_id"], dict(order))

    def all_waiting(self, cid):
        return list(self.waiting.get(cid, {}).values())

    def drop_waiting(self, cid):
        self.waiting.pop(cid, None)

    def save_summary(self, cid, summary, now):
        self.summaries[cid] = copy.deepcopy({**summary, "_id": cid, "updated_at": now})

    def find_summary(self, cid):
        return copy.deepcopy(self.summaries.get(cid))

    def drop_campaign(self, cid):
        for collection in (self.conversions, self.waiting, self.summaries):
            collection.pop(cid, None)


def test_sums_match_a_brute_force_count_for_every_window_in_any_order():
    rng = random.Random(7)
    orders = [(f"o{n}", f"c{rng.randrange(60)}", rng.randrange(90),
               round(rng.uniform(10, 5000), 2)) for n in range(400)]
    group_of = {f"c{n}": "A" if n % 3 else "holdout" for n in range(60)}
    forward, shuffled = CampaignConversions("x", NOW), CampaignConversions("x", NOW)
    for order_id, customer, day, amount in orders:
        forward.add(order_id, customer, group_of[customer], day, amount)
    for order_id, customer, day, amount in rng.sample(orders, len(orders)):
        shuffled.add(order_id, customer, group_of[customer], day, amount)
    assert not forward.add(*orders[0][:2], "A", 0, 1.0)  # an order counts once
    for window in (1, 2, 7, 30, 89, 90):
        for group in ("A", "holdout"):
            inside = [(c, a) for _, c, d, a in orders if d < window and group_of[c] == group]
            per_customer = {}
            for customer, amount in inside:
                per_customer[customer] = per_customer.get(customer, 0.0) + amount
            for conversions in (forward, shuffled):
                totals = window_totals(conversions.groups.get(group), window)
                assert totals["converted"] == len(per_customer)
                assert totals["orders"] == len(inside)
                assert totals["revenue"] == pytest.approx(sum(per_customer.values()))
                assert totals["revenue_squares"] == pytest.approx(
                    sum(r * r for r in per_customer.values()))
                assert totals["converted_by_day"][-1] == len(per_customer)
                assert len(totals["converted_by_day"]) == window


def order(order_id, customer, placed_at, amount=1000.0):
    return new_event(ORDER_PLACED, {"external_id": order_id, "customer_external_id": customer,
                                    "amount": amount, "placed_at": placed_at.isoformat()},
                     producer="ingest")


@pytest.fixture
def world():
    store, log = FakeStore(), FakeEventLog()
    body = {"name": "Sale", "rules": {"field": "city", "op": "eq", "value": "x"},
            "message": None, "variants": VARIANTS, "holdout_percent": 30}
    cid = handlers.create_campaign(body, NOW, store=store, segment_rules=None,
                                   event_log=log)["id"]
    attribution = FakeAttributionStore(store)
    clock = {"now": NOW + timedelta(minutes=1)}
    attributor = Attributor(store=store, attribution_store=attribution,
                            clock=lambda: clock["now"], refresh_seconds=0)
    group = {f"c{n}": groups.group_of(store.find(cid), f"c{n}") for n in range(40)}
    return store, log, cid, attribution, attributor, group


def queue_audience(store, log, cid):
    for index in range(2):
        fanout.handle_events([chunk(cid, index, 2, 40, people(index * 20, 20))], NOW,
                             store=store, event_log=log, deliveries=None)


def test_orders_count_for_members_in_their_group_inside_the_window_once(world, monkeypatch):
    monkeypatch.setattr("campaigns.results.attributor.COMPLETE_CHECK_SECONDS", 0)
    store, log, cid, attribution, attributor, group = world
    queue_audience(store, log, cid)
    held = next(c for c, g in group.items() if g == "holdout")
    in_a = next(c for c, g in group.items() if g == "A")
    batch = [order("o1", in_a, NOW + timedelta(hours=2), 500.0),
             order("o2", in_a, NOW + timedelta(days=3), 700.0),
             order("o3", held, NOW + timedelta(days=1), 300.0),
             order("o4", "stranger", NOW + timedelta(hours=1)),      # not in the audience
             order("o5", in_a, NOW - timedelta(hours=1)),            # before launch
             order("o6", held, NOW + timedelta(days=95))]            # after the longest window
    attributor.handle_batch(batch)
    attributor.handle_batch(batch)  # redelivered: nothing changes
    sums = attribution.find_summary(cid)["groups"]
    assert window_totals(sums["A"], 1) | {"converted_by_day": None} == {
        "converted": 1, "orders": 1, "revenue": 500.0, "revenue_squares": 250_000.0,
        "converted_by_day": None}
    assert window_totals(sums["A"], 7)["revenue_squares"] == pytest.approx(1200.0 ** 2)
    assert window_totals(sums["holdout"], 7)["converted"] == 1
    assert set(attribution.conversions[cid]) == {"o1", "o2", "o3"}
    # An order accepted late but placed inside the window still counts, once.
    attributor.handle_batch([order("o7", held, NOW + timedelta(days=2), 50.0)])
    assert window_totals(attribution.find_summary(cid)["groups"]["holdout"], 7)["orders"] == 2


def test_orders_before_the_audience_is_recorded_wait_then_count(world, monkeypatch):
    monkeypatch.setattr("campaigns.results.attributor.COMPLETE_CHECK_SECONDS", 0)
    store, log, cid, attribution, attributor, group = world
    in_b = next(c for c, g in group.items() if g == "B")
    attributor.handle_batch([order("o1", in_b, NOW + timedelta(hours=1), 900.0)])
    assert attribution.find_summary(cid) is None and len(attribution.all_waiting(cid)) == 1
    queue_audience(store, log, cid)
    attributor.tick()
    assert window_totals(attribution.find_summary(cid)["groups"]["B"], 1)["converted"] == 1
    assert attribution.all_waiting(cid) == []


def test_a_restarted_worker_resumes_from_what_is_stored(world, monkeypatch):
    monkeypatch.setattr("campaigns.results.attributor.COMPLETE_CHECK_SECONDS", 0)
    store, log, cid, attribution, attributor, group = world
    queue_audience(store, log, cid)
    members = [c for c, g in group.items() if g != "holdout"]
    first = [order(f"o{n}", members[n % len(members)], NOW + timedelta(hours=n), 10.0 * n)
             for n in range(1, 30)]
    attributor.handle_batch(first)
    before = attribution.find_summary(cid)["groups"]
    restarted = Attributor(store=store, attribution_store=attribution, clock=lambda: NOW,
                           refresh_seconds=0)
    restarted.handle_batch(first[:10])  # redelivered after the restart
    assert attribution.find_summary(cid)["groups"] == before


def test_a_customer_who_ordered_before_is_not_looked_up_again(world, monkeypatch):
    monkeypatch.setattr("campaigns.results.attributor.COMPLETE_CHECK_SECONDS", 0)
    store, log, cid, attribution, attributor, group = world
    queue_audience(store, log, cid)
    looked_up = []
    for name in ("find_message", "is_held_out"):
        read = getattr(store, name)
        monkeypatch.setattr(store, name, lambda c, customer, read=read:
                            looked_up.append(customer) or read(c, customer))
    held = next(c for c, g in group.items() if g == "holdout")
    in_b = next(c for c, g in group.items() if g == "B")
    attributor.handle_batch([order("o1", held, NOW + timedelta(hours=1)),
                             order("o2", in_b, NOW + timedelta(hours=2))])
    assert sorted(looked_up) == sorted([held, in_b])  # where the assignment puts each
    attributor.handle_batch([order("o3", held, NOW + timedelta(days=1), 20.0),
                             order("o4", in_b, NOW + timedelta(days=2), 30.0)])
    assert len(looked_up) == 2
    sums = attribution.find_summary(cid)["groups"]
    assert window_totals(sums["holdout"], 7)["orders"] == 2
    assert window_totals(sums["B"], 7)["revenue"] == 1030.0


def test_the_group_recorded_at_launch_counts_where_the_assignment_would_look(world,
                                                                           monkeypatch):
    monkeypatch.setattr("campaigns.results.attributor.COMPLETE_CHECK_SECONDS", 0)
    store, log, cid, attribution, attributor, group = world
    queue_audience(store, log, cid)
    held = next(c for c, g in group.items() if g == "holdout")
    in_a = next(c for c, g in group.items() if g == "A")
    # As if recorded by another assignment: the held-out one messaged in B, the other held.
    held_entry = store.collections[f"holdout_{cid}"].pop(held)
    store.collections[f"holdout_{cid}"][in_a] = held_entry
    store.collections[f"messages_{cid}"][held] = {
        **store.collections[f"messages_{cid}"].pop(in_a), "_id": held, "variant": "B"}
    attributor.handle_batch([order("o1", held, NOW + timedelta(hours=1), 40.0),
                             order("o2", in_a, NOW + timedelta(hours=2), 60.0),
                             order("o3", "stranger", NOW + timedelta(hours=3))])
    sums = attribution.find_summary(cid)["groups"]
    assert set(sums) == {"B", "holdout"}
    assert window_totals(sums["B"], 1)["revenue"] == 40.0
    assert window_totals(sums["holdout"], 1)["revenue"] == 60.0


def test_results_endpoint_reports_groups_and_lift(world, monkeypatch):
    monkeypatch.setattr("campaigns.results.attributor.COMPLETE_CHECK_SECONDS", 0)
    store, log, cid, attribution, attributor, group = world
    queue_audience(store, log, cid)
    buyers = [c for c, g in group.items() if g == "A"][:3]
    attributor.handle_batch([order(f"o{n}", c, NOW + timedelta(days=n, hours=1), 100.0)
                             for n, c in enumerate(buyers)])

    class Deps:
        config = CampaignsConfig()
        deliveries, event_log, segment_rules = FakeDeliveries(), log, None

        def readiness(self):
            return {"database": True, "broker": True}

    deps = Deps()
    deps.store, deps.attribution_store = store, attribution
    client = create_app(deps.config, dependencies=deps).test_client()
    for bad in ("0", "91", "x"):
        response = client.get(f"/api/v1/campaigns/{cid}/results?window_days={bad}")
        assert response.status_code == 400
        assert "window_days" in response.get_json()["error"]["details"]["fields"]
    assert client.get("/api/v1/campaigns/nope/results").status_code == 404
    body = client.get(f"/api/v1/campaigns/{cid}/results?window_days=2").get_json()
    assert body["window_days"] == 2 and body["launched_at"].endswith("Z")
    sizes = {g: sum(1 for v in group.values() if v == g) for g in ("A", "B", "holdout")}
    assert body["holdout"]["customers"] == sizes["holdout"]
    assert body["holdout"]["lift_vs_holdout"] is None
    a, b = body["variants"]
    assert (a["name"], a["customers"], b["customers"]) == ("A", sizes["A"], sizes["B"])
    assert (a["converted"], a["orders"], a["revenue"]) == (2, 2, 200.0)  # days 0 and 1 of 2
    assert a["converted_by_day"] == [1, 2]
    assert a["conversion_rate"] == pytest.approx(2 / sizes["A"])
    lift = a["lift_vs_holdout"]["conversion_rate"]
    assert lift["absolute"] == pytest.approx(2 / sizes["A"])
    assert lift["relative"] is None  # the holdout converted nobody
    week = client.get(f"/api/v1/campaigns/{cid}/results").get_json()
    assert week["window_days"] == 7 and week["variants"][0]["converted"] == 3


def test_crm_replay_lists_attribution():
    from click.testing import CliRunner

    from crm.cli import main

    result = CliRunner().invoke(main, ["replay", "attribution", "--help"])
    assert result.exit_code == 0 and "ingest's log" in result.output
