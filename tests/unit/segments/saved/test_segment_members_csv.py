"""GET /api/v1/segments/<id>/members.csv over a real in-memory index and small fakes."""
from __future__ import annotations

import csv
import io
import tracemalloc
from datetime import UTC, datetime

from segments.app import create_app
from segments.audience.index import AudienceIndex
from segments.config import SegmentsConfig
from segments.projection.profiles import apply_event
from segments.rules.language import parse_rules
from segments.saved import members_csv
from shared.csv_export import csv_lines

from tests.support.profile_events import customer_event

NOW = datetime(2024, 6, 1, tzinfo=UTC)


class Segments:
    def __init__(self, documents):
        self.documents = documents

    def find(self, segment_id):
        return self.documents.get(segment_id)


class Database:
    def __init__(self, documents):
        self._segments = Segments(documents)

    def segments(self):
        return self._segments

    def reachable(self):
        return True


class Audience:
    def __init__(self, profiles, ready=True):
        self.index = AudienceIndex()
        self.index.upsert_many(profiles)
        self.ready = self.serving = ready

    def status(self):
        return {"state": "ready" if self.ready else "loading"}

    def ensure_started(self):
        pass


def client_for(profiles, ready=True):
    database = Database({"s1": {"_id": "s1", "rules": {"field": "city", "op": "eq",
                                                       "value": "pune"}}})
    app = create_app(SegmentsConfig(), database=database, audience=Audience(profiles, ready))
    app.extensions["segments.clock"] = lambda: NOW
    return app.test_client()


def test_every_member_once_in_batches_with_formula_cells_escaped(monkeypatch):
    monkeypatch.setattr(members_csv, "BATCH", 7)
    monkeypatch.setattr(members_csv, "WINDOW", 16)
    profiles = [apply_event(None, customer_event(
        f"e{n}", "2024-04-01T00:00:00Z", external_id=f"c{n:03d}",
        name="=HYPERLINK(\"http://x\")" if n == 5 else f"Asha {n}",
        city="Pune" if n % 3 else "Delhi")) for n in range(60)]
    response = client_for(profiles).get("/api/v1/segments/s1/members.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == members_csv.COLUMNS
    assert sorted(row[0] for row in rows[1:]) == [f"c{n:03d}" for n in range(60) if n % 3]
    by_id = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert by_id["c005"]["name"] == "'=HYPERLINK(\"http://x\")"
    assert by_id["c001"]["city"] == "Pune"


def test_unknown_segment_is_404_and_a_loading_index_503():
    assert client_for([]).get("/api/v1/segments/nope/members.csv").status_code == 404
    loading = client_for([], ready=False).get("/api/v1/segments/s1/members.csv")
    assert loading.status_code == 503
    assert loading.get_json()["error"]["code"] == "INDEX_LOADING"


def test_a_removed_customer_is_left_out_and_no_other():
    audience = Audience([{"external_id": f"c{n}", "city": "Pune"} for n in range(40)])
    rows = members_csv.member_rows(audience.index, parse_rules(
        {"field": "city", "op": "eq", "value": "pune"}), NOW)
    assert next(rows) == members_csv.COLUMNS
    audience.index.remove("c3")
    assert [row[0] for row in rows] == [f"c{n}" for n in range(40) if n != 3]


def export_peak(index, spend_below: int) -> tuple[int, int]:
    """(rows written, the most memory the export held above what was there before)."""
    rule = parse_rules({"field": "total_spend", "op": "lt", "value": spend_below})
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        written = sum(1 for _ in csv_lines(members_csv.member_rows(index, rule, NOW)))
        return written - 1, tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def test_the_memory_an_export_holds_does_not_grow_with_its_members():
    # One index of 60,000 customers, so the rule's evaluation (a byte per customer of
    # the index, as every count) is the same in both exports; the members are the first
    # 20,000 customers or all of them, so the fullest window and batch are alike in both.
    customers = 60_000
    index = AudienceIndex()
    index.upsert_many({"external_id": f"c{n:06d}", "name": f"=Asha {n}", "city": "Pune",
                       "email": f"asha{n}@example.com", "tags": ["vip", f"t{n % 7}"],
                       "visits": n % 100, "total_spend": n} for n in range(customers))
    few, few_peak = export_peak(index, customers // 3)
    every, every_peak = export_peak(index, customers)
    assert (few, every) == (customers // 3, customers)
    # Holding the members (a row number, let alone an id, per member) would add at least
    # 8 bytes per member: 320 KB here. Less than a byte per member more is a constant.
    assert every_peak - few_peak < every - few, (few_peak, every_peak)
