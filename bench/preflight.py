"""Scenario `campaign_preflight_<n>`: a campaign's preflight over n profiles, in process.

The two halves a preflight runs, timed apart and together, on an audience index of
n synthetic profiles (about a quarter unsubscribed or suppressed by a seeded draw):
segments' count (segments.audience.check, numpy over the columns, with the ids),
the answer's JSON both ways (what the HTTP call between the services carries), and
campaigns' cap-free waterfall and lint (campaigns.recipients.preflight: a hash per
eligible customer for the holdout). No servers: the HTTP hop itself and the cap
ledger's load from the logs are not in it. Target: 2 s at 1,000,000 profiles.
"""
from __future__ import annotations

import json
import random
import time
from datetime import UTC, datetime

from campaigns.recipients.preflight import preflight, template_fields
from segments.audience.check import check
from segments.audience.index import AudienceIndex
from segments.rules.language import parse_rules
from segments.synthetic import synthetic_profiles

EVERYONE = {"not": {"field": "order_count", "op": "lt", "value": 0}}
CAMPAIGN = {"_id": "bench-preflight", "holdout_percent": 10,
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
    return {"scenario": f"campaign_preflight_{n}", "profiles": n,
            "matched": answer["matched"], "audience_size": answer["audience_size"],
            "segments_count_s": round(counted_at - started, 3),
            "json_s": round(carried_at - counted_at, 3),
            "campaigns_waterfall_s": round(done - carried_at, 3),
            "total_s": round(done - started, 3), "target_s": 2.0}
