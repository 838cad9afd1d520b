"""The cap ledger's reads on real FerretDB (recipients/cap_store.py): a campaign's
communications log is read once it is fully queued and never again (it cannot grow),
while a campaign still being dispatched is read at every call, so a preflight's cap
stays exact without re-reading 90 days of logs each time."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from campaigns.recipients.cap_store import CapStore

from shared import mongo
from tests.support import backbone

pytestmark = pytest.mark.integration
# fixture: pytest finds fixtures by module-level name
sandbox = backbone.sandbox_fixture("campaigns")
NOW = datetime.now(UTC).replace(microsecond=0, tzinfo=None)


@pytest.fixture
def db(sandbox):
    return mongo.connect(sandbox.settings)[sandbox.settings.database_name("campaigns")]


def _campaign(db, cid: str, chunk_count: int | None, days_ago: float = 1) -> None:
    db["campaigns"].insert_one({"_id": cid, "chunk_count": chunk_count,
                                "created_at": NOW - timedelta(days=days_ago)})


def _log(db, cid: str, customers: list[str]) -> None:
    db[f"messages_{cid}"].insert_many([{"_id": customer} for customer in customers])


def test_a_fully_queued_log_is_read_once_and_one_still_dispatching_at_every_call(db):
    _campaign(db, "done", chunk_count=1)
    _log(db, "done", ["a", "b"])
    db["chunks_done"].insert_one({"_id": "000000"})
    _campaign(db, "busy", chunk_count=2)
    _log(db, "busy", ["a"])
    db["chunks_busy"].insert_one({"_id": "000000"})
    store = CapStore(db)
    assert sorted(store.logged_customers("done")) == ["a", "b"]
    assert store.logged_customers("busy") == ["a"]

    # What only a test can do: had the store read "done" again, it would see this.
    _log(db, "done", ["ghost"])
    _log(db, "busy", ["c"])  # its second chunk's entries, before that chunk's record
    assert sorted(store.logged_customers("done")) == ["a", "b"]
    assert sorted(store.logged_customers("busy")) == ["a", "c"]

    db["chunks_busy"].insert_one({"_id": "000001"})  # now fully queued: read once more
    assert sorted(store.logged_customers("busy")) == ["a", "c"]
    _log(db, "busy", ["ghost"])
    assert sorted(store.logged_customers("busy")) == ["a", "c"]
    assert sorted(CapStore(db).logged_customers("busy")) == ["a", "c", "ghost"]  # a new process


def test_a_draft_is_never_kept_and_campaigns_out_of_the_window_are_let_go(db):
    _campaign(db, "draft", chunk_count=None)
    _campaign(db, "old", chunk_count=0, days_ago=100)
    store = CapStore(db)
    assert store.logged_customers("draft") == [] and store.logged_customers("old") == []
    _log(db, "draft", ["x"])
    _log(db, "old", ["y"])
    assert store.logged_customers("draft") == ["x"]
    assert store.logged_customers("old") == []  # fully queued (no chunks): kept
    since = datetime.now(UTC) - timedelta(days=90)
    assert {cid for cid, _ in store.campaigns_launched_since(since)} == {"draft"}
    assert store.logged_customers("old") == ["y"]  # let go with the window: read again
