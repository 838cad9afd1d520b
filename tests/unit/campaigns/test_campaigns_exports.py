"""CSV exports: formula cells escaped, every recipient once across pages, results rows."""
from __future__ import annotations

import csv
import io

from campaigns import handlers
from campaigns.app import create_app
from campaigns.config import CampaignsConfig
from campaigns.delivery import fanout
from campaigns.results import exports

from shared.csv_export import csv_lines, safe_cell
from tests.support.fakes import NOW, FakeDeliveries, FakeEventLog, chunk
from tests.support.fakes import FakeCampaignStore as FakeStore


def test_cells_a_spreadsheet_would_run_are_escaped():
    assert [safe_cell(v) for v in ["=1+1", "+91 98", "-5", "@SUM(A1)", "\tx", "ok",
                                           None, 12.5, "a=b"]] == [
        "'=1+1", "'+91 98", "'-5", "'@SUM(A1)", "'\tx", "ok", "", "12.5", "a=b"]
    line = next(csv_lines([['=HYPERLINK("http://x")', 'say "hi", then go']]))
    assert line == '"\'=HYPERLINK(""http://x"")","say ""hi"", then go"\r\n'


class Deps:
    def __init__(self):
        self.config = CampaignsConfig()
        self.store, self.deliveries, self.event_log = FakeStore(), FakeDeliveries(), FakeEventLog()
        self.segment_rules = self.attribution_store = None

    def readiness(self):
        return {"database": True, "broker": True}


def test_messages_csv_lists_every_recipient_once_over_many_pages(monkeypatch):
    monkeypatch.setattr(exports, "PAGE", 7)
    deps = Deps()
    body = {"name": "Sale", "rules": {"field": "city", "op": "eq", "value": "x"},
            "message": "{name|there}", "holdout_percent": 20}
    cid = handlers.create_campaign(body, NOW, store=deps.store, segment_rules=None,
                                   event_log=deps.event_log)["id"]
    # A name a spreadsheet would run, for everyone: {name} renders it first in the text.
    people = [{"external_id": f"c{n}", "name": f"=cmd|' /C calc'!A{n}", "email": f"c{n}@x.in"}
              for n in range(50)]
    for index in range(3):
        fanout.handle_events([chunk(cid, index, 3, 50, people[index * 20:(index + 1) * 20])],
                             NOW, store=deps.store, event_log=deps.event_log, deliveries=None)
    deps.deliveries.reported[f"{cid}.1.0"] = "SENT"
    client = create_app(deps.config, dependencies=deps).test_client()
    response = client.get(f"/api/v1/campaigns/{cid}/messages.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == exports.MESSAGE_COLUMNS
    messaged = set(deps.store.collections[f"messages_{cid}"])
    assert 0 < len(messaged) < 50  # the holdout got no message, so it is not in the log
    assert sorted(row[0] for row in rows[1:]) == sorted(messaged)
    by_customer = {row[0]: row for row in rows[1:]}
    first = deps.store.find_chunk(cid, 0)["ids"][0]
    assert by_customer[first][6] == "SENT"
    assert {row[6] for row in rows[1:] if row[0] != first} == {"PENDING"}
    assert by_customer[first][1] == "default" and by_customer[first][7].endswith("Z")
    assert all(row[5] == f"'=cmd|' /C calc'!A{row[0][1:]}" for row in rows[1:])
    assert client.get("/api/v1/campaigns/nope/messages.csv").status_code == 404


class NoOrders:
    def find_summary(self, _cid):
        return None


def test_results_csv_has_a_row_per_group():
    deps = Deps()
    deps.attribution_store = NoOrders()
    body = {"name": "Sale", "rules": {"field": "city", "op": "eq", "value": "x"},
            "message": None, "holdout_percent": 10,
            "variants": [{"name": "A", "message": "Hi", "weight": 50},
                         {"name": "B", "message": "Yo", "weight": 50}]}
    cid = handlers.create_campaign(body, NOW, store=deps.store, segment_rules=None,
                                   event_log=deps.event_log)["id"]
    client = create_app(deps.config, dependencies=deps).test_client()
    response = client.get(f"/api/v1/campaigns/{cid}/results.csv?window_days=3")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert [row[0] for row in rows] == ["group", "holdout", "A", "B"]
    assert rows[0][7] == "conversion_lift" and rows[2][1] == "0"
    assert client.get(f"/api/v1/campaigns/{cid}/results.csv?window_days=99").status_code == 400
