"""`crm replay profiles`: rebuild the customer profiles from ingest's and receipts' event logs.

The rebuild folds every logged `customer.upserted` / `order.placed` /
`customer.consent_changed` / `customer.suppression_lifted` event of ingest's
log, and the permanent failures of receipts' `deliveries.reported` (which
suppress), with the same `apply_event` the live projector uses (the fold does
not depend on the order of events, so the two logs are read one after the
other), in memory, bulk-inserts the result into `profiles_rebuild`, and swaps
it in for `profiles`. The `orders` collection is rebuilt from the same read of
ingest's log (`orders_rebuild`, inserted a chunk at a time while reading) and
swapped in first, so no profile lists an order without a document.

Each rebuilt profile gets the version after the one it replaces; running
audience indexes (the segments API) keep their pre-replay copies until they
restart, so restart the segments API after a replay. The replay also renews
the profiles generation (store.ProfilesGeneration), so that restart reads the
profiles again instead of taking back an index snapshot (index_snapshot.py).

Run it with the live projector stopped: the projector caches profiles and
would write its cached (pre-swap) copies over rebuilt ones. The command checks
the projector's queue and refuses while it has a consumer (`--force` skips
that check). Nothing is lost meanwhile: events ingested during the replay wait
in the queue, and when the projector starts again it applies them; the ones
the replay already folded in change nothing, because projection is idempotent.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

import click
from pymongo.database import Database

from crm.replay import refuse_while_consumed
from segments.config import SegmentsConfig
from segments.projection.order_store import ORDERS, ORDERS_REBUILD, ORDERS_RETIRED, OrderRebuild
from segments.projection.profile_store import (
    REBUILD,
    ProfilesGeneration,
    ProfileStore,
    swap_in_rebuild,
)
from segments.projection.profiles import (
    apply_event,
    customer_id_of,
    is_stub,
    profile_events,
    version_of,
    with_version,
)
from shared import mongo
from shared.backbone.events import ORDER_PLACED
from shared.backbone.outbox import read_log

LOG_SERVICE = "ingest"
SUPPRESSIONS_LOG_SERVICE = "receipts"  # its deliveries.reported carry the permanent failures


@dataclass
class ReplaySummary:
    events_read: int = 0
    events_projected: int = 0
    profiles: int = 0
    stubs: int = 0
    orders: int = 0
    fold_seconds: float = 0.0
    write_seconds: float = 0.0


def fold_log(log_db: Database, summary: ReplaySummary, *, progress_every: int,
             echo, orders: OrderRebuild | None = None,
             profiles: dict[str, dict] | None = None) -> dict[str, dict]:
    """Every profile, folded from the log in memory (into `profiles` when given, to
    fold a second log on top); returns them by external_id. Each order event's
    document also goes to `orders` when given."""
    profiles = {} if profiles is None else profiles
    started = time.monotonic()
    for logged in read_log(log_db):
        summary.events_read += 1
        for envelope in profile_events(logged):
            customer_id = customer_id_of(envelope)
            profiles[customer_id] = apply_event(profiles.get(customer_id), envelope)
            summary.events_projected += 1
            if orders is not None and envelope["event_type"] == ORDER_PLACED:
                orders.add(envelope["data"])
        if summary.events_read % progress_every == 0:
            elapsed = time.monotonic() - started
            echo(f"  {summary.events_read:,} events read "
                 f"({summary.events_read / max(elapsed, 1e-9):,.0f} events/s)")
    summary.fold_seconds += time.monotonic() - started
    return profiles


def rebuild_profiles(log_db: Database, segments_db: Database, *, progress_every: int = 10_000,
                     echo=print, allow_empty: bool = False,
                     suppressions_db: Database | None = None) -> ReplaySummary:
    """Rebuild `profiles` in `segments_db` from the event log in `log_db` (and the
    suppressions from receipts' log in `suppressions_db`, when given).

    An empty log would wipe every profile; that is refused unless `allow_empty`,
    as it more likely means the wrong database (prefix) than an empty shop."""
    summary = ReplaySummary()
    started = time.monotonic()
    # Renewed before the swap (a crash after it must not leave the old generation) and
    # after it (an index loading during the swap may have read the old profiles).
    generation = ProfilesGeneration(segments_db)
    generation.renew()
    orders = OrderRebuild(segments_db)
    profiles = fold_log(log_db, summary, progress_every=progress_every, echo=echo,
                        orders=orders)
    if suppressions_db is not None:
        fold_log(suppressions_db, summary, progress_every=progress_every, echo=echo,
                 profiles=profiles)
    orders.flush()
    summary.orders = orders.written
    if not profiles and not allow_empty and ProfileStore(segments_db).find_any() is not None:
        segments_db.drop_collection(ORDERS_REBUILD)
        raise click.ClickException(f"{log_db.name} has no customer or order events but "
                                   "profiles exist; pass --force to empty them")
    summary.profiles = len(profiles)
    summary.stubs = sum(1 for profile in profiles.values() if is_stub(profile))
    rebuilt = _above_current_versions(profiles, ProfileStore(segments_db))
    rebuild = ProfileStore(segments_db, REBUILD)
    rebuild.recreate()  # possibly left over from an interrupted replay
    written = rebuild.insert_all(rebuilt)
    if written != len(profiles):
        raise click.ClickException(f"wrote {written} of {len(profiles)} profiles; "
                                   "profiles left untouched")
    swap_in_rebuild(segments_db, ORDERS, ORDERS_REBUILD, ORDERS_RETIRED)
    swap_in_rebuild(segments_db)
    generation.renew()
    summary.write_seconds = time.monotonic() - started - summary.fold_seconds
    return summary


def _above_current_versions(profiles: dict[str, dict], current: ProfileStore):
    """Each rebuilt profile one version above the profile it replaces, so an
    audience index still holding the old one takes the projector's next
    announcement of it (it keeps the highest version). Running indexes do not
    see the replay itself: restart the segments API after a replay."""
    versions = {document["_id"]: version_of(document)
                for batch in current.scan() for document in batch}
    for external_id, profile in profiles.items():
        yield with_version(profile, versions.get(external_id, 0) + 1)


@click.group()
def replay() -> None:
    """Rebuild read models from the event log."""


@replay.command("profiles")
@click.option("--progress-every", default=10_000, show_default=True, type=click.IntRange(min=1),
              help="Print progress every N events.")
@click.option("--force", is_flag=True,
              help="Run even while a live projector consumes its queue (it should be stopped), "
                   "or when the log is empty but profiles exist.")
def profiles_command(progress_every: int, force: bool) -> None:
    """Rebuild customer profiles from ingest's event log (suppressions from receipts') and
    swap them in."""
    config = SegmentsConfig.from_env()
    refuse_while_consumed(config.settings, config.profiles_queue,
                          "profile projector (python -m segments.projection.consumer)", force=force)
    client = mongo.connect(config.settings)
    try:
        log_db = client[config.settings.database_name(LOG_SERVICE)]
        click.echo(f"replay profiles: {log_db.name} -> {config.database_name}.profiles "
                   "(reading the whole event log first)")
        summary = rebuild_profiles(
            log_db, client[config.database_name], progress_every=progress_every,
            echo=click.echo, allow_empty=force,
            suppressions_db=client[config.settings.database_name(SUPPRESSIONS_LOG_SERVICE)])
    finally:
        client.close()
    rate = summary.events_read / max(summary.fold_seconds, 1e-9)
    click.echo(f"replayed {summary.events_read:,} events ({summary.events_projected:,} projected) "
               f"in {summary.fold_seconds:.1f}s ({rate:,.0f} events/s); wrote "
               f"{summary.profiles:,} profiles ({summary.stubs:,} stubs) and "
               f"{summary.orders:,} orders in {summary.write_seconds:.1f}s and swapped them in")
