"""answer_request with fakes: chunks hold each member once, retries repeat the same events."""
from __future__ import annotations

import copy
from datetime import UTC, datetime

import pytest
from segments.audience.index import AudienceIndex
from segments.audience.stream import answer_request, chunk_event_id, recipient
from segments.projection.profiles import announced, apply_event

from shared.backbone.events import AUDIENCE_CHUNK, AUDIENCE_FAILED, upcast
from tests.support.fakes import FakeEventLog
from tests.support.profile_events import customer_event, order_event

AS_OF = "2024-06-01T00:00:00Z"
PUNE = {"field": "city", "op": "eq", "value": "pune"}


class FakeAudiences:
    """segments_store.AudienceStore over dicts (the log is the fake event log's)."""

    def __init__(self, event_log):
        self.records, self.members_of, self.event_log = {}, {}, event_log

    def find(self, request_id):
        return copy.deepcopy(self.records.get(request_id))

    def freeze(self, request_id, members, chunk_size, created_at):
        self.members_of[request_id] = list(members)
        record = {"_id": request_id, "audience_size": len(members),
                  "chunk_count": max(1, -(-len(members) // chunk_size)),
                  "member_documents": 1, "complete": False}
        self.records[request_id] = record
        return copy.deepcopy(record)

    def members(self, record):
        return list(self.members_of[record["_id"]])

    def complete(self, record):
        self.records[record["_id"]]["complete"] = True
        self.members_of.pop(record["_id"], None)

    def logged_event(self, event_id):
        return copy.deepcopy(self.event_log.logged.get(event_id))


def shop(n: int) -> list[dict]:
    cities = ["Pune", "Delhi", "pune", None]
    return [apply_event(None, customer_event(f"e{i}", "2024-04-01T00:00:00Z",
                                             external_id=f"c{i:03d}", name=f"Asha {i} Rao",
                                             city=cities[i % 4], phone=f"+91 98{i:03d}",
                                             tags=["VIP", "new"][: i % 3]))
            for i in range(n)]


@pytest.fixture
def world():
    class World:
        def __init__(self, profiles=None):
            profiles = shop(23) if profiles is None else profiles
            self.index = AudienceIndex()
            self.index.upsert_many(profiles)
            self.profiles = {p["external_id"]: p for p in profiles}
            self.log = FakeEventLog()
            self.audiences = FakeAudiences(self.log)

        def ask(self, rules=PUNE, request_id="r1", as_of=AS_OF, chunk_size=3,
                chunks_per_append=1):
            request = {"event_id": f"req-{request_id}", "correlation_id": "corr",
                       "data": {"request_id": request_id, "rules": rules, "as_of": as_of}}
            return answer_request(request, index=self.index, audiences=self.audiences,
                                  event_log=self.log, chunk_size=chunk_size,
                                  chunks_per_append=chunks_per_append)

        def chunks(self):
            """The chunks a consumer keeps: the first event of each id."""
            kept = {}
            for event in self.log.published:
                kept.setdefault(event["event_id"], event)
            return sorted(kept.values(), key=lambda e: e["data"]["chunk_index"])
    return World


def members(chunks) -> list[str]:
    return [r["external_id"] for chunk in chunks for r in chunk["data"]["recipients"]]


PUNE_IDS = sorted(f"c{i:03d}" for i in range(23) if i % 4 in (0, 2))


def test_each_member_is_in_exactly_one_chunk_and_the_sizes_agree(world):
    w = world()
    assert w.ask() == 4
    chunks = w.chunks()
    assert members(chunks) == PUNE_IDS
    assert [c["data"]["chunk_index"] for c in chunks] == [0, 1, 2, 3]
    for chunk in chunks:
        assert chunk["event_type"] == AUDIENCE_CHUNK and len(chunk["data"]["recipients"]) <= 3
        assert (chunk["data"]["chunk_count"], chunk["data"]["audience_size"]) == (4, 12)
        assert chunk["event_id"] == chunk_event_id("r1", chunk["data"]["chunk_index"])
        assert chunk["causation_id"] == "req-r1" and chunk["correlation_id"] == "corr"
        upcast(chunk)  # valid against the registered schema


def test_recipients_from_the_index_are_those_of_their_profiles(world):
    """Read from the index, not the database: the same entries, text as written."""
    w = world()
    w.ask(chunk_size=5)
    recipients = [r for chunk in w.chunks() for r in chunk["data"]["recipients"]]
    assert recipients == [recipient(w.profiles[member]) for member in PUNE_IDS]
    assert recipients[1] == {**recipient(w.profiles["c002"]), "name": "Asha 2 Rao",
                             "first_name": "Asha", "city": "pune", "phone": "+91 98002",
                             "tags": ["VIP", "new"]}
    # ...and the same as from the profile.updated a replica's index is fed with.
    fed = AudienceIndex()
    fed.upsert_many(announced(profile) for profile in w.profiles.values())
    assert [recipient(shown) for shown in fed.shown(PUNE_IDS)] == recipients


def test_an_empty_audience_is_one_empty_chunk(world):
    w = world()
    assert w.ask({"field": "city", "op": "eq", "value": "Atlantis"}) == 1
    assert [c["data"] for c in w.chunks()] == [{"request_id": "r1", "chunk_index": 0,
                                                "chunk_count": 1, "audience_size": 0,
                                                "recipients": []}]


def test_asking_again_republishes_the_same_events_even_if_customers_changed(world):
    w = world()
    w.ask()
    first = copy.deepcopy(w.log.published)
    w.index.upsert_many(shop(40))  # more Pune customers since
    w.log.published.clear()
    w.ask()
    assert w.log.published == first


@pytest.mark.parametrize(("crash_after", "per_append"),
                         [(0, 1), (1, 1), (2, 1), (3, 1), (0, 2), (1, 2), (0, 3), (1, 3)])
def test_a_retry_after_a_crash_completes_the_same_audience(world, crash_after, per_append):
    """`crash_after` appends of `per_append` chunks each (the last one may be shorter)."""
    w = world()
    w.log.crash_after = crash_after
    with pytest.raises(ConnectionError):
        w.ask(chunks_per_append=per_append)
    w.index.upsert_many(shop(40))  # the index moved on; the frozen members did not
    w.log.crash_after = None
    w.ask(chunks_per_append=per_append)
    chunks = w.chunks()
    assert sorted(members(chunks)) == PUNE_IDS and len(chunks) == 4
    assert w.audiences.records["r1"]["complete"] and "r1" not in w.audiences.members_of


def test_invalid_rules_are_answered_with_audience_failed(world):
    w = world()
    assert w.ask({"field": "city", "op": "$regex", "value": ".*"}) == 0
    [failed] = w.log.published
    assert failed["event_type"] == AUDIENCE_FAILED
    assert failed["data"]["code"] == "INVALID_RULES"
    assert [problem["path"] for problem in failed["data"]["problems"]] == ["rules.op"]
    w.ask(PUNE, request_id="r2", as_of="yesterday")
    assert w.log.published[-1]["data"]["code"] == "INVALID_AS_OF"


def test_relative_rules_use_as_of(world):
    w = world([apply_event(apply_event(None, customer_event("e1", "2024-04-01T00:00:00Z")),
                           order_event("o1", 10, "2024-05-20T00:00:00Z"))])
    rule = {"field": "last_order_at", "op": "within", "value": "30d"}
    w.ask(rule, request_id="now")
    w.ask(rule, request_id="later", as_of="2024-07-01T00:00:00+00:00")
    sizes = {c["data"]["request_id"]: c["data"]["audience_size"] for c in w.chunks()}
    assert sizes == {"now": 1, "later": 0}


def test_members_the_index_no_longer_holds_still_count(world):
    w = world()
    w.log.crash_after = 0  # frozen, nothing published
    with pytest.raises(ConnectionError):
        w.ask()
    w.index.remove("c000")
    w.log.crash_after = None
    w.ask()
    chunks = w.chunks()
    assert members(chunks) == PUNE_IDS
    [missing] = [r for c in chunks for r in c["data"]["recipients"] if r["external_id"] == "c000"]
    assert missing == recipient({"external_id": "c000"}) and missing["email"] is None


def test_a_recipient_carries_the_template_fields():
    profile = apply_event(apply_event(None, customer_event("e1", "2024-04-01T00:00:00Z",
                                                           name="  Asha  Rao ")),
                          order_event("o1", 99.5, "2024-05-20T10:00:00+05:30"))
    assert recipient(profile) == {
        "external_id": "c1", "name": "  Asha  Rao ", "first_name": "Asha",
        "email": "asha@example.com", "phone": None, "city": "Pune", "tags": ["vip"],
        "visits": 3, "total_spend": 99.5, "order_count": 1,
        "last_order_at": "2024-05-20T04:30:00.000Z", "last_visit_at": "2024-03-01T10:00:00.000Z",
        "last_active_at": "2024-05-20T04:30:00.000Z", "signed_up_at": "2024-01-01T00:00:00.000Z",
        "marketing_consent": "subscribed", "suppressed": False}
    assert recipient({"external_id": "x", "name": "   "})["first_name"] is None
    assert datetime.fromisoformat(recipient(profile)["last_order_at"]).tzinfo == UTC


def test_chunks_appended_together_are_the_chunks_appended_one_by_one(world):
    one, grouped = world(), world()
    one.ask(chunks_per_append=1)
    grouped.ask(chunks_per_append=3)
    strip = [{k: v for k, v in e.items() if k != "occurred_at"} for e in one.log.published]
    assert [{k: v for k, v in e.items() if k != "occurred_at"}
            for e in grouped.log.published] == strip
    assert len(strip) == 4
