"""The segments service's composition root: what its API and its projector are built of.

- `segments_database`, `audience_holder`, `daily_sizes`, `audience_reader`: the
  parts of the API (app.py asks for them; tests pass fakes instead);
- `projector_announcer`: where the projector announces profile changes;
- `segments_event_log`: every segments process (projector, API) appends what it
  publishes to the `events` log of the segments database through
  shared.backbone.outbox.EventLog, with a publisher per thread, created after any fork.
"""
from __future__ import annotations

import logging

from pymongo import MongoClient
from segments.audience.holder import AUDIENCE_PUBLISH_RETRY_SECONDS, AudienceHolder
from segments.config import SegmentsConfig
from segments.database import SegmentsDatabase
from segments.describe.model import model_reader
from segments.saved.history import DailySizes

from shared.backbone.events import PROFILE_UPDATED
from shared.backbone.outbox import EventLog, service_event_log
from shared.backbone.publisher import ThreadLocalPublisher, Unroutable

log = logging.getLogger(__name__)


class SegmentsPublisher:
    """A publisher that lets a batch of `profile.updated` nobody is bound for go.

    No queue bound means no index replica exists right now. One that starts
    later declares its queue first and then loads profiles from the database,
    which already hold these changes (they are written before they are
    announced), so nothing is lost, and the outbox does not fill up with
    announcements for nobody while the API is down. Any other unroutable
    event (an audience chunk before campaigns declared its queue) still
    raises, so the outbox relay keeps it."""

    def __init__(self, publisher):
        self._publisher = publisher

    def publish(self, envelopes: list[dict]) -> None:
        try:
            self._publisher.publish(envelopes)
        except Unroutable:
            if not all(event["event_type"] == PROFILE_UPDATED for event in envelopes):
                raise
            log.debug("profile.updated unroutable: no index replica is listening")


class DirectAnnouncer:
    """The projector's announcer without the event log: publish with confirms and
    raise on failure. Still at least once, because the projector acks a batch
    only after this returns and a redelivered batch announces every profile it
    touches again; what it gives up is the log of announcements (and their
    outbox), which costs about as much again as publishing (see README.md)."""

    def __init__(self, publisher):
        self._publisher = publisher

    def append(self, events: list[dict]) -> bool:
        self._publisher.publish(events)
        return True


def projector_announcer(config: SegmentsConfig, client: MongoClient):
    """Where the projector appends profile.updated: the segments event log, or
    straight to the broker when `announce_via_log` is off."""
    if config.announce_via_log:
        return segments_event_log(config, client, retry_for=config.announce_retry_seconds)
    publisher = ThreadLocalPublisher(config.settings, retry_for=config.announce_retry_seconds)
    return DirectAnnouncer(SegmentsPublisher(publisher))


def segments_event_log(config: SegmentsConfig, client: MongoClient, *,
                       retry_for: float) -> EventLog:
    """The segments event log; `retry_for`: seconds publish() retries before the
    batch is left to the outbox relay."""
    return service_event_log(config.settings, client[config.database_name],
                             retry_for=retry_for, wrap=SegmentsPublisher)


def segments_database(config: SegmentsConfig) -> SegmentsDatabase:
    return SegmentsDatabase(config.settings, config.database_name)


def audience_holder(config: SegmentsConfig, database: SegmentsDatabase) -> AudienceHolder:
    """The API's audience index, answering campaigns' audience requests into the
    segments event log (built in the serving process, after any fork)."""
    return AudienceHolder(config, database, event_log=lambda: segments_event_log(
        config, database.client(), retry_for=AUDIENCE_PUBLISH_RETRY_SECONDS))


def daily_sizes(config: SegmentsConfig, database: SegmentsDatabase,
                audience: AudienceHolder) -> DailySizes:
    """The saved segments' size history, taken every `history_interval_seconds`."""
    return DailySizes(database, audience, config.history_interval_seconds)


def audience_reader(config: SegmentsConfig):
    """Who reads an audience described in words: the grammar, and the optional model."""
    return model_reader(config.audience_llm_url, config.audience_llm_timeout_seconds)
