"""Order windows end to end in segments (RabbitMQ + FerretDB): orders projected by
the real projector, then the preview count of an `in_last` rule is exact, with an
old order accepted last that must not count and an order inside the window
accepted last that must; the same after a cold load of the index from profiles."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.support.audiences import count, running_index
from tests.support.profiles import customer_upserted, order_placed, running_projector, wait_for

pytestmark = pytest.mark.integration

SPENT_5K_IN_90D = {"field": "total_spend", "op": "gt", "value": 5000, "in_last": "90d"}
TWO_ORDERS_IN_90D = {"field": "order_count", "op": "gte", "value": 2, "in_last": "90d"}
SPENT_5K_EVER = {"field": "total_spend", "op": "gt", "value": 5000}
NO_ORDER_IN_30D = {"field": "order_count", "op": "eq", "value": 0, "in_last": "30d"}


def ids(http, rules) -> list[str]:
    body = http.post("/api/v1/segments/preview", json={"rules": rules}).get_json()
    return sorted(p["external_id"] for p in body["sample"])


def test_a_window_counts_orders_by_when_they_were_placed(config, publisher):
    now = datetime.now(UTC)
    ago = lambda days: now - timedelta(days=days)  # noqa: E731
    with running_projector(config), running_index(config) as (_holder, http):
        publisher.publish([customer_upserted(f"c{i}", city="Pune") for i in range(1, 5)])
        publisher.publish([
            order_placed("a1", "c1", 3000, ago(10)), order_placed("a2", "c1", 2500, ago(50)),
            order_placed("b1", "c2", 100, ago(5)),
            order_placed("c1", "c3", 1500, ago(1)),
        ])
        wait_for(lambda: count(http, {"field": "order_count", "op": "gte", "value": 1}) == 3,
                 "three customers with an order")
        assert ids(http, SPENT_5K_IN_90D) == ["c1"]
        # Accepted last: c2's 6,000 placed 200 days ago, c3's 4,000 placed 89 days ago.
        publisher.publish([order_placed("b2", "c2", 6000, ago(200)),
                           order_placed("c2", "c3", 4000, ago(89))])
        wait_for(lambda: count(http, SPENT_5K_EVER) == 3, "the late orders projected")
        assert count(http, SPENT_5K_IN_90D) == 2 and ids(http, SPENT_5K_IN_90D) == ["c1", "c3"]
        assert ids(http, TWO_ORDERS_IN_90D) == ["c1", "c3"]
        assert ids(http, NO_ORDER_IN_30D) == ["c4"]
        publisher.publish([order_placed("c2", "c3", 4000, ago(89))])  # a redelivery
        publisher.publish([customer_upserted("c4", city="Delhi")])  # a later marker
        wait_for(lambda: count(http, {"field": "city", "op": "eq", "value": "delhi"}) == 1,
                 "the marker after the redelivery")
        assert count(http, TWO_ORDERS_IN_90D) == 2
        explained = http.post("/api/v1/segments/explain", json={
            "rules": SPENT_5K_IN_90D, "external_id": "c3"}).get_json()
        assert explained["matched"] is True and explained["rules"]["customer_value"] == 5500.0
        bad = http.post("/api/v1/segments/preview", json={"rules": {"all": [
            {"field": "visits", "op": "gt", "value": 1, "in_last": "90d"}]}})
        assert bad.status_code == 400
        assert "rules.all[0].in_last" in bad.get_json()["error"]["details"]
    # A fresh replica reads the profiles: the orders come from the database.
    with running_index(config) as (_holder, http):
        assert ids(http, SPENT_5K_IN_90D) == ["c1", "c3"]
        assert ids(http, TWO_ORDERS_IN_90D) == ["c1", "c3"]
