"""Projecting a batch of customer/order events into profiles.

The projector is the single active consumer of its queue, so it can
read-modify-write profiles without races and keep the ones it wrote in memory
(`ProfileCache`); that cache is authoritative only while this process stays
the active consumer, so it is cleared whenever the consumer (re)connects and
after any failed batch.
"""
from __future__ import annotations

import logging
from collections import OrderedDict
from dataclasses import dataclass

from segments.projection.order_store import OrderStore, order_document
from segments.projection.profile_store import ProfileStore
from segments.projection.profiles import (
    apply_event,
    customer_id_of,
    profile_events,
    profile_updated_event,
    version_of,
    with_version,
)
from shared.backbone.events import ORDER_PLACED

log = logging.getLogger(__name__)


class ProfileCache:
    """The most recently written profiles, least recently used evicted first."""

    def __init__(self, max_size: int):
        self._max_size = max_size
        self._profiles: OrderedDict[str, dict] = OrderedDict()
        # Bumped by clear(): a batch that started before a clear must not refill the
        # cache afterwards (a reconnect can happen while the batch is still running).
        self.generation = 0

    def get(self, external_id: str) -> dict | None:
        profile = self._profiles.get(external_id)
        if profile is not None:
            self._profiles.move_to_end(external_id)
        return profile

    def put(self, profile: dict) -> None:
        self._profiles[profile["_id"]] = profile
        self._profiles.move_to_end(profile["_id"])
        while len(self._profiles) > self._max_size:
            self._profiles.popitem(last=False)

    def put_all(self, profiles: list[dict], generation: int) -> None:
        if generation == self.generation:
            for profile in profiles:
                self.put(profile)

    def clear(self) -> None:
        self.generation += 1
        self._profiles.clear()

    def __len__(self) -> int:
        return len(self._profiles)


def _group_by_customer(envelopes: list[dict]) -> dict[str, list[dict]]:
    """Events per customer, each customer's events in arrival order."""
    grouped: dict[str, list[dict]] = {}
    for envelope in envelopes:
        grouped.setdefault(customer_id_of(envelope), []).append(envelope)
    return grouped


def _fold(profile: dict | None, events: list[dict]) -> dict | None:
    for event in events:
        profile = apply_event(profile, event)
    return profile


def _load(customer_ids, store: ProfileStore, cache: ProfileCache) -> dict[str, dict | None]:
    loaded = {customer_id: cache.get(customer_id) for customer_id in customer_ids}
    missing = [customer_id for customer_id, profile in loaded.items() if profile is None]
    loaded.update(store.find_many(missing))
    return loaded


def _changed(before: dict | None, events: list[dict]) -> dict | None:
    """The profile after `events` with its version bumped, or None if they change nothing."""
    profile = _fold(before, events)
    if profile is before:
        return None
    return with_version(profile, version_of(before) + 1)


def _write(created: list[dict], updated: list[dict], events_by_customer: dict[str, list[dict]],
           store: ProfileStore) -> list[dict]:
    """Insert new profiles and replace changed ones; returns every profile as written."""
    existed = [p["_id"] for p in store.insert_new(created)]
    merged = []
    for customer_id in existed:
        # Someone wrote this profile after we found none (only possible outside the
        # single-active-consumer setup): fold our events into theirs, not over them.
        log.warning("profile appeared while projecting; merging", extra={"customer": customer_id})
        theirs = store.find(customer_id)
        merged.append(with_version(_fold(theirs, events_by_customer[customer_id]),
                                   version_of(theirs) + 1))
    store.replace([*updated, *merged])
    skipped = set(existed)
    return [*(p for p in created if p["_id"] not in skipped), *updated, *merged]


@dataclass(frozen=True)
class ProjectedBatch:
    """`written`: the profiles the batch changed, as written. `touched`: every
    profile the batch is about, changed or not, as it now is in the database.
    `last_event`: per customer, the batch's last event about them."""

    written: list[dict]
    touched: list[dict]
    last_event: dict[str, dict]


def _write_orders(envelopes: list[dict], orders: OrderStore | None) -> None:
    """The batch's orders in one insert (existing ids skipped), before any profile
    lists them. Every order of the batch, not only those that change a profile: a
    batch redelivered after a crash between this and the profile writes must
    still leave each order a document; the ones already there are skipped."""
    if orders is None:
        return
    documents: dict[str, dict] = {}
    for envelope in envelopes:
        if envelope["event_type"] == ORDER_PLACED:
            documents.setdefault(envelope["data"]["external_id"], order_document(envelope["data"]))
    if documents:
        orders.insert_new(list(documents.values()))


def project_batch(envelopes: list[dict], *, store: ProfileStore, cache: ProfileCache,
                  orders: OrderStore | None = None) -> ProjectedBatch:
    """Apply a batch of `customer.upserted` / `order.placed` events to the profiles,
    after writing its orders to `orders` (None: profiles only, for tests of the fold).

    Idempotent: a redelivered batch changes nothing (and writes nothing new). Every
    change bumps the profile's version by one. A `deliveries.reported` counts only
    for its permanent failures (profiles.profile_events)."""
    envelopes = [event for envelope in envelopes for event in profile_events(envelope)]
    events_by_customer = _group_by_customer(envelopes)
    generation = cache.generation
    try:
        _write_orders(envelopes, orders)
        before = _load(events_by_customer, store, cache)
        created, updated, now = [], [], dict(before)
        for customer_id, events in events_by_customer.items():
            profile = _changed(before[customer_id], events)
            if profile is not None:
                (created if before[customer_id] is None else updated).append(profile)
        written = _write(created, updated, events_by_customer, store)
    except Exception:
        cache.clear()  # a partly written batch: trust only the database from here on
        raise
    cache.put_all(written, generation)
    now.update((profile["_id"], profile) for profile in written)
    return ProjectedBatch(written, [p for p in now.values() if p is not None],
                          {customer_id: events[-1] for customer_id, events in
                           events_by_customer.items()})


def project_events(envelopes: list[dict], *, store: ProfileStore,
                   cache: ProfileCache) -> list[dict]:
    """project_batch, returning the profiles that changed, as written."""
    return project_batch(envelopes, store=store, cache=cache).written


def project_and_announce(envelopes: list[dict], *, store: ProfileStore, cache: ProfileCache,
                         event_log, orders: OrderStore | None = None) -> ProjectedBatch:
    """Project the batch, then append `profile.updated` for every profile it touched.

    Announcing unchanged profiles too means a batch redelivered after a crash
    between the profile writes and the append still announces their state
    (same event ids: they derive from id and version). `event_log.append`
    logs the events (with an outbox entry) before publishing, so once it
    returns they are either published or left to the outbox relay."""
    batch = project_batch(envelopes, store=store, cache=cache, orders=orders)
    event_log.append([profile_updated_event(profile, batch.last_event[profile["_id"]])
                      for profile in batch.touched])
    return batch
