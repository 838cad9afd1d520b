"""GET /api/v1/segments/<id>/members.csv over a real in-memory index and small fakes."""
from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from segments.app import create_app
from segments.audience.index import AudienceIndex
from segments.config import SegmentsConfig
from segments.projection.profiles import apply_event
from segments.saved import members_csv

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
