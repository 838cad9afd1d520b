"""A saved segment's sizes on the real database: taken on demand through the API,
one a day from the daily pass however often it runs, read back oldest first."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from segments.database import SegmentsDatabase
from segments.saved.history import SizeHistory, record_daily_sizes

from shared.backbone.publisher import Publisher
from tests.support.audiences import running_index
from tests.support.profiles import customer_upserted, running_projector, wait_for

pytestmark = pytest.mark.integration

PUNE = {"field": "city", "op": "eq", "value": "Pune"}


def test_sizes_are_taken_on_demand_and_once_a_day(config):
    publisher = Publisher(config.settings)
    database = SegmentsDatabase(config.settings, config.database_name)
    try:
        with running_projector(config), running_index(config) as (holder, http):
            publisher.publish([customer_upserted(f"c{i}", city="Pune") for i in range(3)])
            wait_for(lambda: len(holder.index) == 3, "three customers in the index")
            segment = http.post("/api/v1/segments", json={"name": "Pune", "rules": PUNE})
            other = http.post("/api/v1/segments", json={"name": "All", "rules": {
                "field": "order_count", "op": "gte", "value": 0}})
            segment_id = segment.get_json()["id"]

            taken = http.post(f"/api/v1/segments/{segment_id}/history")
            assert taken.status_code == 201 and taken.get_json()["count"] == 3
            now = datetime.now(UTC)
            history = SizeHistory(database.database())
            for _ in range(2):
                record_daily_sizes(now, segments=database.segments(), history=history,
                                   audience=holder)
            publisher.publish([customer_upserted("c9", city="Pune")])
            wait_for(lambda: len(holder.index) == 4, "a fourth customer")
            http.post(f"/api/v1/segments/{segment_id}/history")

            answer = http.get(f"/api/v1/segments/{segment_id}/history")
            assert answer.status_code == 200
            items = answer.get_json()["items"]
            assert [(i["kind"], i["count"]) for i in items] == [
                ("on_demand", 3), ("daily", 3), ("on_demand", 4)]
            other_items = http.get(f"/api/v1/segments/{other.get_json()['id']}/history")
            assert [i["kind"] for i in other_items.get_json()["items"]] == ["daily"]
            assert http.get("/api/v1/segments/nope/history").status_code == 404
            assert http.post("/api/v1/segments/nope/history").status_code == 404
    finally:
        publisher.close()
        database.client().close()
