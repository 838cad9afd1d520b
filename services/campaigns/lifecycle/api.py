"""Routes of drafts and schedules: PATCH a campaign, launch it, send it as a test.
(Create with `draft`/`send_at` is api.py's POST; cancel is its control route.)"""
from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import requests
from flask import Blueprint, g, jsonify

from campaigns import rules_check
from campaigns.api import campaign_input_errors, campaign_not_found, dependencies
from campaigns.delivery import testsend
from campaigns.delivery.sender import VendorError
from campaigns.domain import CampaignNotFound
from campaigns.lifecycle import handlers as lifecycle
from campaigns.lifecycle.schemas import (
    EditCampaignSchema,
    TestSendResultSchema,
    TestSendSchema,
    edit_campaign_body,
)
from campaigns.schemas import CampaignSchema
from shared.http import ApiError, json_body
from shared.openapi import Operation

blueprint = Blueprint("campaign_lifecycle", __name__)

_ONE = "/api/v1/campaigns/{campaign_id}"
_TAGS = ("campaigns",)
_NOT_EDITABLE = ("NOT_EDITABLE (launched, sending, completed or cancelled) "
                 "or EDIT_CONFLICT (changed meanwhile: read it and try again)")
OPERATIONS = [
    Operation(_ONE, "patch", "Edit a draft or scheduled campaign", tags=_TAGS,
              request_schema=edit_campaign_body(), response_schema=CampaignSchema,
              components=rules_check.spec_components(),
              description="Changes name, message or variants, segment_id or rules, send_at "
                          "(null: back to draft) and holdout_percent; omitted fields are kept. "
                          "Logged as `campaign.edited`.",
              statuses={200: "The campaign", 400: "Bad body, INVALID_RULES or INVALID_TEMPLATE",
                        404: "No such campaign, or SEGMENT_NOT_FOUND", 409: _NOT_EDITABLE}),
    Operation(_ONE + "/launch", "post", "Launch a draft or scheduled campaign now", tags=_TAGS,
              response_schema=CampaignSchema,
              description="As a create without `draft` would have: the audience is requested "
                          "now. Launching a campaign this launched before answers it again.",
              statuses={200: "The campaign (status launching or later)",
                        404: "No such campaign",
                        409: "NOT_EDITABLE (cancelled) or ALREADY_LAUNCHED (at creation)"}),
    Operation(_ONE + "/test-send", "post", "Send the message to a few customers as a test",
              tags=_TAGS, request_schema=TestSendSchema, response_schema=TestSendResultSchema,
              description="Renders the message for each given customer (at most 10) and sends "
                          "it through the vendor marked `test`: no receipt, not in the "
                          "campaign's stats, messages or the frequency cap. Any status.",
              statuses={202: "Sent; the rendered texts", 400: "Bad body",
                        404: "No such campaign", 502: "VENDOR_UNAVAILABLE"}),
]

_edit = EditCampaignSchema()
_campaign = CampaignSchema()
_test_send = TestSendSchema()


@contextmanager
def _campaign_refusals(campaign_id: str):
    """No such campaign (404), or one whose status refuses the change (409)."""
    try:
        yield
    except CampaignNotFound:
        raise campaign_not_found(campaign_id) from None
    except lifecycle.NotEditable as error:
        raise ApiError(409, error.code, str(error), {"campaign_id": campaign_id,
                                                      "status": error.status}) from error


@blueprint.patch("/api/v1/campaigns/<campaign_id>")
def edit_campaign(campaign_id: str):
    deps = dependencies()
    body = _edit.load(json_body())
    with _campaign_refusals(campaign_id), campaign_input_errors():
        campaign = lifecycle.edit_campaign(
            campaign_id, body, datetime.now(UTC), store=deps.store,
            segment_rules=deps.segment_rules, event_log=deps.event_log,
            deliveries=deps.deliveries, correlation_id=g.get("correlation_id"))
    return jsonify(_campaign.dump(campaign))


@blueprint.post("/api/v1/campaigns/<campaign_id>/launch")
def launch_campaign(campaign_id: str):
    deps = dependencies()
    with _campaign_refusals(campaign_id):
        campaign = lifecycle.launch_campaign(
            campaign_id, datetime.now(UTC), store=deps.store, event_log=deps.event_log,
            deliveries=deps.deliveries, segment_rules=deps.segment_rules,
            correlation_id=g.get("correlation_id"))
    return jsonify(_campaign.dump(campaign))


@blueprint.post("/api/v1/campaigns/<campaign_id>/test-send")
def test_send(campaign_id: str):
    deps = dependencies()
    body = _test_send.load(json_body())
    try:
        result = testsend.send_test(campaign_id, body["to"], store=deps.store,
                                    segment_rules=deps.segment_rules, vendor=deps.vendor)
    except CampaignNotFound:
        raise campaign_not_found(campaign_id) from None
    except (requests.RequestException, VendorError) as error:
        raise ApiError(502, "VENDOR_UNAVAILABLE", "The vendor did not take the test message.",
                       {"error": type(error).__name__}) from error
    return jsonify(TestSendResultSchema().dump(result)), 202
