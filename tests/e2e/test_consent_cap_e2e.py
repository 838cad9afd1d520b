"""Consent, suppression and the frequency cap end to end through the gateway: customers
unsubscribed by API, by a message's link and by a record's column never get a later
campaign; three campaigns launched at once under a cap of 2 per 7 days give nobody 3;
permanent failures land on the suppression list; bad input changes nothing."""
from __future__ import annotations

import re
import signal
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from tests.support.campaigns import (
    all_messages,
    post_customers,
    wait_audience,
    watch_until_completed,
)

CAP_PATH = "/api/v1/settings/frequency-cap"


@pytest.fixture(scope="module")
def admin_api(suite, api):
    from gateway.api_keys import open_store

    stack, settings = suite
    store = open_store(settings)
    key = store.create("e2e-admin", scopes=["admin"])
    store.close()
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {key}"
    session.base_url = api.base_url
    return session


def shoppers(prefix: str, city: str, count: int) -> list[dict]:
    return [{"external_id": f"{prefix}-{n:03d}", "name": f"Asha {prefix} {n}",
             "email": f"{prefix}{n}@example.com", "city": city} for n in range(count)]


def launch(api, name: str, rules: dict, message: str, **options) -> dict:
    created = api.post(f"{api.base_url}/api/v1/campaigns", timeout=30,
                       json={"name": name, "rules": rules, "message": message, **options})
    assert created.status_code == 201, created.text
    return watch_until_completed(api, created.json()["id"])


def assert_adds_up(stats: dict) -> None:
    assert stats["matched"] == stats["audience_size"] + sum(stats["excluded"].values()), stats
    assert stats["sent"] + stats["failed"] + stats["pending"] == stats["audience_size"], stats


def poll(condition, what: str, timeout: float = 60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def test_unsubscribed_by_api_link_or_column_never_get_a_later_campaign(api):
    city = "Consentville"
    customers = shoppers("cons", city, 12)
    customers[1]["marketing_consent"] = "unsubscribed"  # what the import page sends for the column
    post_customers(api, customers)
    in_city = {"field": "city", "op": "eq", "value": city}
    unsubscribed = {"all": [in_city, {"field": "marketing_consent", "op": "eq",
                                      "value": "unsubscribed"}]}
    wait_audience(api, in_city, 12)
    by_api = api.post(f"{api.base_url}/api/v1/customers/cons-000/unsubscribe", timeout=30)
    assert by_api.status_code == 200, by_api.text
    assert by_api.json()["marketing_consent"] == "unsubscribed"
    wait_audience(api, unsubscribed, 2)

    first = launch(api, "First", in_city, "Hi {first_name|there}! Stop: {unsubscribe_url}")
    assert first["stats"]["excluded"]["unsubscribed"] == 2
    assert_adds_up(first["stats"])
    messages = {m["customer_external_id"]: m for m in all_messages(api, first["id"])}
    assert "cons-000" not in messages and "cons-001" not in messages
    token = re.search(r"/u/(\S+)$", messages["cons-002"]["text"]).group(1)
    page = requests.get(f"{api.base_url}/u/{token}", timeout=30)
    assert page.status_code == 200 and page.text.count("<button") == 1
    for bad in (token[:-3] + "abc", "not-a-token"):
        refused = requests.post(f"{api.base_url}/u/{bad}", timeout=30)
        assert refused.status_code == 404 and "text/html" in refused.headers["Content-Type"]
    done = requests.post(f"{api.base_url}/u/{token}", data={"List-Unsubscribe": "One-Click"},
                         timeout=30)
    assert done.status_code == 200 and "You are unsubscribed" in done.text
    wait_audience(api, unsubscribed, 3)
    poll(lambda: {m["customer_external_id"]: m for m in all_messages(api, first["id"])}
         ["cons-002"]["unsubscribed_at"], "the message's log entry to record the unsubscribe")
    profile = api.get(f"{api.base_url}/api/v1/customers/cons-002", timeout=30).json()
    assert profile["marketing_consent"] == "unsubscribed" and profile["marketing_consent_at"]

    second = launch(api, "Second", in_city, "Hi again {first_name|there}")
    later = {m["customer_external_id"] for m in all_messages(api, second["id"])}
    assert later.isdisjoint({"cons-000", "cons-001", "cons-002"})
    assert second["stats"]["excluded"]["unsubscribed"] == 3 and second["stats"]["matched"] == 12
    assert_adds_up(second["stats"])


def test_three_campaigns_at_once_under_a_cap_of_two_give_nobody_three(api, admin_api):
    city = "Capton"
    post_customers(api, shoppers("cap", city, 150))
    rules = {"field": "city", "op": "eq", "value": city}
    wait_audience(api, rules, 150)
    assert api.put(f"{api.base_url}{CAP_PATH}", json={"max_messages": 2, "per_days": 7},
                   timeout=30).status_code == 403  # needs admin
    for bad in ({"max_messages": 0, "per_days": 7}, {"max_messages": 2, "per_days": 91},
                {"max_messages": 2.5}, {"max_messages": "2"}):
        refused = admin_api.put(f"{api.base_url}{CAP_PATH}", json=bad, timeout=30)
        assert refused.status_code == 400 and refused.json()["error"]["code"] == "INVALID_BODY"
    assert api.get(f"{api.base_url}{CAP_PATH}", timeout=30).json()["max_messages"] is None
    assert admin_api.put(f"{api.base_url}{CAP_PATH}", json={"max_messages": 2, "per_days": 7},
                         timeout=30).json() == {"max_messages": 2, "per_days": 7}
    try:
        with ThreadPoolExecutor(3) as pool:
            campaigns = list(pool.map(lambda n: launch(api, f"Overlap {n}", rules, "Sale!"),
                                      range(3)))
    finally:
        admin_api.put(f"{api.base_url}{CAP_PATH}", json={"max_messages": None}, timeout=30)
    got = Counter(m["customer_external_id"] for campaign in campaigns
                  for m in all_messages(api, campaign["id"]))
    assert max(got.values()) <= 2, got.most_common(3)
    for campaign in campaigns:
        assert campaign["stats"]["matched"] == 150
        assert_adds_up(campaign["stats"])
    capped = sum(campaign["stats"]["excluded"]["capped"] for campaign in campaigns)
    assert capped > 0 and sum(got.values()) + capped + sum(
        c["stats"]["excluded"]["suppressed"] for c in campaigns) == 450

    failed = [m for campaign in campaigns for m in all_messages(api, campaign["id"])
              if m["status"] == "FAILED"]
    assert failed and all(m["reason"] for m in failed)
    dead = {m["customer_external_id"] for m in failed if m["reason"] == "INVALID_NUMBER"}
    assert dead  # ~1 in 30 messages; over ~300 messages, none at all is out of the question

    def suppressed() -> set[str]:
        items = api.get(f"{api.base_url}/api/v1/suppressions?limit=500", timeout=30).json()["items"]
        return {item["customer_external_id"] for item in items
                if item["customer_external_id"].startswith("cap-")}

    poll(lambda: suppressed() == dead, "every permanent failure on the suppression list")
    lifted = sorted(dead)[0]
    assert api.delete(f"{api.base_url}/api/v1/suppressions/{lifted}", timeout=30).status_code == 204
    poll(lambda: suppressed() == dead - {lifted}, "the lifted suppression to leave the list")
    again = api.delete(f"{api.base_url}/api/v1/suppressions/{lifted}", timeout=30)
    assert again.status_code == 404 and again.json()["error"]["code"] == "SUPPRESSION_NOT_FOUND"


CONSENT_FIELDS = ("marketing_consent", "marketing_consent_at", "suppressed",
                  "suppression_reason", "suppressed_since", "suppression_campaign_id")


def test_a_replay_rebuilds_consent_and_suppressions_exactly(suite, api):
    """After the tests above: `crm replay profiles` (projector frozen meanwhile, then
    restarted with the segments API) gives every customer the same consent and the same
    suppression, and the suppression list is the same."""
    from click.testing import CliRunner
    from segments.projection.replay import replay

    stack, _ = suite
    ids = [f"cons-{n:03d}" for n in range(12)] + [f"cap-{n:03d}" for n in range(150)]

    def consent_of() -> dict | None:
        shown = {}
        for external_id in ids:
            answer = api.get(f"{api.base_url}/api/v1/customers/{external_id}", timeout=30)
            if answer.status_code != 200:
                return None  # the segments API is restarting
            shown[external_id] = {name: answer.json()[name] for name in CONSENT_FIELDS}
        return shown

    def listed() -> list[dict] | None:
        answer = api.get(f"{api.base_url}/api/v1/suppressions?limit=500", timeout=30)
        return answer.json()["items"] if answer.status_code == 200 else None

    before, suppressions = consent_of(), listed()
    assert any(p["marketing_consent"] == "unsubscribed" for p in before.values())
    assert any(p["suppressed"] for p in before.values())
    stack.kill("segments-projector", signal.SIGSTOP)  # writes nothing while the replay swaps
    try:
        result = CliRunner().invoke(replay, ["profiles", "--force"], env=dict(stack.env))
        assert result.exit_code == 0, result.output
    finally:
        stack.kill("segments-projector", signal.SIGKILL)  # restarted without its cache
    old_api = stack.supervisor.pid("segments")
    stack.kill("segments", signal.SIGTERM)  # restarted: its index reads the rebuilt profiles
    poll(lambda: stack.supervisor.pid("segments") not in (None, old_api) and listed() is not None,
         "the segments API to restart with its index loaded", timeout=120)
    assert listed() == suppressions
    assert poll(consent_of, "every profile through the restarted API") == before
