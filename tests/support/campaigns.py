"""Driving campaigns through the gateway in e2e tests: ingesting an audience,
awaiting it and the campaign's completion with a bounded poll, and reading the
whole communications log, and checking a campaign's effect was exactly once.
`api` is a requests session with `base_url` set (tests/support/suite.py)."""
from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable

import requests

from shared.config import Settings
from shared.mongo import connect

BATCH = 1000  # API.md: a batch holds at most 1,000 records


def post_customers(api, customers: list[dict]) -> None:
    for start in range(0, len(customers), BATCH):
        batch = customers[start:start + BATCH]
        response = api.post(f"{api.base_url}/api/v1/customers",
                            json={"records": batch}, timeout=120)
        assert response.status_code == 202, response.text
        assert response.json()["accepted"] == len(batch)


def wait_audience(api, rules: dict, size: int, *, timeout: float = 180,
                  interval: float = 1.0) -> None:
    """Until the preview counts `size`: profiles reach the audience index asynchronously."""
    deadline, count = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        response = api.post(f"{api.base_url}/api/v1/segments/preview", json={"rules": rules},
                            timeout=30)
        if response.status_code == 200:
            count = response.json()["count"]
            if count == size:
                return
        time.sleep(interval)
    raise AssertionError(f"audience {rules} stayed at {count}, expected {size}")


def saved_audience(api, name: str, customers: list[dict]) -> dict:
    """Post `customers` (all of one city), wait until the index counts every one of them,
    and save that city as the segment `name`."""
    post_customers(api, customers)
    rules = {"field": "city", "op": "eq", "value": customers[0]["city"]}
    wait_audience(api, rules, len(customers), timeout=60, interval=0.5)
    saved = api.post(f"{api.base_url}/api/v1/segments", json={"name": name, "rules": rules},
                     timeout=30)
    assert saved.status_code == 201, saved.text
    return saved.json()


def checked(campaign: dict) -> dict:
    """The campaign, once its stats invariant holds: checked at every read, not only
    at the end, because a miscount can heal by completion and still be a bug."""
    stats = campaign["stats"]
    assert stats["sent"] + stats["failed"] + stats["pending"] == stats["audience_size"], stats
    assert campaign["status"] != "failed", campaign
    return campaign


def read_campaign(api, campaign_id: str) -> dict:
    response = api.get(f"{api.base_url}/api/v1/campaigns/{campaign_id}", timeout=30)
    assert response.status_code == 200, response.text
    return checked(response.json())


def read_riding_out(api, campaign_id: str) -> dict:
    """One read of the campaign, checking the stats invariant. A gateway or
    campaigns hiccup while a fault is on (a broker down) is retried, never hidden."""
    for _ in range(30):
        try:
            response = api.get(f"{api.base_url}/api/v1/campaigns/{campaign_id}", timeout=30)
        except requests.RequestException:
            time.sleep(0.5)
            continue
        if response.status_code in (502, 503, 504):
            time.sleep(0.5)
            continue
        assert response.status_code == 200, response.text
        return checked(response.json())
    raise AssertionError(f"campaign {campaign_id} unreadable for 15 s")


def watch_until_completed(api, campaign_id: str, *, timeout: float = 300, interval: float = 1.0,
                          read: Callable[[object, str], dict] = read_campaign) -> dict:
    """Poll with `read` (a fault test passes one that rides out outages) until completed."""
    deadline, campaign = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        campaign = read(api, campaign_id)
        if campaign["status"] == "completed":
            return campaign
        time.sleep(interval)
    raise AssertionError(f"campaign not completed in {timeout}s: {campaign}")


def all_messages(api, campaign_id: str) -> list[dict]:
    """Every entry of the campaign's communications log, page by page."""
    messages, cursor = [], None
    while True:
        params = {"limit": 500, **({"cursor": cursor} if cursor else {})}
        response = api.get(f"{api.base_url}/api/v1/campaigns/{campaign_id}/messages",
                           params=params, timeout=60)
        assert response.status_code == 200, response.text
        page = response.json()
        messages += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return messages


def vendor_messages(settings: Settings, campaign_id: str) -> list[dict]:
    """What the vendor simulator accepted for this campaign, read-only from its
    own collection (its `_id` is our message id; a scan: no other filter is fast)."""
    client = connect(settings)
    try:
        collection = client[settings.database_name("vendor_sim")]["messages"]
        return [document for document in collection.find({}, {"metadata": 1})
                if document["_id"].startswith(f"{campaign_id}.")]
    finally:
        client.close()


def assert_exactly_once(api, settings: Settings, campaign: dict, audience: set[str]) -> None:
    """A completed campaign: one log entry and one vendor message per customer of the
    audience, none for anyone else, and stats equal to the log's statuses."""
    stats = campaign["stats"]
    assert stats["audience_size"] == len(audience) and stats["pending"] == 0, stats

    messages = all_messages(api, campaign["id"])
    per_customer = Counter(m["customer_external_id"] for m in messages)
    assert set(per_customer) == audience
    assert max(per_customer.values()) == 1, per_customer.most_common(3)
    assert len({m["message_id"] for m in messages}) == len(audience)
    assert sum(m["status"] == "SENT" for m in messages) == stats["sent"], stats
    assert sum(m["status"] == "FAILED" for m in messages) == stats["failed"], stats

    vendor = vendor_messages(settings, campaign["id"])
    assert {v["_id"] for v in vendor} == {m["message_id"] for m in messages}
    seen = Counter(v["metadata"]["customer_external_id"] for v in vendor)
    assert set(seen) == audience and max(seen.values()) == 1, seen.most_common(3)

    time.sleep(1)  # a late duplicate receipt must change nothing
    assert read_riding_out(api, campaign["id"])["stats"] == stats
