"""`make soak`: ten minutes of mixed work at half the measured maximum (README,
Benchmarks: ingest projects ~425 records/s, so 200/s here; a campaign to 1,000
customers at a time, sent at 1,000 messages/s, half the 100k campaign's ~2,300/s;
audience previews 5 a second), on the suite of `make reliability`
(bench/reliability.running). Ingest updates a fixed pool of 10,000 customers, so the
data does not grow. Ends in a table of each process's resident memory
(with its gunicorn workers) after a minute of warm-up and at the end, and the
errors seen; it held when there was no error and no process grew 10% or more.

    python -m bench.soak [--minutes 10]
"""
from __future__ import annotations

import argparse
import sys
import threading
import time
from collections import Counter

import psutil
import requests

from bench.reliability import progress, running
from crm.seed import generate_customers
from tests.support.campaigns import post_customers, wait_audience

INGEST_BATCH, INGEST_RATE = 100, 200.0  # records/s
POOL = 10_000  # customers updated over and over: all of them seen within the warm-up
PREVIEW_RATE = 5.0
CAMPAIGN_SIZE, CAMPAIGN_SEND_RATE = 1000, 1000.0
WARM_UP = 60.0
CITY = "Soakpur"
RULES = {"field": "city", "op": "eq", "value": CITY}


def resident_mb(stack) -> dict[str, float]:
    sizes = {}
    for name in [child.name for child in stack.supervisor.children]:
        pid = stack.supervisor.pid(name)
        if pid is None:
            continue
        try:
            parent = psutil.Process(pid)
            family = [parent, *parent.children(recursive=True)]
            sizes[name] = sum(p.memory_info().rss for p in family) / 2**20
        except psutil.NoSuchProcess:
            continue
    return sizes


class Load:
    def __init__(self, api, until: float):
        self.api, self.until = api, until
        self.counts: Counter = Counter()
        self.errors: list[str] = []

    def _call(self, method: str, path: str, ok: tuple[int, ...], **kwargs):
        try:
            answer = self.api.request(method, self.api.base_url + path, timeout=60, **kwargs)
        except requests.RequestException as error:
            self.errors.append(f"{method} {path}: {type(error).__name__}")
            return None
        if answer.status_code not in ok:
            self.errors.append(f"{method} {path}: {answer.status_code} {answer.text[:200]}")
            return None
        return answer.json()

    def ingest(self) -> None:
        """Updates of a fixed pool of customers (new visit counts), so the data stays the
        same size and memory that keeps growing is a leak, not more customers."""
        pool = generate_customers(POOL, seed=3, prefix="soak-")
        number = 0
        while time.monotonic() < self.until:
            started = time.monotonic()
            start = (number * INGEST_BATCH) % POOL
            records = [{**c, "visits": number} for c in pool[start:start + INGEST_BATCH]]
            if self._call("POST", "/api/v1/customers", (202,), json={"records": records}):
                self.counts["customer records ingested"] += len(records)
            number += 1
            time.sleep(max(0.0, INGEST_BATCH / INGEST_RATE - (time.monotonic() - started)))

    def previews(self) -> None:
        rules = {"all": [{"field": "visits", "op": "gte", "value": 2},
                         {"field": "last_active_at", "op": "within", "value": "90d"}]}
        while time.monotonic() < self.until:
            if self._call("POST", "/api/v1/segments/preview", (200,), json={"rules": rules}):
                self.counts["previews"] += 1
            time.sleep(1 / PREVIEW_RATE)

    def campaigns(self) -> None:
        while time.monotonic() < self.until:
            created = self._call("POST", "/api/v1/campaigns", (201,), json={
                "name": "Soak", "rules": RULES, "send_rate": CAMPAIGN_SEND_RATE,
                "message": "Hi {first_name|there}, still here after all these minutes."})
            if not created:
                time.sleep(5)
                continue
            while time.monotonic() < self.until + 120:
                campaign = self._call("GET", f"/api/v1/campaigns/{created['id']}", (200,))
                if campaign is None or campaign["status"] in ("completed", "failed"):
                    break
                time.sleep(1)
            if campaign and campaign["status"] == "completed":
                self.counts["campaigns completed"] += 1
                self.counts["messages sent or failed"] += campaign["stats"]["audience_size"]
            elif campaign:
                self.errors.append(f"campaign {created['id']} ended {campaign['status']}")


def table(start: dict[str, float], end: dict[str, float]) -> tuple[str, bool]:
    lines = ["| process | RSS at start (MB) | RSS at end (MB) | growth |", "|---|---|---|---|"]
    held = True
    for name in sorted(start):
        before, after = start[name], end.get(name, 0.0)
        growth = (after - before) / before * 100 if before else 0.0
        held &= growth < 10
        lines.append(f"| {name} | {before:.0f} | {after:.0f} | {growth:+.1f}% |")
    return "\n".join(lines), held


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    args = parser.parse_args(argv)
    with running(0) as run:
        audience = generate_customers(CAMPAIGN_SIZE, seed=7, prefix="soak-audience-")
        for customer in audience:
            customer["city"] = CITY
        post_customers(run.api, audience)
        wait_audience(run.api, RULES, CAMPAIGN_SIZE, timeout=300)
        load = Load(run.api, time.monotonic() + args.minutes * 60)
        workers = [threading.Thread(target=job, daemon=True)
                   for job in (load.ingest, load.previews, load.campaigns)]
        for worker in workers:
            worker.start()
        time.sleep(min(WARM_UP, args.minutes * 30))
        start = resident_mb(run.stack)
        progress(f"warm, RSS {sum(start.values()):.0f} MB in all; running ...")
        for worker in workers:
            worker.join()
        end = resident_mb(run.stack)
    text, steady = table(start, end)
    print(text)
    print("\n" + ", ".join(f"{name}: {count:,}" for name, count in load.counts.items()))
    print(f"errors: {len(load.errors)}" + "".join(f"\n- {e}" for e in load.errors[:20]))
    held = steady and not load.errors
    print("soak held" if held else "soak did NOT hold")
    return 0 if held else 1


if __name__ == "__main__":
    sys.exit(main())
