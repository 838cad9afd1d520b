"""The dispatcher worker: `python -m campaigns.delivery.dispatcher`.

Consumes `<prefix>campaigns.dispatch` (its only consumer at a time), bound to
`audience.chunk`, `audience.failed` (from segments), `campaign.launched` (ours: a
retry attempt to queue), `campaign.paused` / `.resumed` / `.cancelled` (ours: a resume
to queue again) and `customer.consent_changed` (an unsubscribe link used), and runs
fanout.handle_events on each batch: messages logged, then `messages.queued`
appended to the campaigns event log, then the batch is acked. A thread of this
process is the campaigns outbox relay: it publishes what a producer (this
worker or the API) logged but could not publish (broker down, no queue yet).

The queue is single-active-consumer: the dispatcher owns the frequency cap's send
ledger, and the cap is exact because one process decides every launch. (It was
`campaigns.audience` without that argument; RabbitMQ cannot change a queue's
arguments, so the queue has a new name. Delete the old one once it is drained.)
"""
from __future__ import annotations

import functools
import logging
from datetime import UTC, datetime

from campaigns.bootstrap import Dependencies
from campaigns.config import CampaignsConfig
from campaigns.delivery.control import CONTROL_EVENTS
from campaigns.delivery.fanout import handle_events
from campaigns.lifecycle.scheduler import start_scheduler
from campaigns.recipients.frequency_cap import LedgerOwner
from shared.backbone.consumer import Consumer, ConsumerOptions
from shared.backbone.events import (
    AUDIENCE_CHUNK,
    AUDIENCE_FAILED,
    CAMPAIGN_DRAFTED,
    CAMPAIGN_EDITED,
    CAMPAIGN_LAUNCHED,
    CAMPAIGN_SCHEDULED,
    CUSTOMER_CONSENT_CHANGED,
)
from shared.backbone.relay import start_relay
from shared.backbone.worker import run_worker
from shared.logs import configure_logging

log = logging.getLogger(__name__)

# customer.consent_changed: a message's unsubscribe link was used (campaigns.delivery.unsubscribes).
# campaign.drafted / .scheduled / .edited: bound so they are routable (the log is
# their record; the scheduler reads the launches owed from the database, not from them).
ROUTING_KEYS = (AUDIENCE_CHUNK, AUDIENCE_FAILED, CAMPAIGN_LAUNCHED, *CONTROL_EVENTS,
                CUSTOMER_CONSENT_CHANGED, CAMPAIGN_DRAFTED, CAMPAIGN_SCHEDULED, CAMPAIGN_EDITED)


def _handle_batch(envelopes: list[dict], *, dependencies, ledger: LedgerOwner) -> None:
    handle_events(envelopes, datetime.now(UTC), store=dependencies.store,
                  event_log=dependencies.event_log, deliveries=dependencies.deliveries,
                  ledger=ledger)


def build_dispatcher(config: CampaignsConfig, dependencies=None) -> Consumer:
    # The worker may wait on the broker longer than a request would: it is not answering anyone.
    dependencies = dependencies or Dependencies(config, publish_retry_seconds=30.0)
    # Single active consumer: this process is the one owner of the send ledger, so
    # launches' cap decisions are serial (frequency_cap.py); extra replicas stand by.
    options = ConsumerOptions(queue=config.audience_queue, routing_keys=ROUTING_KEYS,
                              batch_size=config.dispatcher_batch_size, batch_wait=0.05,
                              prefetch=config.dispatcher_prefetch, single_active_consumer=True)
    ledger = LedgerOwner(dependencies.cap_store)
    # A standby that was active meanwhile logged messages this ledger has not seen.
    return Consumer(config.settings, options,
                    functools.partial(_handle_batch, dependencies=dependencies, ledger=ledger),
                    on_connect=ledger.clear)


def main() -> None:
    config = CampaignsConfig.from_env()
    configure_logging("campaigns-dispatcher", config.settings.log_level)
    relay_dependencies = Dependencies(config, publish_retry_seconds=5.0)
    relay = functools.partial(start_relay, relay_dependencies.event_log,
                              interval=config.relay_interval_seconds,
                              older_than=config.relay_older_than_seconds, name="campaigns")
    # Its own dependencies: the consumer's thread and connections are not shared.
    scheduler_dependencies = Dependencies(config, publish_retry_seconds=5.0)
    run_worker(build_dispatcher(config), log, "dispatcher", {"queue": config.audience_queue},
               beside=(relay, functools.partial(start_scheduler, scheduler_dependencies)),
               on_stop=(relay_dependencies.close, scheduler_dependencies.close))


if __name__ == "__main__":
    main()
