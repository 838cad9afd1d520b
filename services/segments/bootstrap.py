"""Building the segments service's event log (the composition root of its publishing).

Every segments process (projector, API) appends what it publishes to the
`events` log of the segments database through shared.backbone.outbox.EventLog, with a
publisher per thread, created after any fork.
"""
from __future__ import annotations

import logging

from pymongo import MongoClient
from segments.config import SegmentsConfig

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
