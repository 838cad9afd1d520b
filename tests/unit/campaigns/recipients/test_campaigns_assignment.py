"""The holdout/variant assignment (campaigns.recipients.assignment and groups.codes): a
pure function of campaign and customer, pinned by known values (a change would re-split
campaigns already decided), whatever batch a customer is in, with shares close to the
campaign's, and the same numbers at preflight (one pass over the whole audience) as at
launch (chunk by chunk)."""
from __future__ import annotations

import hashlib
from collections import Counter

import pytest
from campaigns import domain, handlers
from campaigns.recipients import assignment, exclusions, groups
from campaigns.recipients.assignment import ASSIGNMENT, LEGACY_ASSIGNMENT
from campaigns.recipients.preflight import preflight, template_fields
from segments.audience.check import check
from segments.audience.index import AudienceIndex
from segments.rules.language import parse_rules
from segments.synthetic import synthetic_profiles

from tests.support.fakes import NOW, FakeEventLog
from tests.support.fakes import FakeCampaignStore as FakeStore

CID = "0190f3a2b4c5d6e7f8091a2b3c4d5e6f"
PINNED = ["c0001", "cust-7-123456", "Zoë-ß-東京", "x" * 40, ""]
WEIGHTED = [{"name": "A", "message": "Hi {first_name|there}", "weight": 50},
            {"name": "B", "message": "Hello {city|}", "weight": 30},
            {"name": "C", "message": "{email}", "weight": 20}]
EVERYONE = parse_rules({"not": {"field": "order_count", "op": "lt", "value": 0}})


def campaign(cid: str = CID, holdout_percent: float = 10, variants=None, **more) -> dict:
    return {"_id": cid, "holdout_percent": holdout_percent, "variants": variants,
            "message": None if variants else "Hi {first_name|there} {city|}",
            "assignment": ASSIGNMENT, **more}


def test_both_functions_give_the_buckets_they_always_gave():
    assert assignment.hashed_buckets(CID, PINNED).tolist() == [7803, 2166, 6301, 6177, 831]
    assert assignment.legacy_buckets(CID, PINNED).tolist() == [5997, 9647, 9546, 8755, 6990]
    # Version 1 is the sha256 of campaign and customer, as campaigns before it were decided.
    assert [int.from_bytes(hashlib.sha256(f"{CID}\n{c}".encode()).digest()[:8], "big")
            % 10_000 for c in PINNED] == [5997, 9647, 9546, 8755, 6990]


def test_a_customers_bucket_does_not_depend_on_the_rest_of_the_batch():
    ids = [f"c{n}" for n in range(300)] + PINNED + ["é" * 90]
    together = assignment.hashed_buckets(CID, ids).tolist()
    alone = [int(assignment.hashed_buckets(CID, [customer])[0]) for customer in ids]
    reversed_ = assignment.hashed_buckets(CID, ids[::-1]).tolist()[::-1]
    assert together == alone == reversed_


def test_a_campaign_keeps_the_function_it_was_created_under():
    ids = [f"c{n}" for n in range(2000)]
    old = {"_id": CID, "holdout_percent": 20, "message": "Hi"}  # saved before `assignment`
    assert assignment.version_of(old) == LEGACY_ASSIGNMENT
    assert assignment.buckets(old, ids).tolist() == assignment.legacy_buckets(CID, ids).tolist()
    assert (assignment.buckets({**old, "assignment": ASSIGNMENT}, ids).tolist()
            == assignment.hashed_buckets(CID, ids).tolist())
    store = FakeStore()
    created = handlers.create_campaign({"name": "New", "rules": {"field": "city", "op": "eq",
                                                                 "value": "pune"},
                                        "message": "Hi"}, NOW, store=store,
                                       segment_rules=None, event_log=FakeEventLog())
    assert store.find(created["id"])["assignment"] == ASSIGNMENT


@pytest.mark.parametrize("holdout_percent", [0, 5, 20, 50])
def test_shares_are_within_a_few_percent_of_the_campaigns(holdout_percent):
    n = 40_000
    codes = groups.codes(campaign(holdout_percent=holdout_percent, variants=WEIGHTED),
                         [f"cust-{i}" for i in range(n)])
    chosen = Counter(groups.HOLDOUT if code == groups.HOLDOUT_CODE else WEIGHTED[code]["name"]
                     for code in codes.tolist())
    assert abs(chosen["holdout"] / n - holdout_percent / 100) < 0.01
    rest = n - chosen["holdout"]
    for variant in WEIGHTED:
        assert abs(chosen[variant["name"]] / rest - variant["weight"] / 100) < 0.02
    assert sum(chosen.values()) == n


def test_groups_codes_agree_with_group_of_and_campaigns_draw_apart():
    ids = [f"cust-{i}" for i in range(20_000)]
    first = campaign("c1", 20, WEIGHTED)
    names = ["A", "B", "C"]
    codes = groups.codes(first, ids).tolist()
    assert [groups.HOLDOUT if code == groups.HOLDOUT_CODE else names[code] for code in codes][
        :500] == [groups.group_of(first, customer) for customer in ids[:500]]
    other = groups.codes(campaign("c2", 20, WEIGHTED), ids).tolist()
    both = sum(1 for a, b in zip(codes, other, strict=True)
               if a == b == groups.HOLDOUT_CODE)
    assert abs(both / len(ids) - 0.04) < 0.01  # independent draws: 20% of 20%


@pytest.mark.parametrize("shape", [{}, {"variants": WEIGHTED}])
def test_preflight_over_the_audience_equals_a_launch_decided_chunk_by_chunk(shape):
    index = AudienceIndex()
    people = [{**profile, "suppressed": n % 13 == 0,
               "marketing_consent": "unsubscribed" if n % 9 == 0 else "subscribed"}
              for n, profile in enumerate(synthetic_profiles(3000, now=NOW))]
    index.upsert_many(people)
    planned = campaign("cmp-eq", 15, shape.get("variants"))
    capped_ids = {person["external_id"] for person in people[::7]}

    def at_cap(ids):
        return capped_ids & set(ids)

    counted = check(index, EVERYONE, NOW, template_fields(planned), with_ids=True)
    answer = preflight(planned, counted, at_cap=at_cap)
    recipients = [shown for shown in index.shown(list(index.match_ids(EVERYONE, NOW)))]
    per_chunk, lints, templates = [], [], groups.templates(planned)
    for start in range(0, len(recipients), 250):
        decision = exclusions.decide(planned, recipients[start:start + 250], at_cap=at_cap)
        per_chunk.append(decision.counts())
        lints.append(groups.chunk_lint(templates, decision.messaged))
    launched = exclusions.summed(per_chunk)
    assert answer["excluded"] == launched
    assert min(launched.values()) > 0
    assert answer["audience_size"] == answer["matched"] - exclusions.total(launched)
    assert answer["lint"]["placeholders"] == domain.merge_lints(lints)["placeholders"]
