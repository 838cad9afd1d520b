"""What of `make reliability` (bench/reliability.py) fits in `make test`: a kill -9 of
the campaign sender mid-send, the database killed and restarted mid-ingest, and a
poison message, each on the run's own database and broker, ending with 0 lost and
0 duplicated and the suite recovered by itself."""
from __future__ import annotations

import pytest

from bench.reliability import run_all, table

SUBSET = ["kill -9 campaigns-sender mid-campaign", "database killed and restarted mid-ingest",
          "poison message"]


@pytest.mark.timeout(900)
def test_the_subset_of_reliability_scenarios_holds():
    rows = run_all(SUBSET, size=100)
    report = table(rows) + "".join(f"\n- {r.scenario}: {r.note}" for r in rows if r.note)
    print(report)
    assert [r.scenario for r in rows] == SUBSET
    for row in rows:
        assert row.sent == 100 and row.lost == 0 and row.duplicated == 0, report
        assert row.recovered, report
