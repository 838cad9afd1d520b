"""Audience previews and saved segments through the gateway, counted against a
plain reference evaluator over profiles this test computes itself."""
from __future__ import annotations

import time
from datetime import UTC, datetime

from crm.seed import generate_customers, generate_orders
from tests.support.expectations import at, expected_profiles
from tests.support.reference_rules import matches

TAG = "segment-e2e"  # scopes every rule to this test's customers
RULES = {
    "spent_over_5k_at_most_3_visits": {"all": [
        {"field": "total_spend", "op": "gt", "value": 5000},
        {"field": "visits", "op": "lte", "value": 3}]},
    "inactive_3_months": {"field": "last_active_at", "op": "older_than", "value": "3mo"},
    "nested": {"any": [
        {"all": [{"field": "city", "op": "in", "value": ["pune", "MUMBAI"]},
                 {"not": {"field": "order_count", "op": "gte", "value": 3}}]},
        {"field": "tags", "op": "eq", "value": "VIP"}]},
    "ordered_within_90d": {"field": "last_order_at", "op": "within", "value": "90d"},
    "name_starts_with_a": {"field": "name", "op": "starts_with", "value": "a"},
}


def _scoped(rule: dict) -> dict:
    return {"all": [{"field": "tags", "op": "eq", "value": TAG}, rule]}


def _ingest(api) -> dict[str, dict]:
    customers = generate_customers(600, seed=21, prefix="seg-")
    for customer in customers:
        customer["tags"] = [*customer["tags"], TAG]
    orders = generate_orders(customers, avg=3.0, seed=21, prefix="seg-")
    for path, records in (("customers", customers), ("orders", orders)):
        for start in range(0, len(records), 1000):
            batch = records[start:start + 1000]
            response = api.post(f"{api.base_url}/api/v1/{path}", json={"records": batch},
                                timeout=120)
            assert response.status_code == 202 and response.json()["accepted"] == len(batch)
    expected = expected_profiles({c["external_id"]: c for c in customers},
                                 {o["external_id"]: o for o in orders})
    for profile in expected.values():
        for field in ("signed_up_at", "last_visit_at"):
            profile[field] = at(profile.get(field))
    return expected


def _preview(api, rule: dict) -> dict:
    response = api.post(f"{api.base_url}/api/v1/segments/preview", json={"rules": rule},
                        timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _counts(api, expected: dict[str, dict]) -> dict[str, tuple[int, int]]:
    """rule name -> (previewed count, reference count)."""
    counts = {}
    for name, rule in RULES.items():
        now = datetime.now(UTC)
        want = sum(matches(profile, _scoped(rule), now) for profile in expected.values())
        counts[name] = (_preview(api, _scoped(rule))["count"], want)
    return counts


def test_previews_count_exactly_what_the_rules_say(api):
    expected = _ingest(api)
    deadline = time.monotonic() + 240
    while True:  # the projection is asynchronous: poll until it has caught up
        counts = _counts(api, expected)
        if all(got == want for got, want in counts.values()) or time.monotonic() > deadline:
            break
        time.sleep(1)
    assert all(got == want for got, want in counts.values()), counts
    assert all(want > 0 for _, want in counts.values()), counts  # every rule selects someone
    sample = _preview(api, _scoped(RULES["nested"]))["sample"]
    assert len(sample) == min(10, counts["nested"][1])
    assert all(TAG in profile["tags"] for profile in sample)


def test_saved_segments_keep_rules_and_count_and_bad_rules_are_refused(api):
    rule = _scoped(RULES["spent_over_5k_at_most_3_visits"])
    saved = api.post(f"{api.base_url}/api/v1/segments", timeout=30,
                     json={"name": "Big spenders, rare visitors", "rules": rule})
    assert saved.status_code == 201, saved.text
    segment = saved.json()
    assert segment["count"] == _preview(api, rule)["count"]
    listed = api.get(f"{api.base_url}/api/v1/segments", timeout=30).json()["items"]
    assert listed[0]["id"] == segment["id"]
    one = api.get(f"{api.base_url}/api/v1/segments/{segment['id']}", timeout=30).json()
    assert one["rules"] == segment["rules"]

    bad = api.post(f"{api.base_url}/api/v1/segments/preview", timeout=30,
                   json={"rules": {"all": [{"field": "total_spend", "op": "$where", "value": 1}]}})
    assert bad.status_code == 400
    assert "rules.all[0].op" in bad.json()["error"]["details"]
