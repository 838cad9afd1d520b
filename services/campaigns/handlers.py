"""The campaigns API's commands and queries: one plain function each, dependencies
keyword-only (`store`: store.CampaignStore, `deliveries`: deliveries.Deliveries,
`segment_rules`: store.SegmentRules, `event_log`: shared.backbone.outbox.EventLog, or fakes).

Stats (API.md): `sent` and `failed` come from receipts' counts of final statuses;
a FAILED message sent again by retry-failed is pending again (its customer
waits for the new attempt), so `failed` = reported failures - retried ones, and
`pending` = audience_size - sent - failed. Every read therefore adds up, whatever
the order receipts, retries and reads happen in. Pause, resume and cancel
(campaigns/delivery/control.py) change `status` and `control`, never the stats.
"""
from __future__ import annotations

from datetime import datetime

from campaigns import domain, rules_check
from campaigns.domain import PRODUCER, CampaignNotFound, RetryRefused, SegmentNotFound, event_id
from campaigns.recipients import assignment, exclusions, groups
from campaigns.store import new_campaign_id
from shared.backbone.envelope import new_event
from shared.backbone.events import AUDIENCE_REQUESTED, CAMPAIGN_LAUNCHED


def request_id(campaign_id: str, attempt: int = 1) -> str:
    return f"{campaign_id}:{attempt}"


def preview_message(body: dict) -> dict:
    """The message as each given customer would get it, and the lint of its fallbacks:
    exactly what sending would render (TemplateError -> 400 INVALID_TEMPLATE)."""
    parts = domain.parse_template(body["message"])
    recipients = body["recipients"]
    return {"messages": [{"external_id": recipient.get("external_id"),
                          "text": domain.render(parts, recipient)} for recipient in recipients],
            "lint": domain.lint(parts, recipients)}


def create_campaign(body: dict, now: datetime, *, store, segment_rules, event_log,
                    default_send_rate: float = 0.0, correlation_id: str | None = None) -> dict:
    """Save the campaign and ask segments for its audience; sending follows at once."""
    campaign = campaign_document(body, now, segment_rules=segment_rules,
                                 default_send_rate=default_send_rate)
    store.insert(campaign)
    store.insert_attempt(campaign["_id"], 1, {"created_at": now})
    # False: logged and in the outbox; the relay publishes it
    event_log.append(launch_events(campaign, now, correlation_id))
    return view(campaign, store=store, deliveries=None)


def campaign_document(body: dict, now: datetime, *, segment_rules,
                      default_send_rate: float = 0.0) -> dict:
    """A new campaign, status launching, from a create body (templates and inline rules
    checked: TemplateError, rules_check.InvalidRules, SegmentNotFound)."""
    groups.templates(body)  # TemplateError -> 400 INVALID_TEMPLATE, naming the variant
    rules = audience_rules(body, segment_rules)
    return {"_id": new_campaign_id(), "name": body["name"], "message": body.get("message"),
            "variants": body.get("variants"),
            "holdout_percent": body.get("holdout_percent") or 0,
            "segment_id": body.get("segment_id"), "rules": rules,
            "send_rate": body.get("send_rate") or default_send_rate,
            "ignore_frequency_cap": bool(body.get("ignore_frequency_cap")),
            "status": "launching", "control": domain.ACTIVE, "attempt": 1,
            "audience_size": None,
            "chunk_count": None, "lint": None, "error": None, "created_at": now,
            # the holdout/variant function it is decided by, for good, and its seed
            # (a preflight's key, or None: the id), assignment.py
            "assignment": assignment.ASSIGNMENT, "assignment_key": body.get("assignment_key")}


def audience_rules(body: dict, segment_rules) -> dict:
    """The saved segment's rules, or the inline ones once segments' grammar accepts them."""
    if body.get("segment_id") is not None:
        rules = segment_rules.rules_of(body["segment_id"])
        if rules is None:
            raise SegmentNotFound(body["segment_id"])
        return rules
    rules_check.check(body["rules"])
    return body["rules"]


def launch_events(campaign: dict, now: datetime, correlation_id: str | None) -> list[dict]:
    """Attempt 1: the audience request and the launch, ids fixed by the campaign id (a
    launch appended twice, by a retried request or two schedulers, is one launch)."""
    cid = campaign["_id"]
    return [
        new_event(AUDIENCE_REQUESTED, {"request_id": request_id(cid), "rules": campaign["rules"],
                                       "as_of": now.isoformat()},
                  producer=PRODUCER, event_id=event_id(cid, 1, AUDIENCE_REQUESTED),
                  correlation_id=correlation_id),
        new_event(CAMPAIGN_LAUNCHED, {"campaign_id": cid, "attempt": 1},
                  producer=PRODUCER, event_id=event_id(cid, 1, CAMPAIGN_LAUNCHED),
                  correlation_id=correlation_id),
    ]


def view(campaign: dict, *, store, deliveries) -> dict:
    """The campaign as the API shows it, with stats read now (`deliveries` None: none yet)."""
    cid, attempt = campaign["_id"], campaign.get("attempt", 1)
    final = campaign.get("final")
    if final is not None and final["attempt"] == attempt:
        stats, queued = final["stats"], True  # nothing pending: only a retry changes it
    else:
        counts = deliveries.counts(cid) if deliveries is not None else {"sent": 0, "failed": 0}
        retried = store.retried_count(cid) if attempt > 1 else 0
        queued = _fully_queued(campaign, store)
        stats = _stats(campaign, counts, retried, store, queued)
        if queued and stats["pending"] == 0 and campaign["status"] != "failed":
            # Every message of this attempt has its final status, and a final status
            # never changes: keep the stats instead of counting again at every read.
            store.update(cid, {"final": {"attempt": attempt, "stats": stats}})
    control = campaign.get("control", domain.ACTIVE)
    status = domain.campaign_status(campaign["status"], stats, queued, control)
    lint = campaign.get("lint")
    if lint is None and queued:
        lint = domain.merge_lints([chunk["lint"] for chunk in store.all_chunks(cid)])
        store.update(cid, {"lint": lint})
    return {"id": cid, "name": campaign["name"],
            "status": status, "control": control, "control_changed_at": campaign.get("control_at"),
            "actions": domain.control_actions(status, control),
            "message": campaign["message"], "rules": campaign.get("rules"),
            "variants": campaign.get("variants"),
            "holdout_percent": campaign.get("holdout_percent") or 0,
            "segment_id": campaign.get("segment_id"), "send_rate": campaign.get("send_rate"),
            "ignore_frequency_cap": bool(campaign.get("ignore_frequency_cap")),
            "attempt": attempt, "created_at": campaign["created_at"],
            "send_at": campaign.get("send_at"), "launched_at": campaign.get("launched_at"),
            "stats": stats, "lint": lint, "error": campaign.get("error")}


def _stats(campaign: dict, counts: dict, retried: int, store, queued: bool) -> dict:
    """The stored `audience_size` is what the rules matched; excluded customers
    (exclusions.py: unsubscribed, suppressed, capped, held out) are never messaged,
    so the audience is matched minus them (counted as their chunks arrive:
    sent + failed + pending == audience_size holds at every read)."""
    matched = campaign.get("audience_size")
    excluded = _exclusions(campaign, store, queued)
    size = None if matched is None else max(matched - exclusions.total(excluded), 0)
    stats = domain.campaign_stats(size, counts["sent"], counts["failed"], retried)
    return {**stats, "matched": matched or 0, "excluded": excluded}


def _exclusions(campaign: dict, store, queued: bool) -> dict[str, int]:
    """Per cause, from the chunks decided so far; kept on the campaign once every
    chunk is (a decision never changes). Held out: the holdout's own count."""
    cid = campaign["_id"]
    excluded = campaign.get("excluded")
    if excluded is None:
        excluded = exclusions.summed([chunk.get("excluded") for chunk in store.all_chunks(cid)])
        if queued:
            store.update(cid, {"excluded": excluded})
    held_out = store.held_out_count(cid) if campaign.get("holdout_percent") else 0
    return {**excluded, "held_out": held_out}


def _fully_queued(campaign: dict, store) -> bool:
    cid, chunk_count = campaign["_id"], campaign.get("chunk_count")
    if chunk_count is None or store.queued_chunks(cid) < chunk_count:
        return False
    attempt = campaign.get("attempt", 1)
    if attempt == 1:
        return True
    record = store.find_attempt(cid, attempt)
    return bool(record and record.get("queued_at"))


def get_campaign(campaign_id: str, *, store, deliveries) -> dict:
    campaign = store.find(campaign_id)
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    return view(campaign, store=store, deliveries=deliveries)


def list_campaigns(limit: int, before: str | None, *, store, deliveries) -> tuple[list, str | None]:
    page = store.page(before, limit + 1)
    items = [view(campaign, store=store, deliveries=deliveries) for campaign in page[:limit]]
    return items, (page[limit - 1]["_id"] if len(page) > limit else None)


def retry_failed(campaign_id: str, now: datetime, *, store, deliveries, event_log,
                 correlation_id: str | None = None) -> dict:
    """Start attempt n + 1 to the recipients whose latest message FAILED. The dispatcher
    freezes who they are and queues their messages (same text, new message ids)."""
    campaign = store.find(campaign_id)
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    if campaign["status"] == "failed":
        raise RetryRefused("CAMPAIGN_FAILED", "This campaign never got an audience.")
    control = campaign.get("control", domain.ACTIVE)
    if control != domain.ACTIVE:
        raise RetryRefused(f"CAMPAIGN_{control.upper()}", f"This campaign is {control}"
                           + (": resume it first." if control == domain.PAUSED else "."))
    if not _fully_queued(campaign, store):
        raise RetryRefused("ATTEMPT_IN_PROGRESS",
                           "The campaign is still queueing its messages; retry once it is sending.")
    stats = view(campaign, store=store, deliveries=deliveries)["stats"]
    if stats["failed"] == 0:
        raise RetryRefused("NOTHING_TO_RETRY", "No recipient of this campaign has failed.")
    attempt = campaign.get("attempt", 1) + 1
    if not store.insert_attempt(campaign_id, attempt, {"created_at": now}):
        raise RetryRefused("ATTEMPT_IN_PROGRESS", "Another retry of this campaign just started.")
    store.update(campaign_id, {"attempt": attempt})
    event_log.append([new_event(
        CAMPAIGN_LAUNCHED, {"campaign_id": campaign_id, "attempt": attempt},
        producer=PRODUCER, event_id=event_id(campaign_id, attempt, CAMPAIGN_LAUNCHED),
        correlation_id=correlation_id)])
    return {"campaign_id": campaign_id, "attempt": attempt, "failed_to_retry": stats["failed"]}
