"""Pause, resume and cancel: the API's command and the dispatcher's handler.

A change is numbered per campaign (`control_seq` 1, 2, ...). The API claims the
next number by inserting a `controls` record (two concurrent changes cannot both
win), appends the change to the event log (`campaign.paused` / `.resumed` /
`.cancelled`, event id derived from campaign and number), and only then sets the
campaign's `control`, which the senders' gate reads (campaigns/delivery/gate.py): a paused
or cancelled campaign's messages are dropped unsent there and stay PENDING.

A change logged but not applied (the API died in between) is finished by the next
control request, and by the dispatcher when the event reaches it. On
`campaign.resumed` the dispatcher queues again every logged message whose latest
attempt has no final status, with its own message id: the vendor drops ids it
already has, so messages that were in flight at the pause are not sent twice. The
re-queue is recorded (`requeued_at`) once done, so a redelivered resume does
nothing; a crash before that re-queues again, harmlessly.
"""
from __future__ import annotations

import logging
from datetime import datetime

from campaigns import domain, handlers
from campaigns.delivery.deliveries import all_with_status
from campaigns.domain import PRODUCER, CampaignNotFound, event_id
from shared.backbone.envelope import new_event
from shared.backbone.events import (
    CAMPAIGN_CANCELLED,
    CAMPAIGN_PAUSED,
    CAMPAIGN_RESUMED,
    MESSAGES_QUEUED,
)

log = logging.getLogger(__name__)

EVENT_OF_ACTION = {"pause": CAMPAIGN_PAUSED, "resume": CAMPAIGN_RESUMED,
                   "cancel": CAMPAIGN_CANCELLED}
CONTROL_OF_EVENT = {CAMPAIGN_PAUSED: domain.PAUSED, CAMPAIGN_RESUMED: domain.ACTIVE,
                    CAMPAIGN_CANCELLED: domain.CANCELLED}
CONTROL_EVENTS = tuple(CONTROL_OF_EVENT)
REQUEUE_CHUNK = 1000     # messages per messages.queued event, as the dispatcher queues them
APPEND_EVENTS = 10       # events per event-log append
OUTCOME_PAGE = 50_000    # final message ids read per query (each one reads the collection)


class ControlRefused(Exception):
    def __init__(self, code: str, message: str, status: str | None = None):
        super().__init__(message)
        self.code, self.status = code, status


def change_control(campaign_id: str, action: str, now: datetime, *, store, deliveries, event_log,
                   correlation_id: str | None = None) -> dict:
    """Pause, resume or cancel; returns the campaign as the API shows it afterwards."""
    campaign = store.find(campaign_id)
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    finished = _finish_unapplied(campaign, store, event_log)
    if finished is not None and finished["action"] == action:
        # This very request, retried after the API died half-way: it is done now.
        return handlers.get_campaign(campaign_id, store=store, deliveries=deliveries)
    campaign = store.find(campaign_id)
    shown = handlers.view(campaign, store=store, deliveries=deliveries)
    refusal = domain.control_refusal(action, shown["status"], shown["control"])
    if refusal is not None:
        raise ControlRefused(*refusal, status=shown["status"])
    sequence = campaign.get("control_seq", 0) + 1
    record = {"action": action, "control": domain.CONTROL_OF_ACTION[action],
              "attempt": campaign.get("attempt", 1), "at": now,
              "correlation_id": correlation_id}
    if not store.insert_control(campaign_id, sequence, record):
        raise ControlRefused("CONTROL_CONFLICT", "Another change of this campaign was just "
                             "made; read the campaign and try again.", status=shown["status"])
    _apply(campaign_id, sequence, record, store, event_log)
    return handlers.get_campaign(campaign_id, store=store, deliveries=deliveries)


def _finish_unapplied(campaign: dict, store, event_log) -> dict | None:
    """Apply claimed changes the campaign does not show yet; returns the last one."""
    cid, finished = campaign["_id"], None
    sequence = campaign.get("control_seq", 0) + 1
    while (record := store.find_control(cid, sequence)) is not None:
        _apply(cid, sequence, record, store, event_log)
        finished, sequence = record, sequence + 1
    return finished


def _apply(cid: str, sequence: int, record: dict, store, event_log) -> None:
    """Log the change, then show it (the senders' gate reads the campaign's `control`)."""
    kind = EVENT_OF_ACTION[record["action"]]
    event_log.append([new_event(
        kind, {"campaign_id": cid, "sequence": sequence, "attempt": record.get("attempt", 1)},
        producer=PRODUCER, event_id=event_id(cid, "control", sequence),
        correlation_id=record.get("correlation_id"))])
    store.update(cid, {"control": record["control"], "control_seq": sequence,
                       "control_at": record["at"]})


def handle_control_event(envelope: dict, now: datetime, *, store, event_log, deliveries) -> int:
    """The dispatcher's side of a control event; returns how many messages it re-queued."""
    data, kind = envelope["data"], envelope["event_type"]
    cid, sequence = data["campaign_id"], data["sequence"]
    campaign = store.find(cid)
    if campaign is None:
        return 0
    if campaign.get("control_seq", 0) < sequence and store.find_control(cid, sequence + 1) is None:
        # Logged by an API that died before applying it: apply it before relying on it.
        store.update(cid, {"control": CONTROL_OF_EVENT[kind], "control_seq": sequence,
                           "control_at": now})
        campaign = store.find(cid)
    if kind != CAMPAIGN_RESUMED or campaign.get("control_seq") != sequence:
        return 0  # paused/cancelled: the gate does it; resumed, then changed again: skip
    record = store.find_control(cid, sequence) or {}
    if record.get("requeued_at"):
        return 0  # a redelivered resume: its messages are queued already
    requeued = requeue_unsent(campaign, sequence, envelope, store=store, event_log=event_log,
                              deliveries=deliveries)
    if record:
        store.update_control(cid, sequence, {"requeued_at": now, "requeued": requeued})
    log.info("campaign resumed: unsent messages queued again",
             extra={"campaign_id": cid, "sequence": sequence, "messages": requeued})
    return requeued


def unsent_messages(campaign_id: str, *, store, deliveries) -> list[dict]:
    """Each logged customer's latest message (following retry-failed's new ids) that has
    no final status yet, as queued for the vendor, with its existing message id."""
    final = {message_id for status in ("SENT", "FAILED")
             for message_id in all_with_status(deliveries, campaign_id, status, OUTCOME_PAGE)}
    newer = {entry["_id"]: entry["message_id"] for entry in store.all_retried(campaign_id)}
    unsent = []
    for entry in store.all_messages(campaign_id):
        message_id = entry["message_id"]
        while message_id in newer:  # FAILED and sent again by a later attempt
            message_id = newer[message_id]
        if message_id not in final:
            unsent.append({"message_id": message_id, "customer_external_id": entry["_id"],
                           "to": entry.get("to"), "text": entry["text"],
                           "unsubscribe_url": entry.get("unsubscribe_url")})
    return unsent


def requeue_unsent(campaign: dict, sequence: int, cause: dict, *, store, event_log,
                   deliveries) -> int:
    cid = campaign["_id"]
    by_attempt: dict[int, list[dict]] = {}
    for message in unsent_messages(cid, store=store, deliveries=deliveries):
        parsed = domain.parse_message_id(message["message_id"])
        by_attempt.setdefault(parsed[1] if parsed else 1, []).append(message)
    events = []
    for attempt, messages in sorted(by_attempt.items()):
        messages.sort(key=lambda m: m["message_id"])
        for start in range(0, len(messages), REQUEUE_CHUNK):
            part = messages[start:start + REQUEUE_CHUNK]
            events.append(new_event(
                MESSAGES_QUEUED, {"campaign_id": cid, "attempt": attempt,
                                  "send_rate": float(campaign.get("send_rate") or 0.0),
                                  "messages": part},
                producer=PRODUCER,
                # The same messages queued again by a redelivered resume are the same event.
                event_id=event_id(cid, "resume", sequence, attempt, part[0]["message_id"],
                                  part[-1]["message_id"], len(part)),
                correlation_id=cause.get("correlation_id"), causation_id=cause["event_id"]))
    for start in range(0, len(events), APPEND_EVENTS):
        event_log.append(events[start:start + APPEND_EVENTS])
    return sum(len(by) for by in by_attempt.values())
