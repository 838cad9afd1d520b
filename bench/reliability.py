"""`make reliability`: the suite, started as `crm up` starts it, on a database and a broker
of its own (bench/reliability_servers.py), through one fault after another, each ending
in a row of the table: scenario, records or messages accepted or sent, how many arrived,
lost, duplicated, and whether it recovered by itself (no step but the fault's own restart
of a server). Last line: "N of N scenarios held".

    python -m bench.reliability [--only NAME ...] [--size N]

Ingest scenarios post orders for customers of their own in batches (a client retries a
batch that got no answer or a 5xx, as API.md allows: ingest is idempotent) and count,
once projected, each customer's order_count: lost = accepted orders never counted,
duplicated = orders counted twice. Campaign scenarios send a paced campaign to customers
of their own and count the vendor's messages: lost = audience members without one,
duplicated = messages beyond one per customer (or a log entry twice).
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench import reliability_scenarios as scenarios
from bench.reliability_servers import PrivateServers
from crm.stack import Stack, free_service_ports
from crm.supervisor import Output
from shared.config import Settings
from tests.support.suite import api_session

ROOT = Path(__file__).resolve().parent.parent
LOG = ROOT / "var" / "reliability" / "suite.log"


@dataclass
class Run:
    """What a scenario works with."""

    stack: Stack
    settings: Settings  # the suite's, reaching the servers through the proxies
    direct: Settings  # the same databases and queues, around the proxies
    servers: PrivateServers
    api: object
    size: int


def progress(message: str) -> None:
    print(f"reliability: {message}", file=sys.stderr, flush=True)


@contextmanager
def running(size: int):
    servers = PrivateServers().start()
    run_id = f"rel{uuid.uuid4().hex[:6]}"
    snapshots = tempfile.mkdtemp(prefix=f"crm-{run_id}-")
    env = {**os.environ, **servers.urls, "CRM_DB_PREFIX": run_id,
           "CRM_QUEUE_PREFIX": f"{run_id}.", "CRM_LOG_LEVEL": "WARNING",
           "SEGMENTS_SNAPSHOT_DIR": snapshots, "CRM_GATEWAY_RATE_LIMIT": "0",
           **free_service_ports()}
    LOG.parent.mkdir(parents=True, exist_ok=True)
    with LOG.open("a") as log:
        stack = Stack(env, servers=False, output=Output(stream=log))
        try:
            stack.start()
            stack.wait_ready(180)
            settings = Settings.from_env(env)
            direct = Settings.from_env({**env, **servers.direct_urls})
            yield Run(stack, settings, direct, servers,
                      api_session(stack, settings, "reliability"), size)
        finally:
            stack.stop()
            servers.stop()
            shutil.rmtree(snapshots, ignore_errors=True)


def table(rows: list[scenarios.Row]) -> str:
    header = ("scenario", "accepted or sent", "arrived", "lost", "duplicated",
              "recovered by itself")
    cells = [header] + [(r.scenario, str(r.sent), str(r.arrived), str(r.lost),
                         str(r.duplicated), "yes" if r.recovered else "NO") for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) + " |"
             for row in cells]
    lines.insert(1, "|" + "|".join("-" * (w + 2) for w in widths) + "|")
    held = sum(r.held for r in rows)
    return "\n".join(lines + ["", f"{held} of {len(rows)} scenarios held"])


def run_all(names: list[str], size: int) -> list[scenarios.Row]:
    rows = []
    with running(size) as run:
        for name in names:
            progress(f"{name} ...")
            try:
                row = scenarios.SCENARIOS[name](run)
            except Exception as error:  # a scenario that breaks is a row that did not hold
                row = scenarios.Row(name, 0, 0, 0, 0, False, f"{type(error).__name__}: {error}")
            row.scenario = name
            progress(f"{name}: {row}")
            rows.append(row)
            run.stack.wait_ready(120)  # the next scenario starts with the whole suite back
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=list(scenarios.SCENARIOS),
                        help="run only these scenarios")
    parser.add_argument("--size", type=int, default=200,
                        help="customers (and orders, and recipients) per scenario")
    args = parser.parse_args(argv)
    rows = run_all(args.only or list(scenarios.SCENARIOS), args.size)
    print(table(rows))
    for row in rows:
        if row.note:
            print(f"- {row.scenario}: {row.note}")
    return 0 if all(r.held for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
