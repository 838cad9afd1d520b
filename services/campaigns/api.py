"""Campaign routes (`/api/v1/campaigns...`): load with a schema, call one handler, dump."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

from flask import Blueprint, current_app, g, jsonify, request

from campaigns import handlers, rules_check
from campaigns.delivery import control, message_log
from campaigns.domain import (
    CampaignNotFound,
    RetryRefused,
    SegmentNotFound,
    TemplateError,
)
from campaigns.lifecycle import handlers as lifecycle
from campaigns.rules_check import InvalidRules
from campaigns.schemas import (
    CampaignSchema,
    MessageEntrySchema,
    MessagePreviewResultSchema,
    MessagePreviewSchema,
    MessagesQuerySchema,
    NewCampaignSchema,
    RetryAttemptSchema,
    new_campaign_body,
)
from shared.http import ApiError, json_body
from shared.openapi import Operation, PageQuerySchema, page_schema

blueprint = Blueprint("campaigns", __name__)

_ONE = "/api/v1/campaigns/{campaign_id}"
_TAGS = ("campaigns",)
OPERATIONS = [
    Operation("/api/v1/campaigns", "post", "Launch, schedule or save a campaign", tags=_TAGS,
              request_schema=new_campaign_body(), response_schema=CampaignSchema,
              components=rules_check.spec_components(),
              description="Saves the campaign and starts sending at once: the audience "
                          "(a saved segment's rules or inline rules) is snapshotted by the "
                          "segments service, every recipient gets one personalised message. "
                          "With `draft` it is only saved (status `draft`), with `send_at` it "
                          "launches then (status `scheduled`); PATCH edits either, "
                          ".../launch launches it now, .../cancel cancels it.",
              statuses={201: "The campaign (status launching, draft or scheduled)",
                        400: "Bad body (send_at past or beyond 90 days), INVALID_RULES, or "
                             "INVALID_TEMPLATE (details name each placeholder)",
                        404: "SEGMENT_NOT_FOUND"}),
    Operation("/api/v1/campaigns/preview-message", "post", "Render a message for sample customers",
              tags=_TAGS, request_schema=MessagePreviewSchema,
              response_schema=MessagePreviewResultSchema,
              description="Checks the template as launching would, renders it for the given "
                          "customers (e.g. a segment preview's sample) and counts who would get "
                          "each fallback or an empty value. Sends nothing.",
              statuses={200: "The rendered messages and the lint",
                        400: "Bad body or INVALID_TEMPLATE (details name each problem)"}),
    Operation("/api/v1/campaigns", "get", "List campaigns, newest first", tags=_TAGS,
              query_schema=PageQuerySchema, response_schema=page_schema(CampaignSchema),
              statuses={200: "A page", 400: "Bad limit"}),
    Operation(_ONE, "get", "One campaign with its stats", tags=_TAGS,
              response_schema=CampaignSchema,
              description="stats: sent + failed + pending == audience_size at every read; "
                          "a FAILED recipient sent again by retry-failed counts as pending, "
                          "and so do the unsent messages of a paused campaign (status "
                          "`paused`) and, forever, of a cancelled one (status `cancelled`, "
                          "never `completed`). `control` and `actions` say what pause, "
                          "resume and cancel accept now.",
              statuses={200: "The campaign", 404: "No such campaign"}),
    Operation(_ONE + "/messages", "get", "The campaign's communications log", tags=_TAGS,
              query_schema=MessagesQuerySchema, response_schema=page_schema(MessageEntrySchema),
              description="One entry per recipient with the status of their latest message. "
                          "A status-filtered page may hold fewer than `limit` entries and "
                          "still carry a next_cursor.",
              statuses={200: "A page", 400: "Bad query or cursor", 404: "No such campaign"}),
    Operation(_ONE + "/retry-failed", "post", "Send again to the FAILED recipients", tags=_TAGS,
              response_schema=RetryAttemptSchema,
              description="Starts a new attempt (new message ids, same texts) to the recipients "
                          "whose latest message FAILED; nobody else is touched.",
              statuses={202: "The attempt started", 404: "No such campaign",
                        409: "NOTHING_TO_RETRY, ATTEMPT_IN_PROGRESS, CAMPAIGN_FAILED, "
                             "CAMPAIGN_PAUSED (resume it first) or CAMPAIGN_CANCELLED"}),
    Operation(_ONE + "/pause", "post", "Pause a sending campaign", tags=_TAGS,
              response_schema=CampaignSchema,
              description="No more of its messages are handed to the vendor; those already "
                          "there still get their receipts, so `sent`/`failed` may grow for a "
                          "few seconds. Unsent messages stay pending: status `paused` while "
                          "anything is pending, and sent + failed + pending == audience_size "
                          "still holds at every read. Allowed while `actions` lists `pause` "
                          "(status launching or sending).",
              statuses={200: "The campaign, status paused (completed if nothing was pending)",
                        404: "No such campaign",
                        409: "CAMPAIGN_NOT_ACTIVE (completed, cancelled or failed), "
                             "CAMPAIGN_ALREADY_PAUSED or CONTROL_CONFLICT"}),
    Operation(_ONE + "/resume", "post", "Resume a paused campaign", tags=_TAGS,
              response_schema=CampaignSchema,
              description="Sending goes on: every message of the latest attempt without a final "
                          "status is queued again under its own message id (the vendor drops an "
                          "id it already has, so nobody gets two messages). Status goes back to "
                          "launching or sending.",
              statuses={200: "The campaign, status launching, sending or completed",
                        404: "No such campaign",
                        409: "CAMPAIGN_NOT_PAUSED, CAMPAIGN_NOT_ACTIVE (cancelled or failed) "
                             "or CONTROL_CONFLICT"}),
    Operation(_ONE + "/cancel", "post", "Cancel a campaign for good", tags=_TAGS,
              response_schema=CampaignSchema,
              description="Terminal: messages not yet handed to the vendor are never sent and "
                          "stay counted as pending forever, so a cancelled campaign never "
                          "becomes completed; receipts of messages already at the vendor still "
                          "move them to sent or failed. Works on a sending or paused campaign.",
              statuses={200: "The campaign, status cancelled", 404: "No such campaign",
                        409: "CAMPAIGN_NOT_ACTIVE (completed, cancelled or failed) "
                             "or CONTROL_CONFLICT"}),
]

_new_campaign = NewCampaignSchema()
_message_preview = MessagePreviewSchema()
_message_preview_result = MessagePreviewResultSchema()
_campaign = CampaignSchema()
_page_query = PageQuerySchema()
_messages_query = MessagesQuerySchema()
_entry = MessageEntrySchema()


def dependencies():
    """The campaigns app's dependencies (bootstrap.Dependencies, or fakes in tests)."""
    return current_app.extensions["campaigns"]


def campaign_not_found(campaign_id: str) -> ApiError:
    return ApiError(404, "NOT_FOUND", "No campaign has this id.", {"campaign_id": campaign_id})


@contextmanager
def campaign_input_errors():
    """A campaign's template, rules or segment the client got wrong, as its error: 400
    INVALID_TEMPLATE or INVALID_RULES (details name each problem), 404 SEGMENT_NOT_FOUND."""
    try:
        yield
    except (TemplateError, InvalidRules) as error:
        code = "INVALID_TEMPLATE" if isinstance(error, TemplateError) else "INVALID_RULES"
        raise ApiError(400, code, str(error), error.details) from error
    except SegmentNotFound as error:
        raise ApiError(404, "SEGMENT_NOT_FOUND", "No saved segment has this id.",
                       {"segment_id": str(error)}) from error


@blueprint.post("/api/v1/campaigns")
def create_campaign():
    deps = dependencies()
    body = _new_campaign.load(json_body())
    create = (lifecycle.create_unlaunched if body.get("draft") or body.get("send_at")
              else handlers.create_campaign)
    with campaign_input_errors():
        campaign = create(
            body, datetime.now(UTC), store=deps.store, segment_rules=deps.segment_rules,
            event_log=deps.event_log, default_send_rate=deps.config.send_rate,
            correlation_id=g.get("correlation_id"))
    return jsonify(_campaign.dump(campaign)), 201


@blueprint.post("/api/v1/campaigns/preview-message")
def preview_message():
    body = _message_preview.load(json_body())
    with campaign_input_errors():
        result = handlers.preview_message(body)
    return jsonify(_message_preview_result.dump(result))


@blueprint.get("/api/v1/campaigns")
def list_campaigns():
    deps = dependencies()
    query = _page_query.load(request.args)
    items, next_cursor = handlers.list_campaigns(query["limit"], query["cursor"],
                                                 store=deps.store, deliveries=deps.deliveries)
    return jsonify({"items": _campaign.dump(items, many=True), "next_cursor": next_cursor})


@blueprint.get("/api/v1/campaigns/<campaign_id>")
def get_campaign(campaign_id: str):
    deps = dependencies()
    try:
        campaign = handlers.get_campaign(campaign_id, store=deps.store, deliveries=deps.deliveries)
    except CampaignNotFound:
        raise campaign_not_found(campaign_id) from None
    return jsonify(_campaign.dump(campaign))


@blueprint.get("/api/v1/campaigns/<campaign_id>/messages")
def list_messages(campaign_id: str):
    deps = dependencies()
    query = _messages_query.load(request.args)
    try:
        items, next_cursor = message_log.list_messages(
            campaign_id, query["status"], query["cursor"], query["limit"], store=deps.store,
            deliveries=deps.deliveries, scan_limit=deps.config.messages_scan_limit)
    except CampaignNotFound:
        raise campaign_not_found(campaign_id) from None
    except message_log.BadCursor:
        raise ApiError(400, "INVALID_CURSOR", "The cursor is not one this API gave out.",
                       {"cursor": query["cursor"]}) from None
    return jsonify({"items": _entry.dump(items, many=True), "next_cursor": next_cursor})


@blueprint.post("/api/v1/campaigns/<campaign_id>/retry-failed")
def retry_failed(campaign_id: str):
    deps = dependencies()
    try:
        attempt = handlers.retry_failed(campaign_id, datetime.now(UTC), store=deps.store,
                                        deliveries=deps.deliveries, event_log=deps.event_log,
                                        correlation_id=g.get("correlation_id"))
    except CampaignNotFound:
        raise campaign_not_found(campaign_id) from None
    except RetryRefused as error:
        raise ApiError(409, error.code, str(error), {"campaign_id": campaign_id}) from error
    return jsonify(RetryAttemptSchema().dump(attempt)), 202


@blueprint.post("/api/v1/campaigns/<campaign_id>/<any(pause, resume, cancel):action>")
def change_control(campaign_id: str, action: str):
    deps = dependencies()
    try:
        campaign = control.change_control(campaign_id, action, datetime.now(UTC),
                                          store=deps.store, deliveries=deps.deliveries,
                                          event_log=deps.event_log,
                                          correlation_id=g.get("correlation_id"))
    except CampaignNotFound:
        raise campaign_not_found(campaign_id) from None
    except control.ControlRefused as error:
        raise ApiError(409, error.code, str(error),
                       {"campaign_id": campaign_id, "status": error.status}) from error
    return jsonify(_campaign.dump(campaign))
