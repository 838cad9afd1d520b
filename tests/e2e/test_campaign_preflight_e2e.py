"""A campaign's preflight through the gateway: with an unsubscribed and a suppressed
customer in the audience, POST /api/v1/campaigns/preflight (its assignment key carried by
the create) and the GET of a draft give the numbers the launch right after reaches
(matched, every exclusion, the holdout too, audience_size, lint)."""
from __future__ import annotations

import time

from tests.support.campaigns import post_customers, wait_audience, watch_until_completed

CITY = "Preflightville"
IN_CITY = {"field": "city", "op": "eq", "value": CITY}
SUPPRESSED = {"all": [IN_CITY, {"field": "suppressed", "op": "eq", "value": True}]}
MESSAGE = "Hi {first_name|there}, visit {visits} {tags|}"


def _customers(count: int) -> list[dict]:
    # Every fifth without tags, every seventh without visits: the lint has work.
    customers = []
    for n in range(count):
        customer = {"external_id": f"pre-{n:03d}", "city": CITY, "name": f"Asha Pre {n}",
                    "email": f"pre{n}@example.com"}
        if n % 5:
            customer["tags"] = ["gold"]
        if n % 7:
            customer["visits"] = n
        customers.append(customer)
    return customers


def _suppressed_count(api) -> int:
    response = api.post(f"{api.base_url}/api/v1/segments/preview", json={"rules": SUPPRESSED},
                        timeout=30)
    assert response.status_code == 200, response.text
    return response.json()["count"]


def _until_someone_is_suppressed(api) -> None:
    """The vendor fails ~1 in 30 messages for good (INVALID_NUMBER), and receipts then
    suppress the customer: warm-up campaigns until one is (4 x 90 messages: all
    without one is out of the question)."""
    for attempt in range(4):
        created = api.post(f"{api.base_url}/api/v1/campaigns", timeout=30, json={
            "name": f"Warm-up {attempt}", "rules": IN_CITY, "message": "Hello"})
        assert created.status_code == 201, created.text
        watch_until_completed(api, created.json()["id"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if _suppressed_count(api) > 0:
                return
            time.sleep(1)
    raise AssertionError("no permanent failure in 4 warm-up campaigns")


def test_preflight_numbers_equal_the_stats_of_the_launch_right_after(api):
    post_customers(api, _customers(90))
    wait_audience(api, IN_CITY, 90)
    _until_someone_is_suppressed(api)
    subscribed = {"all": [IN_CITY, {"field": "suppressed", "op": "eq", "value": False}]}
    sample = api.post(f"{api.base_url}/api/v1/segments/preview", json={"rules": subscribed},
                      timeout=30).json()["sample"]
    target = sample[0]["external_id"]  # not suppressed, so each cause has one customer
    unsubscribed = api.post(f"{api.base_url}/api/v1/customers/{target}/unsubscribe",
                            timeout=30)
    assert unsubscribed.status_code == 200, unsubscribed.text
    wait_audience(api, {"all": [IN_CITY, {"field": "marketing_consent", "op": "eq",
                                          "value": "unsubscribed"}]}, 1)
    body = {"name": "Preflighted", "rules": IN_CITY, "message": MESSAGE, "holdout_percent": 20}

    posted = api.post(f"{api.base_url}/api/v1/campaigns/preflight", json=body, timeout=60)
    assert posted.status_code == 200, posted.text
    carried = {**body, "draft": True, "assignment_key": posted.json()["assignment_key"]}
    draft = api.post(f"{api.base_url}/api/v1/campaigns", json=carried, timeout=30).json()
    checked = api.get(f"{api.base_url}/api/v1/campaigns/{draft['id']}/preflight", timeout=60)
    assert checked.status_code == 200, checked.text
    answer = checked.json()
    launched = api.post(f"{api.base_url}/api/v1/campaigns/{draft['id']}/launch", timeout=30)
    assert launched.status_code == 200, launched.text
    campaign = watch_until_completed(api, draft["id"])
    stats = campaign
    assert answer["matched"] == stats["stats"]["matched"] == 90
    assert answer["excluded"] == stats["stats"]["excluded"]
    assert answer["excluded"]["unsubscribed"] >= 1 and answer["excluded"]["suppressed"] >= 1
    assert answer["audience_size"] == stats["stats"]["audience_size"]
    assert answer["lint"]["placeholders"] == campaign["lint"]["placeholders"]
    assert answer["lint"]["fallback_used"]["{tags|}"] > 0 and answer["lint"]["empty_text"] > 0
    assert answer["lint"]["empty_text"] == sum(p["empty"] for p in campaign["lint"]["placeholders"])
    # Before the id existed, the same numbers, the holdout too: the create carried the
    # POST's assignment key, so the launch held out the customers the POST counted.
    before = posted.json()
    assert before["held_out_exact"] is True and answer["held_out_exact"] is True
    assert before["assignment_key"] == answer["assignment_key"]
    assert before["matched"] == answer["matched"]
    assert before["excluded"] == answer["excluded"] == stats["stats"]["excluded"]
    assert before["excluded"]["held_out"] > 0
    assert before["audience_size"] == stats["stats"]["audience_size"]


def test_a_preflight_of_bad_input_is_the_standard_error(api):
    bad = api.post(f"{api.base_url}/api/v1/campaigns/preflight", timeout=30,
                   json={"name": "x", "rules": IN_CITY, "message": "Hi {coupon}"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "INVALID_TEMPLATE"
    missing = api.get(f"{api.base_url}/api/v1/campaigns/nope/preflight", timeout=30)
    assert missing.status_code == 404 and set(missing.json()["error"]) == {
        "code", "message", "details"}
