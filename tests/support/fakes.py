"""Hand-written fakes of the services' ports, shared by the unit tests.

Each stands in for one real adapter and keeps only its behaviour, recording
calls for the tests to inspect; tests/integration/shared/test_port_contracts.py
runs the same contract against each fake and its real adapter on FerretDB, so a
fake cannot drift from what it stands for.
"""
from __future__ import annotations

import copy
from datetime import UTC, datetime

from campaigns.store import chunk_key, retry_chunk_key

from shared.backbone.envelope import new_event
from shared.backbone.events import AUDIENCE_CHUNK
from tests.support.profile_events import customer_event, order_event


class FakeProfileStore:
    """Dict-backed stand-in for projection.profile_store.ProfileStore, recording every call."""

    def __init__(self):
        self.documents: dict[str, dict] = {}
        self.finds: list[str] = []
        self.inserts: list[list[str]] = []
        self.replaces: list[list[str]] = []
        self.fail_replace = False

    def find(self, external_id):
        self.finds.append(external_id)
        document = self.documents.get(external_id)
        return copy.deepcopy(document)

    def find_many(self, external_ids):
        return {external_id: self.find(external_id) for external_id in external_ids}

    def insert_new(self, profiles):
        self.inserts.append([p["_id"] for p in profiles])
        existed = [p for p in profiles if p["_id"] in self.documents]
        for profile in profiles:
            self.documents.setdefault(profile["_id"], copy.deepcopy(profile))
        return existed

    def replace(self, profiles):
        profiles = list(profiles)
        if self.fail_replace:
            raise ConnectionError("database went away")
        self.replaces.append([p["_id"] for p in profiles])
        for profile in profiles:
            self.documents[profile["_id"]] = copy.deepcopy(profile)


def batch_for_two_customers():
    return [customer_event("e1", "2024-04-01T00:00:00Z"),
            order_event("o1", 100, "2024-03-01T00:00:00Z"),
            order_event("o2", 50, "2024-03-02T00:00:00Z", customer="c2"),
            order_event("o3", 25.5, "2024-03-03T00:00:00Z")]


class FakeIngestStore:
    """Remembers like IngestStore: orders are 'logged' once remembered after an append."""

    def __init__(self, customers=(), logged_orders=(), journal=None):
        self.customers = set(customers)
        self.logged_orders = set(logged_orders)
        self.claims: list[dict] = []
        self.journal = journal if journal is not None else []
        self.fail_with: Exception | None = None

    def known_customers(self, external_ids):
        if self.fail_with:
            raise self.fail_with
        return {i for i in external_ids if i in self.customers}

    def remember_customers(self, external_ids):
        self.journal.append(("remember_customers", list(external_ids)))
        self.customers.update(external_ids)

    def claim_orders(self, event_ids):
        self.claims.append(dict(event_ids))
        return {order for order in event_ids if order not in self.logged_orders}

    def remember_orders(self, order_ids):
        self.journal.append(("remember_orders", sorted(order_ids)))
        self.logged_orders.update(order_ids)


class FakeProfiles:
    """ingest.store.SegmentsProfiles over a dict of profile documents."""

    def __init__(self, documents=None):
        self.documents = dict(documents or {})

    def find(self, external_id):
        return self.documents.get(external_id)


class FakeIngestDependencies:
    def __init__(self, store=None, event_log=None, ready=True, profiles=None):
        self.store = store or FakeIngestStore()
        self.event_log = event_log or FakeEventLog()
        self.profiles = profiles or FakeProfiles()
        self.ready = ready

    def readiness(self):
        return {"database": self.ready, "broker": self.ready}


class FakeEventLog:
    """shared.backbone.outbox.EventLog over memory. Every append is kept as a batch (`batches`,
    and each event in order in `published`, as the relay would publish it); each
    event is logged once by id (`logged`), as the real log keeps it. `fail` makes
    every append raise (a database outage); `crash_after` = n lets n more appends
    through, then raises (a process killed after logging that much)."""

    def __init__(self, journal=None):
        self.logged: dict[str, dict] = {}
        self.batches: list[list[dict]] = []
        self.published: list[dict] = []
        self.journal = journal if journal is not None else []
        self.fail = False
        self.crash_after: int | None = None

    def append(self, batch) -> bool:
        batch = list(batch)
        if self.fail:
            raise ConnectionError("the database went away")
        if self.crash_after is not None:
            if self.crash_after == 0:
                raise ConnectionError("killed")
            self.crash_after -= 1
        self.journal.append(("append", len(batch)))
        self.batches.append(batch)
        for event in batch:
            self.logged.setdefault(event["event_id"], copy.deepcopy(event))
        self.published += copy.deepcopy(batch)
        return True

    def relay_pending(self, older_than=None) -> int:
        return 0  # every append published at once: nothing is ever left to the relay

    @property
    def events(self) -> list[dict]:
        """Every appended event, in order (a redelivered one as often as appended)."""
        return [event for batch in self.batches for event in batch]

    def of_type(self, event_type: str) -> list[dict]:
        return [event for event in self.logged.values() if event["event_type"] == event_type]


# Campaigns

NOW = datetime(2026, 5, 1, tzinfo=UTC)


class FakeCampaignStore:
    def __init__(self):
        self.campaigns, self.attempts, self.collections = {}, {}, {}

    def _c(self, name):
        return self.collections.setdefault(name, {})

    def insert(self, campaign):
        self.campaigns[campaign["_id"]] = dict(campaign)

    def find(self, cid):
        return dict(self.campaigns[cid]) if cid in self.campaigns else None

    def page(self, before, limit):
        ids = sorted((i for i in self.campaigns if before is None or i < before), reverse=True)
        return [dict(self.campaigns[i]) for i in ids[:limit]]

    def update(self, cid, fields):
        self.campaigns[cid].update(fields)

    def update_if(self, cid, expected, fields):
        campaign = self.campaigns.get(cid)
        if campaign is None or any(campaign.get(k) != v for k, v in expected.items()):
            return False
        campaign.update(fields)
        return True

    def owe_launch(self, cid, due_at, reason):
        self._c("launches")[cid] = {"_id": cid, "due_at": due_at, "reason": reason}

    def due_launches(self, now):
        return [dict(e) for e in self._c("launches").values() if e["due_at"] <= now]

    def drop_launch(self, cid):
        self._c("launches").pop(cid, None)

    def insert_attempt(self, cid, attempt, document):
        key = f"{cid}:{attempt}"
        if key in self.attempts:
            return False
        self.attempts[key] = {"_id": key, "campaign_id": cid, "attempt": attempt, **document}
        return True

    def find_attempt(self, cid, attempt):
        return self.attempts.get(f"{cid}:{attempt}")

    def update_attempt(self, cid, attempt, fields):
        self.attempts[f"{cid}:{attempt}"].update(fields)

    def _insert_new(self, name, documents):
        collection, inserted = self._c(name), []
        for n, document in enumerate(documents):
            if document["_id"] not in collection:
                collection[document["_id"]] = dict(document)
                inserted.append(n)
        return inserted

    def insert_messages(self, cid, entries):
        return self._insert_new(f"messages_{cid}", entries)

    def mark_unsubscribed(self, cid, customer, at):
        entry = self._c(f"messages_{cid}").get(customer)
        if entry is not None:
            entry["unsubscribed_at"] = at
        return entry is not None

    def find_messages(self, cid, ids):
        collection = self._c(f"messages_{cid}")
        return {i: collection[i] for i in ids if i in collection}

    def insert_chunk(self, cid, index, document):
        self._insert_new(f"chunks_{cid}", [{"_id": chunk_key(index), **document}])

    def find_chunk(self, cid, index):
        return self._c(f"chunks_{cid}").get(chunk_key(index))

    def all_chunks(self, cid):
        return list(self._c(f"chunks_{cid}").values())

    def queued_chunks(self, cid):
        return len(self._c(f"chunks_{cid}"))

    def freeze_retry(self, cid, attempt, parts):
        for n, part in enumerate(parts):
            self._c(f"retry_chunks_{cid}")[retry_chunk_key(attempt, n)] = dict(part)

    def find_retry_chunk(self, cid, attempt, index):
        return self._c(f"retry_chunks_{cid}").get(retry_chunk_key(attempt, index))

    def insert_retried(self, cid, entries):
        self._insert_new(f"retried_{cid}", entries)

    def find_retried(self, cid, ids):
        collection = self._c(f"retried_{cid}")
        return {i: collection[i] for i in ids if i in collection}

    def all_retried(self, cid):
        return list(self._c(f"retried_{cid}").values())

    def retried_count(self, cid):
        return len(self._c(f"retried_{cid}"))

    def insert_held_out(self, cid, entries):
        self._insert_new(f"holdout_{cid}", entries)

    def is_held_out(self, cid, customer):
        return customer in self._c(f"holdout_{cid}")

    def held_out_count(self, cid):
        return len(self._c(f"holdout_{cid}"))

    def find_message(self, cid, customer):
        return self._c(f"messages_{cid}").get(customer)

    def insert_control(self, cid, sequence, document):
        return bool(self._insert_new("controls", [
            {"_id": f"{cid}:{sequence}", "campaign_id": cid, "sequence": sequence,
             **document}]))

    def find_control(self, cid, sequence):
        return self._c("controls").get(f"{cid}:{sequence}")

    def update_control(self, cid, sequence, fields):
        self._c("controls")[f"{cid}:{sequence}"].update(fields)

    def control_of(self, cid):
        return self.campaigns[cid].get("control", "active") if cid in self.campaigns else None

    def all_messages(self, cid):
        return [dict(entry) for entry in self._c(f"messages_{cid}").values()]

    def reachable(self):
        return True


class FakeCapStore:
    """recipients.cap_store.CapStore over memory, reading the logs of a FakeCampaignStore."""

    def __init__(self, campaigns: FakeCampaignStore, cap=None):
        from campaigns.recipients.frequency_cap import Cap

        self.campaigns, self.cap = campaigns, cap or Cap()
        self.loads = 0

    def frequency_cap(self):
        return self.cap

    def set_frequency_cap(self, cap, now):
        self.cap = cap

    def campaigns_launched_since(self, since):
        self.loads += 1
        return [(cid, c["created_at"]) for cid, c in self.campaigns.campaigns.items()
                if c["created_at"] >= since]

    def logged_customers(self, cid):
        return list(self.campaigns.collections.get(f"messages_{cid}", {}))


class FakeDeliveries:
    """Receipts' view: message_id -> final status, as reported."""

    def __init__(self):
        self.reported: dict[str, str] = {}
        self.failure_reasons: dict[str, str] = {}  # message_id -> reason (default UNREACHABLE)

    def counts(self, cid):
        mine = [s for m, s in self.reported.items() if m.startswith(cid + ".")]
        return {"sent": mine.count("SENT"), "failed": mine.count("FAILED")}

    def statuses(self, cid, message_ids):
        return {m: self.reported[m] for m in message_ids if m in self.reported}

    def reasons(self, cid, message_ids):
        return {m: self.failure_reasons.get(m, "UNREACHABLE") for m in message_ids
                if self.reported.get(m) == "FAILED"}

    def page(self, cid, status, after, limit):
        ids = sorted(m for m, s in self.reported.items()
                     if s == status and m.startswith(cid + ".") and (after is None or m > after))
        return ids[:limit]


def chunk(cid, index, count, size, members):
    return new_event(AUDIENCE_CHUNK, {"request_id": f"{cid}:1", "chunk_index": index,
                                      "chunk_count": count, "audience_size": size,
                                      "recipients": members}, producer="segments")


def people(start, count):
    return [{"external_id": f"c{n}", "first_name": None if n % 3 == 0 else f"P{n}",
             "email": f"c{n}@x.in"} for n in range(start, start + count)]
