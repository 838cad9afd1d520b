"""`make bench`: one JSON object per line, one line per scenario.

    python -m bench [--scenario ingest] [--customers N] [--orders N] [--recipients N]
                    [--profiles N]

--customers and --orders size `ingest`; --recipients and --orders size
`campaign_results_100k` (100,000 and 200,000 unless given); --profiles sizes
`segment_order_window_1m` (1,000,000 unless given, ~5 orders each).
"""
from __future__ import annotations

import argparse
import json
import signal

from bench import campaign_results, campaigns, ingest, order_windows, preflight, segments

SCENARIOS = {
    "ingest": ingest.run,
    "segment_preview_100k": lambda: segments.run(100_000),
    "segment_preview_1m": lambda: segments.run(1_000_000),
    "campaign_100k": lambda: campaigns.run(100_000),
    "campaign_results_100k": lambda: campaign_results.run(100_000, 200_000),
    "campaign_preflight_1m": lambda: preflight.run(1_000_000),
    "segment_order_window_1m": lambda: order_windows.run(1_000_000),
}


def _exit_on_sigterm(*_args) -> None:
    raise SystemExit(143)  # unwinds the `with` blocks, so the suite is stopped


def main() -> None:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--scenario", action="append", choices=sorted(SCENARIOS))
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--orders", type=int, default=200_000)
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--profiles", type=int, default=1_000_000)
    args = parser.parse_args()
    for name in args.scenario or list(SCENARIOS):
        if name == "ingest":
            result = ingest.run(args.customers, args.orders)
        elif name == "segment_order_window_1m":
            result = order_windows.run(args.profiles)
        elif name == "campaign_results_100k":
            result = campaign_results.run(args.recipients, args.orders)
        else:
            result = SCENARIOS[name]()
        print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
