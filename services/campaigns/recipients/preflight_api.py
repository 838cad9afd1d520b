"""Routes of the preflight: `POST /api/v1/campaigns/preflight` (a create's body) and
`GET /api/v1/campaigns/<id>/preflight`. Counted by segments over its index
(segments/audience/check.py), then the cap, holdout and lint by preflight.py."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import requests
from flask import Blueprint, jsonify
from marshmallow import Schema, fields

from campaigns import handlers, rules_check
from campaigns.api import dependencies
from campaigns.domain import SegmentNotFound, TemplateError
from campaigns.recipients.frequency_cap import LedgerOwner
from campaigns.recipients.preflight import preflight, template_fields
from campaigns.rules_check import InvalidRules
from campaigns.schemas import NewCampaignSchema, new_campaign_body
from shared.http import ApiError, json_body
from shared.openapi import Operation

blueprint = Blueprint("campaign_preflight", __name__)
CHECK_PATH = "/internal/v1/segments/audience-check"
_TIMEOUT_SECONDS = 60


class PreflightSchema(Schema):
    matched = fields.Integer(metadata={"description": "The rules' count now"})
    excluded = fields.Dict(metadata={
        "description": "unsubscribed, suppressed, capped, held_out: each customer once, for "
                       "the first cause in this order, as a launch decides (stats.excluded)"})
    audience_size = fields.Integer(metadata={"description": "matched minus every exclusion: "
                                                            "who a launch now would message"})
    held_out_exact = fields.Boolean(metadata={
        "description": "true: held_out is the launch's own count (for the POST, of a create "
                       "that carries assignment_key back)"})
    assignment_key = fields.String(allow_none=True, metadata={
        "description": "What seeds each customer's group. The POST draws one (or keeps the "
                       "body's): a create with it holds out and splits exactly these customers. "
                       "The GET: the campaign's (null: its id)"})
    capped_exact = fields.Boolean(metadata={
        "description": "false while a frequency cap is in force: counted from the "
                       "communications logs, a launch still being dispatched counts only the "
                       "chunks it has logged"})
    lint = fields.Dict(metadata={
        "description": "fallback_used {placeholder: n}; empty_text: placeholders that would "
                       "print nothing, summed (the launch lint's `empty`); recipients and "
                       "placeholders as a launch's lint"})


_TAGS = ("campaigns",)
_STATUSES = {200: "The waterfall and the lint",
             503: "SEGMENTS_UNAVAILABLE, or INDEX_LOADING (segments' index is loading)"}
OPERATIONS = [
    Operation("/api/v1/campaigns/preflight", "post", "Check a campaign's audience before it exists",
              tags=_TAGS, request_schema=new_campaign_body(), response_schema=PreflightSchema,
              components=rules_check.spec_components(),
              description="Takes a create's body and saves nothing. Over the whole audience as "
                          "a launch now would see it: matched, every exclusion, audience_size "
                          "and the template lint. held_out is exact for a create that carries "
                          "the answer's assignment_key.",
              statuses={**_STATUSES, 400: "Bad body, INVALID_RULES or INVALID_TEMPLATE",
                        404: "SEGMENT_NOT_FOUND"}),
    Operation("/api/v1/campaigns/{campaign_id}/preflight", "get",
              "Check a campaign's audience as a launch now would see it", tags=_TAGS,
              response_schema=PreflightSchema,
              description="As the POST, for a saved campaign (held_out exact: its own id). A "
                          "launch right after, with no data changed, gets the same numbers.",
              statuses={**_STATUSES, 404: "No such campaign"}),
]

_new_campaign = NewCampaignSchema()


@blueprint.post("/api/v1/campaigns/preflight")
def preflight_new():
    deps, body = dependencies(), _new_campaign.load(json_body())
    try:
        campaign = handlers.campaign_document(body, datetime.now(UTC),
                                              segment_rules=deps.segment_rules)
    except TemplateError as error:
        raise ApiError(400, "INVALID_TEMPLATE", str(error), error.details) from error
    except InvalidRules as error:
        raise ApiError(400, "INVALID_RULES", str(error), error.details) from error
    except SegmentNotFound as error:
        raise ApiError(404, "SEGMENT_NOT_FOUND", "No saved segment has this id.",
                       {"segment_id": str(error)}) from error
    if campaign["assignment_key"] is None:  # the create that carries it back splits alike
        campaign["assignment_key"] = uuid.uuid4().hex
    return jsonify(_answer(campaign))


@blueprint.get("/api/v1/campaigns/<campaign_id>/preflight")
def preflight_saved(campaign_id: str):
    campaign = dependencies().store.find(campaign_id)
    if campaign is None:
        raise ApiError(404, "NOT_FOUND", "No campaign has this id.", {"campaign_id": campaign_id})
    return jsonify(_answer(campaign))


def _answer(campaign: dict) -> dict:
    deps = dependencies()
    counted = audience_check(deps)(campaign["rules"], template_fields(campaign))
    at_cap = LedgerOwner(deps.cap_store).at_cap(campaign)
    return {**preflight(campaign, counted, at_cap=at_cap, capped_exact=at_cap is None),
            "assignment_key": campaign.get("assignment_key")}


def audience_check(deps):
    """`check(rules, fields) -> segments' answer`: deps' own (tests), or over HTTP."""
    own = getattr(deps, "audience_check", None)
    if own is not None:
        return own
    url = deps.config.settings.service_urls["segments"].rstrip("/") + CHECK_PATH

    def check(rules: dict, names: list[str]) -> dict:
        try:
            response = requests.post(url, json={"rules": rules, "fields": names,
                                                "with_ids": True}, timeout=_TIMEOUT_SECONDS)
        except requests.RequestException as error:
            raise ApiError(503, "SEGMENTS_UNAVAILABLE", "The segments service did not "
                           "answer; try again shortly.") from error
        if response.status_code == 503:
            error = response.json().get("error", {})
            raise ApiError(503, error.get("code", "SEGMENTS_UNAVAILABLE"),
                           error.get("message", "Segments is not ready."), error.get("details"))
        response.raise_for_status()
        return response.json()
    return check
