"""GET /api/v1/overview: totals over the audience index, stubs left out, 503 while loading."""
from __future__ import annotations

from segments.app import create_app
from segments.audience.holder import load_index
from segments.audience.index import AudienceIndex
from segments.config import SegmentsConfig
from segments.projection.profiles import announced, apply_event

from tests.support.profile_events import customer_event, order_event
from tests.support.segment_fakes import FakeAudience, FakeDatabase, FakeScan


def customer(external_id: str, *amounts: float) -> dict:
    profile = apply_event(None, customer_event("e-" + external_id, "2024-04-01T00:00:00Z",
                                               external_id=external_id))
    for n, amount in enumerate(amounts):
        profile = apply_event(profile, order_event(f"{external_id}-o{n}", amount,
                                                   "2024-03-01T00:00:00Z", customer=external_id))
    return profile


def stub(external_id: str, amount: float) -> dict:
    return apply_event(None, order_event(f"{external_id}-o", amount, "2024-03-01T00:00:00Z",
                                         customer=external_id))


def overview(index: AudienceIndex, ready: bool = True):
    app = create_app(SegmentsConfig(index_autostart=False), database=FakeDatabase(),
                     audience=FakeAudience(index, ready))
    return app.test_client().get("/api/v1/overview")


def test_totals_count_customers_and_their_orders_but_not_stubs():
    shop = [customer("c1", 100.10, 200.20), customer("c2"), customer("c3", 0.1, 0.2, 0.3),
            stub("s1", 5000), stub("s2", 7)]
    index = AudienceIndex()
    load_index(index, FakeScan(shop), batch_size=2)
    response = overview(index)
    assert response.status_code == 200
    assert response.get_json() == {"customers": 3, "customers_with_orders": 2, "orders": 5,
                                   "revenue": 300.9, "currency": "INR"}


def test_stub_updates_from_the_feed_are_not_counted_until_their_customer_arrives():
    from segments.audience.holder import AudienceHolder

    holder = AudienceHolder.__new__(AudienceHolder)  # only its update path, no threads
    holder.index = AudienceIndex()
    early = stub("c9", 40)
    holder._apply_updates([announced(customer("c1", 10)), announced(early)])
    assert overview(holder.index).get_json()["customers"] == 1
    arrived = apply_event(early, customer_event("e9", "2024-04-01T00:00:00Z", external_id="c9"))
    holder._apply_updates([{**announced(arrived), "version": 2}])
    assert overview(holder.index).get_json() == {
        "customers": 2, "customers_with_orders": 2, "orders": 2, "revenue": 50.0,
        "currency": "INR"}


def test_an_empty_index_answers_zeros():
    assert overview(AudienceIndex()).get_json() == {
        "customers": 0, "customers_with_orders": 0, "orders": 0, "revenue": 0.0,
        "currency": "INR"}


def test_revenue_is_rounded_to_two_decimals():
    index = AudienceIndex()
    index.upsert_many([{**announced(customer(f"c{n}", 0.1)), "total_spend": 1 / 3}
                       for n in range(2)])
    assert overview(index).get_json()["revenue"] == 0.67


def test_while_the_index_loads_the_overview_is_503_index_loading():
    index = AudienceIndex()
    index.upsert(announced(customer("c1", 10)))
    response = overview(index, ready=False)
    assert response.status_code == 503
    error = response.get_json()["error"]
    assert error["code"] == "INDEX_LOADING"
    assert error["details"]["loaded"] == 1200 and "1,200 of about 5,000" in error["message"]
