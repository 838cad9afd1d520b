"""Drafts and scheduled campaigns: saved, edited, then launched exactly once.

A create with `draft` or `send_at` saves the campaign unlaunched (status `draft` or
`scheduled`, nothing requested from segments). Each save is numbered (`save_seq`
0, 1, ...) and logged as `campaign.drafted` / `.scheduled` / `.edited` holding every
editable field, so the log alone rebuilds the campaign. An edit is a compare-and-set
on the campaign document (status still unlaunched, control active, `save_seq`
unchanged: FerretDB has no transactions, one document's update is atomic), then
logged; a save not logged yet (the API died in between) is logged by whoever next
touches the campaign (`_log_unlogged`).

Launching (POST .../launch, or the scheduler at `send_at`):
1. a `launches` entry says a launch is owed (the scheduler's list: a scheduled
   campaign has one from its save on, a launch request adds one due in a few seconds);
2. compare-and-set status unlaunched -> `launching` (`launch_logged` false): after
   this no edit lands, and of two launchers only one wins the set;
3. attempt 1 is inserted and the audience request and `campaign.launched` appended
   with the ids a create uses (handlers.launch_events: derived from the campaign id,
   so a repeat is the same events), then `launch_logged` is set and the entry dropped.
A kill -9 between any two steps leaves the entry, and the next scheduler pass
(campaigns/lifecycle/scheduler.py, every second) repeats the steps left: the launch happens
once. Cancel (campaigns/delivery/control.py) sets control `cancelled`: step 2 then fails and
the entry is dropped.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from campaigns import domain, handlers
from campaigns.domain import PRODUCER, CampaignNotFound, event_id
from campaigns.recipients import groups
from shared.backbone.envelope import new_event
from shared.backbone.events import CAMPAIGN_DRAFTED, CAMPAIGN_EDITED, CAMPAIGN_SCHEDULED
from shared.times import iso_utc

EDITABLE = ("name", "message", "variants", "segment_id", "rules", "send_at", "holdout_percent")
# A launch request's entry falls due this long after it: the scheduler finishes the
# launch only if the request died on the way, instead of racing it.
REQUEST_GRACE = timedelta(seconds=5)


class NotEditable(Exception):
    def __init__(self, code: str, message: str, status: str):
        super().__init__(message)
        self.code, self.status = code, status


def create_unlaunched(body: dict, now: datetime, *, store, segment_rules, event_log,
                      default_send_rate: float = 0.0, correlation_id: str | None = None) -> dict:
    """Save a draft (`draft`) or a scheduled campaign (`send_at`); nothing is sent."""
    campaign = handlers.campaign_document(body, now, segment_rules=segment_rules,
                                          default_send_rate=default_send_rate)
    status = domain.SCHEDULED if body.get("send_at") else domain.DRAFT
    campaign.update({"status": status, "send_at": body.get("send_at"), "save_seq": 0,
                     "saved_logged": -1})
    store.insert(campaign)
    if status == domain.SCHEDULED:
        store.owe_launch(campaign["_id"], campaign["send_at"], "schedule")
    _log_unlogged(campaign, store, event_log, correlation_id)
    return handlers.view(campaign, store=store, deliveries=None)


def edit_campaign(campaign_id: str, body: dict, now: datetime, *, store, segment_rules,
                  event_log, deliveries, correlation_id: str | None = None) -> dict:
    """Apply a PATCH (`body`: loaded edits) to a draft or scheduled campaign."""
    campaign = _unlaunched(campaign_id, store)
    _log_unlogged(campaign, store, event_log, correlation_id)
    changes = dict(body)
    if "rules" in changes or "segment_id" in changes:
        audience = {"rules": changes.get("rules"), "segment_id": changes.get("segment_id")}
        changes["rules"] = handlers.audience_rules(audience, segment_rules)
        changes["segment_id"] = audience["segment_id"]
    if changes.get("message") is not None:
        changes["variants"] = None
    elif changes.get("variants") is not None:
        changes["message"] = None
    merged = {**campaign, **changes}
    groups.templates(merged)  # TemplateError -> 400, as at create
    if "send_at" in changes:
        changes["status"] = domain.SCHEDULED if changes["send_at"] else domain.DRAFT
    sequence = campaign.get("save_seq", 0)
    expected = {"status": campaign["status"], "control": domain.ACTIVE, "save_seq": sequence}
    if not store.update_if(campaign_id, expected, {**changes, "save_seq": sequence + 1,
                                                   "edited_at": now}):
        raise NotEditable("EDIT_CONFLICT", "The campaign changed meanwhile (edited, launched or "
                          "cancelled); read it and try again.", campaign["status"])
    campaign = store.find(campaign_id)
    if campaign["status"] == domain.SCHEDULED:
        store.owe_launch(campaign_id, campaign["send_at"], "schedule")
    else:
        store.drop_launch(campaign_id)
    _log_unlogged(campaign, store, event_log, correlation_id)
    return handlers.view(campaign, store=store, deliveries=deliveries)


def launch_campaign(campaign_id: str, now: datetime, *, store, event_log, deliveries,
                    segment_rules=None, correlation_id: str | None = None) -> dict:
    """POST .../launch: a draft or scheduled campaign launches now (a launched one: 409)."""
    campaign = store.find(campaign_id)
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    if campaign["status"] in domain.UNLAUNCHED or not campaign.get("launch_logged", True):
        if campaign["status"] in domain.UNLAUNCHED:
            _unlaunched(campaign_id, store)  # cancelled: 409
            store.owe_launch(campaign_id, now + REQUEST_GRACE, "launch")
        launch(campaign_id, now, store=store, event_log=event_log,
               segment_rules=segment_rules, correlation_id=correlation_id)
    elif campaign.get("launched_at") is None:
        raise NotEditable("ALREADY_LAUNCHED", "The campaign was launched at creation.",
                          campaign["status"])
    return handlers.get_campaign(campaign_id, store=store, deliveries=deliveries)


def launch(campaign_id: str, now: datetime, *, store, event_log, segment_rules=None,
           correlation_id: str | None = None) -> bool:
    """Steps 2 and 3 (module doc), idempotent: True if the campaign is launched now."""
    campaign = store.find(campaign_id)
    if campaign is None:
        store.drop_launch(campaign_id)
        return False
    if campaign["status"] in domain.UNLAUNCHED:
        if campaign.get("control", domain.ACTIVE) != domain.ACTIVE:
            store.drop_launch(campaign_id)  # cancelled before its time
            return False
        _log_unlogged(campaign, store, event_log, correlation_id)
        rules = _rules_now(campaign, segment_rules)
        expected = {"status": campaign["status"], "control": domain.ACTIVE,
                    "save_seq": campaign.get("save_seq", 0)}
        fields = {"status": "launching", "launched_at": now, "launch_logged": False,
                  "rules": rules}
        if not store.update_if(campaign_id, expected, fields):
            # Edited, cancelled or launched by another launcher meanwhile: the entry
            # stays, and the next scheduler pass sees which.
            return False
        campaign = {**campaign, **fields}
    if campaign.get("launch_logged", True):
        store.drop_launch(campaign_id)
        return True
    store.insert_attempt(campaign_id, 1, {"created_at": campaign["launched_at"]})
    event_log.append(handlers.launch_events(campaign, campaign["launched_at"], correlation_id))
    store.update(campaign_id, {"launch_logged": True})
    store.drop_launch(campaign_id)
    return True


def _rules_now(campaign: dict, segment_rules) -> dict:
    """A saved segment's rules as they are at launch (the stored ones if it is gone)."""
    if campaign.get("segment_id") and segment_rules is not None:
        return segment_rules.rules_of(campaign["segment_id"]) or campaign["rules"]
    return campaign["rules"]


def _unlaunched(campaign_id: str, store) -> dict:
    campaign = store.find(campaign_id)
    if campaign is None:
        raise CampaignNotFound(campaign_id)
    status = campaign["status"]
    if campaign.get("control", domain.ACTIVE) == domain.CANCELLED:
        status = "cancelled"
    if status not in domain.UNLAUNCHED:
        shown = status if status != "launching" else "launched"
        raise NotEditable("NOT_EDITABLE", f"The campaign is {shown}: only a draft or "
                          "scheduled campaign can be edited or launched.", status)
    return campaign


def saved_fields(campaign: dict) -> dict:
    """The campaign's editable fields (and send rate, cap choice) as event data."""
    fields = {name: campaign.get(name) for name in EDITABLE}
    fields["send_at"] = iso_utc(campaign.get("send_at"))
    fields.update(name=campaign["name"], send_rate=campaign.get("send_rate"),
                  ignore_frequency_cap=bool(campaign.get("ignore_frequency_cap")),
                  status=campaign["status"])
    return fields


def _log_unlogged(campaign: dict, store, event_log, correlation_id: str | None) -> None:
    """Log the campaign's latest save if it is not logged yet (idempotent: fixed id)."""
    cid, sequence = campaign["_id"], campaign.get("save_seq")
    if sequence is None or campaign.get("saved_logged", -1) >= sequence:
        return
    kind = CAMPAIGN_EDITED if sequence > 0 else (
        CAMPAIGN_SCHEDULED if campaign["status"] == domain.SCHEDULED else CAMPAIGN_DRAFTED)
    event_log.append([new_event(
        kind, {"campaign_id": cid, "sequence": sequence, "campaign": saved_fields(campaign)},
        producer=PRODUCER, event_id=event_id(cid, "save", sequence),
        correlation_id=correlation_id)])
    store.update(cid, {"saved_logged": sequence})
