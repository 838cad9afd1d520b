"""Scenario `campaign_100k`: one campaign to 100,000 customers, launch to nothing pending.

100,000 generated profiles, all in one city, are written straight into the
segments projection before the suite starts (the ingest scenario measures
ingestion). Once the segments index holds them, a campaign to that city is
launched through the gateway and watched once a second until `completed`,
checking `sent + failed + pending == audience_size` at every read. Stage times
are seconds since the campaign's `created_at`, read-only from what the services
record:
- audience_streamed: the last `audience.chunk` in the segments event log
  (`_id` = uuid5(request_id, index), read by `_id`);
- all_queued: the last chunk record the dispatcher wrote (`queued_at`);
- all_accepted: the first poll at which the vendor's `messages` count reached
  the audience (collStats; within a second);
- all_reported: the first poll with `pending == 0` (within a second).
In the same run, the broker ceiling: as many message bodies as recipients
through pika at the best settings (bench.ceiling.broker_seconds).
"""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime

from pymongo.errors import OperationFailure

from bench import ceiling
from bench.segments import _document
from bench.suite import api_session, progress, running_suite
from segments.synthetic import synthetic_profiles
from shared.mongo import connect

CITY = "Benchpur"  # every bench profile lives here: the audience is all of them
RULES = {"field": "city", "op": "eq", "value": CITY}
TEMPLATE = "Hi {first_name|there}, here's 10% off on your next order in {city}!"
CHUNK = 1000  # recipients per audience.chunk (segments' default)
# The pipeline's throughput settings for this run (the services' defaults otherwise).
SUITE_ENV: dict[str, str] = {}


def _write_profiles(settings, n: int) -> None:
    client = connect(settings)
    collection = client[settings.database_name("segments")]["profiles"]
    batch = []
    for profile in synthetic_profiles(n, seed=8):
        batch.append(_document({**profile, "city": CITY}))
        if len(batch) == 2000:
            collection.insert_many(batch, ordered=False)
            batch = []
    if batch:
        collection.insert_many(batch, ordered=False)
    client.close()
    progress(f"wrote {n} profiles")


def _wait_audience(session, gateway: str, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        answer = session.post(f"{gateway}/api/v1/segments/preview", json={"rules": RULES})
        if answer.status_code == 200 and answer.json().get("count", 0) >= n:
            return
        time.sleep(2)
    raise SystemExit(f"the segments index did not find {n} customers in {timeout}s")


def _count(db, name: str) -> int:
    try:
        return int(db.command("collStats", name).get("count", 0))
    except OperationFailure:
        return 0


def _parse(value) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def _watch(session, gateway: str, cid: str, vendor_db, n: int, timeout: float) -> dict:
    """Poll once a second until completed; when all were accepted and all reported."""
    started, seen = time.monotonic(), {}
    while time.monotonic() - started < timeout:
        answer = session.get(f"{gateway}/api/v1/campaigns/{cid}", timeout=30)
        answer.raise_for_status()
        campaign = answer.json()
        stats = campaign["stats"]
        if stats["sent"] + stats["failed"] + stats["pending"] != stats["audience_size"]:
            raise SystemExit(f"stats invariant broken: {stats}")
        if campaign["status"] == "failed":
            raise SystemExit(f"the campaign failed: {campaign}")
        if "all_accepted" not in seen and _count(vendor_db, "messages") >= n:
            seen["all_accepted"] = datetime.now(UTC)
        if campaign["status"] == "completed":
            seen["all_reported"] = datetime.now(UTC)
            seen.setdefault("all_accepted", seen["all_reported"])
            return {"campaign": campaign, "seen": seen}
        time.sleep(1)
    raise SystemExit(f"campaign not completed in {timeout}s: {campaign}")


def _recorded_stages(client, settings, cid: str, created: datetime) -> dict[str, float]:
    """audience_streamed and all_queued from the timestamps the services wrote."""
    from segments.audience.stream import chunk_event_id

    campaigns_db = client[settings.database_name("campaigns")]
    chunks = list(campaigns_db[f"chunks_{cid}"].find({}, {"queued_at": 1}))
    chunk_count = len(chunks)
    queued = max(_parse(chunk["queued_at"]) for chunk in chunks)
    events = client[settings.database_name("segments")]["events"]
    streamed = max(_parse(events.find_one({"_id": chunk_event_id(f"{cid}:1", i)},
                                          {"occurred_at": 1})["occurred_at"])
                   for i in range(chunk_count))
    return {"audience_streamed": (streamed - created).total_seconds(),
            "all_queued": (queued - created).total_seconds()}


def _ceiling_bodies(n: int) -> list[bytes]:
    """A body the size of one queued message, n times (the messages the pipeline moves)."""
    message = {"message_id": "c" * 32 + ":1:000000000", "customer_external_id": "cust-8-99999",
               "to": "aarav.99999@example.com", "text": TEMPLATE}
    return [json.dumps({**message, "n": i}).encode() for i in range(n)]


def _broker_ceiling(settings, n: int) -> float | None:
    """The ceiling, tried a few times: a broker restarted by someone's fault test must
    not throw away the campaign's measurement (None if it never answers)."""
    for attempt in range(4):
        try:
            return ceiling.broker_seconds(settings, _ceiling_bodies(n))
        except Exception as error:  # noqa: BLE001  pika raises connector errors outside AMQPError
            progress(f"broker ceiling failed ({error!r}); attempt {attempt + 1} of 4")
            time.sleep(10)
    return None


def run(n: int = 100_000) -> dict:
    with running_suite(extra_env=SUITE_ENV, ready_timeout=600,
                       before_start=lambda s: _write_profiles(s, n)) as (settings, gateway):
        session = api_session(settings)
        _wait_audience(session, gateway, n, timeout=600)
        client = connect(settings)
        vendor_db = client[settings.database_name("vendor_sim")]
        progress(f"launching a campaign to {n} customers")
        answer = session.post(f"{gateway}/api/v1/campaigns", timeout=60,
                              json={"name": "Bench", "rules": RULES, "message": TEMPLATE})
        answer.raise_for_status()
        cid = answer.json()["id"]
        watched = _watch(session, gateway, cid, vendor_db, n, timeout=900)
        campaign = watched["campaign"]
        created = _parse(campaign["created_at"])
        stages = _recorded_stages(client, settings, cid, created)
        for name in ("all_accepted", "all_reported"):
            stages[name] = (watched["seen"][name] - created).total_seconds()  # same machine clock
        client.close()
        progress(f"campaign completed: {stages}; measuring the broker ceiling")
        broker_s = _broker_ceiling(settings, n)
    seconds = stages["all_reported"]
    stats = campaign["stats"]
    return {"scenario": "campaign_100k", "recipients": n,
            "seconds_to_complete": round(seconds, 1),
            "stages_seconds": {k: round(v, 1) for k, v in stages.items()},
            "recipients_per_second": {k: round(n / v) if v > 0 else None
                                      for k, v in stages.items()},
            "sent": stats["sent"], "failed": stats["failed"], "pending": stats["pending"],
            "broker_ceiling_seconds": round(broker_s, 2) if broker_s else None,
            "ratio_to_ceiling": round(seconds / broker_s, 1) if broker_s else None,
            "settings": SUITE_ENV}
