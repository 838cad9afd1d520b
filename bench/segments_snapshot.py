"""The segments API's index snapshot (services/segments/index_snapshot.py) at scale, in process.

    python -m bench.segments_snapshot [--customers 1000000] [--phones]

Builds an audience index of synthetic profiles (optionally each with its own
phone), writes its snapshot as a graceful stop does (pickle, fsync, rename),
takes it back as a start does, and prints one JSON line: write and load
seconds (best of `--rounds`), the file size, and the build time for scale.
No servers needed.
"""
from __future__ import annotations

import argparse
import json
import tempfile
import time

from segments.audience.index import AudienceIndex
from segments.audience.snapshot import IndexSnapshot
from segments.synthetic import synthetic_profiles

BATCH = 5000


def build(n: int, phones: bool) -> AudienceIndex:
    index, batch = AudienceIndex(), []
    for i, profile in enumerate(synthetic_profiles(n, seed=3)):
        if phones:
            profile["phone"] = f"+91 9{i:09d}"
        batch.append(profile)
        if len(batch) == BATCH:
            index.upsert_many(batch)
            batch = []
    index.upsert_many(batch)
    return index


def run(n: int, phones: bool, rounds: int) -> dict:
    started = time.monotonic()
    index = build(n, phones)
    result = {"scenario": "segments_index_snapshot", "customers": n, "phones": phones,
              "build_seconds": round(time.monotonic() - started, 1)}
    writes, loads = [], []
    with tempfile.TemporaryDirectory() as directory:
        snapshot = IndexSnapshot(directory, "bench.segments.index.r1")
        for _ in range(rounds):
            written = snapshot.write(index, "bench", "bench")
            writes.append(written["seconds"])
            result["megabytes"] = round(written["bytes"] / 1e6, 1)
            started = time.monotonic()
            restored, why = snapshot.take("bench", "bench")
            loads.append(round(time.monotonic() - started, 2))
            assert restored is not None and len(restored.index) == n, why
            del restored
    result.update(write_seconds=min(writes), load_seconds=min(loads),
                  write_all=writes, load_all=loads)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.segments_snapshot")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--phones", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(run(args.customers, args.phones, args.rounds)), flush=True)


if __name__ == "__main__":
    main()
