"""Saved segments on the real database: save, list newest first page by page, rename, delete."""
from __future__ import annotations

import pytest

from shared.backbone.publisher import Publisher
from tests.support.audiences import running_index
from tests.support.profiles import customer_upserted, running_projector, wait_for

pytestmark = pytest.mark.integration


PUNE = {"field": "city", "op": "eq", "value": "Pune"}


def walk(http, limit: int) -> list[str]:
    seen, cursor = [], None
    for _ in range(200):
        query = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        response = http.get("/api/v1/segments", query_string=query)
        assert response.status_code == 200, response.get_json()
        page = response.get_json()
        assert len(page["items"]) <= limit
        seen += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            return seen
    raise AssertionError("the cursors never ended")


def test_segments_are_saved_listed_renamed_and_deleted(config):
    publisher = Publisher(config.settings)
    try:
        with running_projector(config), running_index(config) as (holder, http):
            publisher.publish([customer_upserted(f"c{i}", city="Pune") for i in range(4)])
            wait_for(lambda: len(holder.index) == 4, "four customers in the index")
            saved = [http.post("/api/v1/segments", json={"name": f"s{n}", "rules": PUNE})
                     for n in range(23)]
            assert {response.status_code for response in saved} == {201}
            ids = [response.get_json()["id"] for response in saved]
            assert all(response.get_json()["count"] == 4 for response in saved)

            newest_first = list(reversed(ids))
            for limit in (1, 5, 22, 23, 50):
                assert walk(http, limit) == newest_first

            publisher.publish([customer_upserted("c9", city="Pune")])
            wait_for(lambda: len(holder.index) == 5, "a fifth customer")
            one = http.get(f"/api/v1/segments/{ids[3]}").get_json()
            assert (one["name"], one["count"], one["current_count"], one["rules"]) == \
                ("s3", 4, 5, PUNE)

            renamed = http.patch(f"/api/v1/segments/{ids[3]}", json={"name": "Pune, all"})
            assert renamed.status_code == 200 and renamed.get_json()["name"] == "Pune, all"
            assert http.get(f"/api/v1/segments/{ids[3]}").get_json()["name"] == "Pune, all"

            assert http.delete(f"/api/v1/segments/{ids[3]}").status_code == 204
            assert http.get(f"/api/v1/segments/{ids[3]}").status_code == 404
            assert http.delete(f"/api/v1/segments/{ids[3]}").status_code == 404
            assert walk(http, 7) == [i for i in newest_first if i != ids[3]]
    finally:
        publisher.close()

