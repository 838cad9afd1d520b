"""Scenario `campaign_preflight_<n>`: a campaign's preflight over n profiles, in process.

The two halves a preflight runs, timed apart and together, on an audience index of
n synthetic profiles (about a quarter unsubscribed or suppressed by a seeded draw):
segments' count (segments.audience.check, numpy over the columns, with the ids),
the answer's JSON both ways (what the HTTP call between the services carries), and
campaigns' cap-free waterfall and lint (campaigns.recipients.preflight: the launch's
own holdout/variant assignment, numpy over every eligible customer). Beside them, raw
figures of the same run: the eligible ids' bare JSON round trip and numpy's bare pass
over them, the floor under the preflight's own. No servers: the HTTP hop itself and
the cap ledger's load from the logs are not in it. Target: 2 s at 1,000,000 profiles.
"""
from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime

import numpy as np

from campaigns.recipients.assignment import ASSIGNMENT
from campaigns.recipients.preflight import preflight, template_fields
from segments.audience.check import check
from segments.audience.index import AudienceIndex
from segments.rules.language import parse_rules
from segments.synthetic import synthetic_profiles

EVERYONE = {"not": {"field": "order_count", "op": "lt", "value": 0}}
CAMPAIGN = {"_id": "bench-preflight", "holdout_percent": 10, "assignment": ASSIGNMENT,
            "message": "Hi {first_name|there}, {city|} {visits}"}


def _profiles(n: int, now: datetime):
    draw = random.Random(7)
    for profile in synthetic_profiles(n, now=now):
        roll = draw.random()
        yield {**profile, "marketing_consent": "unsubscribed" if roll < 0.15 else "subscribed",
               "suppressed": 0.15 <= roll < 0.25}


def run(n: int) -> dict:
    now = datetime.now(UTC)
    index = AudienceIndex()
    index.upsert_many(_profiles(n, now))
    rule, names = parse_rules(EVERYONE), template_fields(CAMPAIGN)
    started = time.perf_counter()
    counted = check(index, rule, now, names, with_ids=True)
    counted_at = time.perf_counter()
    carried = json.loads(json.dumps(counted))
    carried_at = time.perf_counter()
    answer = preflight(CAMPAIGN, carried)
    done = time.perf_counter()
    floor = _floor(carried["eligible_ids"])
    return {"scenario": f"campaign_preflight_{n}", "profiles": n,
            "matched": answer["matched"], "audience_size": answer["audience_size"],
            "segments_count_s": round(counted_at - started, 3),
            "json_s": round(carried_at - counted_at, 3),
            "campaigns_waterfall_s": round(done - carried_at, 3),
            "total_s": round(done - started, 3), "target_s": 2.0, **floor}


def _floor(ids: list[str]) -> dict:
    """Raw figures from the same run, the floor under the preflight's own: the bare
    JSON round trip of the eligible ids alone, and numpy's bare pass over them (the
    ids as an array: what any per-customer assignment reads first)."""
    started = time.perf_counter()
    json.loads(json.dumps(ids))
    carried_at = time.perf_counter()
    np.array(ids, dtype=str)
    return {"eligible": len(ids), "raw_ids_json_s": round(carried_at - started, 3),
            "raw_ids_numpy_s": round(time.perf_counter() - carried_at, 3)}
