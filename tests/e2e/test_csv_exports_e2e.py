"""The CSV exports through the gateway, streamed from the services (API.md "Holdout,
variants, results, exports"): a saved segment's members and a campaign's messages and
results, every row exactly once, formula cells escaped."""
from __future__ import annotations

import csv
import io
from collections import Counter

import pytest

from tests.support.campaigns import saved_audience, watch_until_completed

CITY = "Exportville"
CUSTOMERS = 2500  # more than the members export's batch and the log's page
FORMULAS = {7: "=HYPERLINK(\"http://x\",\"y\")", 8: "+1+1", 9: "-2+3", 10: "@SUM(A1:A2)"}
VARIANTS = [{"name": "A", "message": "Hi {first_name|there}", "weight": 50},
            {"name": "B", "message": "-{first_name|Friend}, 10% off", "weight": 50}]


def _customers() -> list[dict]:
    return [{"external_id": f"exp-{n:04d}", "city": CITY, "email": f"exp{n}@example.com",
             "name": FORMULAS.get(n, f"Asha Export {n}"), "tags": ["gold", f"t{n % 3}"]}
            for n in range(CUSTOMERS)]


@pytest.fixture(scope="module")
def segment(api):
    return saved_audience(api, "Export members", _customers())


def _csv(api, path: str) -> list[dict]:
    response = api.get(f"{api.base_url}{path}", timeout=120, stream=True)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"].startswith("attachment")
    text = b"".join(response.iter_content(64 * 1024)).decode("utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def test_members_csv_lists_every_member_once_with_formulas_escaped(api, segment):
    rows = _csv(api, f"/api/v1/segments/{segment['id']}/members.csv")
    counted = Counter(row["external_id"] for row in rows)
    assert set(counted) == {f"exp-{n:04d}" for n in range(CUSTOMERS)}
    assert max(counted.values()) == 1
    by_id = {row["external_id"]: row for row in rows}
    for n, formula in FORMULAS.items():
        assert by_id[f"exp-{n:04d}"]["name"] == "'" + formula
    plain = by_id["exp-0004"]
    assert (plain["name"], plain["city"], plain["email"], plain["tags"]) == (
        "Asha Export 4", CITY, "exp4@example.com", "gold;t1")


def test_campaign_csvs_list_every_recipient_once_and_one_row_per_group(api, segment):
    created = api.post(f"{api.base_url}/api/v1/campaigns", timeout=30, json={
        "name": "Export", "segment_id": segment["id"], "variants": VARIANTS,
        "holdout_percent": 10})
    assert created.status_code == 201, created.text
    campaign = watch_until_completed(api, created.json()["id"])
    messaged = campaign["stats"]["audience_size"]
    rows = _csv(api, f"/api/v1/campaigns/{campaign['id']}/messages.csv")
    counted = Counter(row["customer_external_id"] for row in rows)
    assert len(counted) == len(rows) == messaged and 0 < messaged < CUSTOMERS
    assert {row["variant"] for row in rows} == {"A", "B"}
    assert all(row["text"].startswith("'-") for row in rows if row["variant"] == "B")
    results = _csv(api, f"/api/v1/campaigns/{campaign['id']}/results.csv?window_days=3")
    assert [row["group"] for row in results] == ["holdout", "A", "B"]
    assert sum(int(row["customers"]) for row in results) == CUSTOMERS
    assert sum(int(row["customers"]) for row in results[1:]) == messaged
