"""The dispatcher's handlers: audience chunks become logged, personalised messages
queued for the senders (`messages.queued`), retry attempts are frozen and queued, and
a resumed campaign's unsent messages are queued again (campaigns/delivery/control.py).

Exactly once per customer and campaign: the communications log's `_id` is the
customer's external id, written with insert_many_new. A redelivered chunk
inserts nothing new; its messages are queued again only where the log holds
the SAME message id (this chunk's, from an earlier try that crashed before
publishing), and the vendor drops a message id it has seen. A customer that
some other chunk already logged is not queued twice. The chunk document,
written last, says the chunk is done (collStats of chunks = chunks queued).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from campaigns import domain
from campaigns.delivery import control
from campaigns.delivery.deliveries import all_with_status
from campaigns.delivery.message_log import SEQUENCE_STRIDE, customers_of
from campaigns.delivery.unsubscribes import note_unsubscribe
from campaigns.domain import PRODUCER, event_id
from campaigns.recipients import exclusions, groups
from shared.backbone.envelope import new_event
from shared.backbone.events import (
    AUDIENCE_CHUNK,
    AUDIENCE_FAILED,
    CAMPAIGN_LAUNCHED,
    CUSTOMER_CONSENT_CHANGED,
    MESSAGES_QUEUED,
)
from shared.unsubscribe import links_from_env

log = logging.getLogger(__name__)
RETRY_CHUNK = 1000


def parse_request_id(request_id: str) -> tuple[str, int] | None:
    campaign_id, _, attempt = request_id.partition(":")
    return (campaign_id, int(attempt)) if campaign_id and attempt.isdigit() else None


def handle_events(envelopes: list[dict], now: datetime, *, store, event_log, deliveries,
                  ledger=None) -> None:
    """One consumer batch. The chunks' `messages.queued` go out in ONE event-log append
    (one outbox write, one log insert, one confirmed publish) before their chunk records."""
    prepared: dict[tuple[str, int], PreparedChunk] = {}
    for envelope in envelopes:
        kind = envelope["event_type"]
        if kind == AUDIENCE_CHUNK:
            chunk = prepare_chunk(envelope, now, store=store, ledger=ledger)
            if chunk is not None:
                prepared.setdefault((chunk.campaign_id, chunk.index), chunk)
        elif kind == AUDIENCE_FAILED:
            audience_failed(envelope, store=store)
        elif kind == CAMPAIGN_LAUNCHED and envelope["data"]["attempt"] > 1:
            queue_retry(envelope, now, store=store, event_log=event_log, deliveries=deliveries)
        elif kind in control.CONTROL_EVENTS:
            control.handle_control_event(envelope, now, store=store, event_log=event_log,
                                         deliveries=deliveries)
        elif kind == CUSTOMER_CONSENT_CHANGED:
            note_unsubscribe(envelope, store=store)
    commit_chunks(list(prepared.values()), store=store, event_log=event_log)


def _campaign_of(envelope: dict, store) -> dict | None:
    parsed = parse_request_id(envelope["data"]["request_id"])
    campaign = store.find(parsed[0]) if parsed else None
    if campaign is None:
        log.warning("audience event for no campaign of ours; ignored",
                    extra={"request_id": envelope["data"]["request_id"]})
    return campaign


@dataclass
class PreparedChunk:
    campaign_id: str
    index: int
    event: dict | None  # messages.queued, None when nothing is left to queue
    record: dict        # the chunk document, written once the event is appended


def queue_chunk(envelope: dict, now: datetime, *, store, event_log) -> int:
    """Log and queue one chunk's messages; returns how many were queued."""
    chunk = prepare_chunk(envelope, now, store=store)
    if chunk is None:
        return 0
    commit_chunks([chunk], store=store, event_log=event_log)
    return chunk.record["queued"]


def prepare_chunk(envelope: dict, now: datetime, *, store, ledger=None) -> PreparedChunk | None:
    """Write the chunk's communications log entries; None if there is nothing to do.
    `ledger`: frequency_cap.LedgerOwner (None: no cap is applied, as in tests)."""
    data = envelope["data"]
    campaign = _campaign_of(envelope, store)
    if campaign is None:
        return None
    cid, index = campaign["_id"], data["chunk_index"]
    if store.find_chunk(cid, index) is not None:
        return None  # done before: its messages.queued is in the log (or the outbox)
    if campaign.get("chunk_count") is None:
        store.update(cid, {"audience_size": data["audience_size"],
                           "chunk_count": data["chunk_count"], "audience_at": now})
    templates = groups.templates(campaign)
    # Excluded and held-out customers take no sequence number: the log's sequences stay dense.
    at_cap = ledger.at_cap(campaign) if ledger is not None else None
    decision = exclusions.decide(campaign, data["recipients"][:SEQUENCE_STRIDE], at_cap=at_cap)
    messaged, held_out = decision.messaged, decision.held_out
    _record_held_out(cid, index, held_out, now, store)
    entries = [_log_entry(cid, 1, index * SEQUENCE_STRIDE + n, recipient,
                          templates[variant], now, variant)
               for n, (recipient, variant) in enumerate(messaged)]
    queued = _insert_new_or_ours(cid, entries, store)
    if ledger is not None:  # logged: these customers got this campaign's message
        ledger.record(campaign, [entry["_id"] for entry in entries])
    messages = [_queued_message(entry) for entry in queued]
    queued_ids = {entry["message_id"] for entry in queued}
    ids = [entry["_id"] if entry["message_id"] in queued_ids else "" for entry in entries]
    return PreparedChunk(cid, index, _queued_event(campaign, 1, index, messages, envelope),
                         {"ids": ids, "lint": groups.chunk_lint(templates, messaged),
                          "held_out_ids": [r["external_id"] for r in held_out],
                          "groups": groups.group_counts(messaged, len(held_out)),
                          "excluded": decision.counts(),
                          "queued": len(messages), "queued_at": now})


def _record_held_out(cid: str, index: int, held_out: list[dict], now, store) -> None:
    if held_out:
        store.insert_held_out(cid, [{"_id": recipient["external_id"], "chunk": index,
                                     "held_out_at": now} for recipient in held_out])


def commit_chunks(chunks: list[PreparedChunk], *, store, event_log) -> None:
    events = [chunk.event for chunk in chunks if chunk.event is not None]
    if events:
        event_log.append(events)  # False: in the outbox, which the relay publishes
    for chunk in chunks:
        store.insert_chunk(chunk.campaign_id, chunk.index, chunk.record)


def _log_entry(cid: str, attempt: int, sequence: int, recipient: dict, parts, now,
               variant: str = groups.DEFAULT_VARIANT) -> dict:
    customer = recipient["external_id"]
    unsubscribe_url = links_from_env().url(cid, customer)
    recipient = {**recipient, "unsubscribe_url": unsubscribe_url}
    return {"_id": customer, "message_id": domain.message_id(cid, attempt, sequence),
            "unsubscribe_url": unsubscribe_url,
            "attempt": attempt, "variant": variant,
            # The vendor refuses an empty text or address; the lint shows who is affected.
            "text": domain.render(parts, recipient) or " ",
            "to": domain.recipient_address(recipient) or f"customer:{customer}",
            "queued_at": now}


def _insert_new_or_ours(cid: str, entries: list[dict], store) -> list[dict]:
    unique = list({entry["_id"]: entry for entry in reversed(entries)}.values())[::-1]
    inserted = set(store.insert_messages(cid, unique))
    skipped = [entry for n, entry in enumerate(unique) if n not in inserted]
    stored = store.find_messages(cid, [entry["_id"] for entry in skipped]) if skipped else {}
    ours = {entry["_id"] for entry in skipped
            if stored.get(entry["_id"], {}).get("message_id") == entry["message_id"]}
    keep = {unique[n]["_id"] for n in inserted} | ours
    return [entry for entry in unique if entry["_id"] in keep]


def _queued_message(entry: dict) -> dict:
    return {"message_id": entry["message_id"], "customer_external_id": entry["_id"],
            "to": entry["to"], "text": entry["text"],
            "unsubscribe_url": entry.get("unsubscribe_url")}


def _queued_event(campaign: dict, attempt: int, index: int, messages: list[dict],
                  cause: dict) -> dict | None:
    if not messages:
        return None
    cid = campaign["_id"]
    return new_event(
        MESSAGES_QUEUED, {"campaign_id": cid, "attempt": attempt,
                          "send_rate": float(campaign.get("send_rate") or 0.0),
                          "messages": messages},
        producer=PRODUCER, event_id=event_id(cid, attempt, index, MESSAGES_QUEUED),
        correlation_id=cause["correlation_id"], causation_id=cause["event_id"])


def audience_failed(envelope: dict, *, store) -> None:
    campaign = _campaign_of(envelope, store)
    if campaign is None:
        return
    data = envelope["data"]
    store.update(campaign["_id"], {"status": "failed", "error": {
        "code": data["code"], "message": data["message"], "problems": data.get("problems", [])}})


def queue_retry(envelope: dict, now: datetime, *, store, event_log, deliveries) -> int:
    """Attempt n > 1: freeze the recipients whose latest message FAILED (the frozen
    list, committed by the attempt's chunk_count, makes a redelivery queue the same
    messages), mark their failed messages retried, queue the new messages."""
    cid, attempt = envelope["data"]["campaign_id"], envelope["data"]["attempt"]
    campaign, record = store.find(cid), store.find_attempt(cid, attempt)
    if campaign is None or record is None or record.get("queued_at"):
        return 0
    if record.get("chunk_count") is None:
        record = _freeze_retry(cid, attempt, store, deliveries)
    queued = 0
    for index in range(record["chunk_count"]):
        chunk = store.find_retry_chunk(cid, attempt, index)
        new_ids = [domain.message_id(cid, attempt, index * SEQUENCE_STRIDE + n)
                   for n in range(len(chunk["ids"]))]
        store.insert_retried(cid, [{"_id": failed, "attempt": attempt, "message_id": new}
                                   for failed, new in zip(chunk["failed"], new_ids, strict=True)])
        logged = store.find_messages(cid, chunk["ids"])
        messages = [{"message_id": new, "customer_external_id": customer,
                     "to": logged[customer]["to"], "text": logged[customer]["text"],
                     "unsubscribe_url": logged[customer].get("unsubscribe_url")}
                    for customer, new in zip(chunk["ids"], new_ids, strict=True)
                    if customer in logged]
        event = _queued_event(campaign, attempt, index, messages, envelope)
        if event is not None:
            event_log.append([event])
        queued += len(messages)
    store.update_attempt(cid, attempt, {"queued_at": now})
    return queued


def _freeze_retry(cid: str, attempt: int, store, deliveries) -> dict:
    retried = {entry["_id"] for entry in store.all_retried(cid) if entry["attempt"] < attempt}
    failed = [mid for mid in all_with_status(deliveries, cid, "FAILED", 1000)
              if mid not in retried
              and (domain.parse_message_id(mid) or ("", attempt, 0))[1] < attempt]
    customers = customers_of(cid, failed, store)
    pairs = [(customer, mid) for customer, mid in zip(customers, failed, strict=True) if customer]
    parts = [pairs[i:i + RETRY_CHUNK] for i in range(0, len(pairs), RETRY_CHUNK)]
    store.freeze_retry(cid, attempt, [
        {"ids": [c for c, _ in part], "failed": [m for _, m in part]} for part in parts])
    fields = {"chunk_count": len(parts), "audience_size": len(pairs)}
    store.update_attempt(cid, attempt, fields)  # the commit point of the frozen list
    log.info("retry attempt frozen", extra={"campaign_id": cid, "attempt": attempt, **fields})
    return {**(store.find_attempt(cid, attempt) or {}), **fields}
