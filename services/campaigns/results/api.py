"""Holdout, results and export routes (`/api/v1/campaigns/<id>/holdout|results|*.csv`)."""
from __future__ import annotations

from flask import Blueprint, Response, jsonify, request, stream_with_context

from campaigns.api import campaign_not_found, dependencies
from campaigns.delivery.message_log import BadCursor
from campaigns.domain import CampaignNotFound
from campaigns.recipients import holdout
from campaigns.results import exports
from campaigns.results import report as results
from campaigns.results.schemas import (
    CampaignResultsSchema,
    HeldOutSchema,
    HoldoutQuerySchema,
    ResultsQuerySchema,
)
from shared.csv_export import CONTENT_TYPE, csv_lines
from shared.http import ApiError
from shared.openapi import Operation, page_schema

blueprint = Blueprint("campaign_results", __name__)

_ONE = "/api/v1/campaigns/{campaign_id}"
_TAGS = ("campaigns",)
_CSV = {"type": "string", "description": "RFC 4180 CSV with a heading row"}
OPERATIONS = [
    Operation(_ONE + "/holdout", "get", "The campaign's held-out customers", tags=_TAGS,
              query_schema=HoldoutQuerySchema, response_schema=page_schema(HeldOutSchema),
              description="Customers the audience matched but the holdout kept from any "
                          "message (`holdout_percent` at create), in audience order. A page "
                          "may be short while the audience is still arriving.",
              statuses={200: "A page", 400: "Bad query or cursor", 404: "No such campaign"}),
    Operation(_ONE + "/results", "get", "What the campaign caused: conversion and revenue "
              "per group, lift over the holdout", tags=_TAGS,
              query_schema=ResultsQuerySchema, response_schema=CampaignResultsSchema,
              description="For the holdout and each variant: customers (everyone assigned, "
                          "whatever their message's status), converted (customers with an "
                          "order placed after launch and within `window_days`), orders, "
                          "revenue and their rates per customer. For each variant "
                          "`lift_vs_holdout`: the difference in conversion rate with a 95% "
                          "Newcombe hybrid score interval and in revenue per customer with a "
                          "95% Welch interval, and the relative lift. A group under 10 "
                          "customers (or no holdout) gives `enough_data: false` and no "
                          "interval. Orders are attributed within seconds of being accepted.",
              statuses={200: "The results", 400: "window_days outside 1..90",
                        404: "No such campaign", 409: "NOT_LAUNCHED"}),
    Operation(_ONE + "/messages.csv", "get", "The communications log as CSV", tags=_TAGS,
              description="Every recipient once, in audience order, streamed (text/csv): "
                          "customer_external_id, variant, message_id, attempt, to, text, "
                          "status, queued_at. Cells starting with =, +, - or @ get a "
                          "leading apostrophe (no formula runs when it is opened).",
              response_schema=_CSV, media_type="text/csv",
              statuses={200: "The CSV", 404: "No such campaign"}),
    Operation(_ONE + "/results.csv", "get", "The results as CSV", tags=_TAGS,
              query_schema=ResultsQuerySchema,
              description="One row per group (holdout first) with the columns of the JSON "
                          "results, lifts and their 95% intervals flattened (text/csv).",
              response_schema=_CSV, media_type="text/csv",
              statuses={200: "The CSV", 400: "window_days outside 1..90",
                        404: "No such campaign", 409: "NOT_LAUNCHED"}),
]

_holdout_query = HoldoutQuerySchema()
_held_out = HeldOutSchema()
_results_query = ResultsQuerySchema()
_results = CampaignResultsSchema()


def iso_utc(moment) -> str | None:
    """ISO-8601 UTC with milliseconds and Z (a naive time from the database is UTC)."""
    if moment is None:
        return None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


@blueprint.get("/api/v1/campaigns/<campaign_id>/holdout")
def list_held_out(campaign_id: str):
    query = _holdout_query.load(request.args)
    try:
        items, next_cursor = holdout.list_held_out(campaign_id, query["cursor"] or None,
                                                   query["limit"], store=dependencies().store)
    except CampaignNotFound:
        raise campaign_not_found(campaign_id) from None
    except BadCursor:
        raise ApiError(400, "INVALID_CURSOR", "The cursor is not one this API gave out.",
                       {"cursor": query["cursor"]}) from None
    items = [{**item, "held_out_at": iso_utc(item["held_out_at"])} for item in items]
    return jsonify({"items": _held_out.dump(items, many=True), "next_cursor": next_cursor})


@blueprint.get("/api/v1/campaigns/<campaign_id>/results")
def get_results(campaign_id: str):
    return jsonify(_results.dump(_read_results(campaign_id)))


def _read_results(campaign_id: str) -> dict:
    """The results with their times as the API writes them (404 / 409 as ApiError)."""
    query = _results_query.load(request.args)
    deps = dependencies()
    try:
        answer = results.campaign_results(campaign_id, query["window_days"], store=deps.store,
                                          attribution_store=deps.attribution_store)
    except CampaignNotFound:
        raise campaign_not_found(campaign_id) from None
    except results.NotLaunched as error:
        raise ApiError(409, "NOT_LAUNCHED", "The campaign has not been launched, so nothing "
                       "can be attributed to it.", {"status": str(error)}) from None
    return {**answer, **{key: iso_utc(answer[key]) for key in
                         ("launched_at", "window_ends_at", "orders_attributed_at")}}


def _csv(lines, filename: str) -> Response:
    return Response(stream_with_context(lines), content_type=CONTENT_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@blueprint.get("/api/v1/campaigns/<campaign_id>/messages.csv")
def messages_csv(campaign_id: str):
    deps = dependencies()
    if deps.store.find(campaign_id) is None:
        raise campaign_not_found(campaign_id)
    rows = exports.message_rows(campaign_id, store=deps.store, deliveries=deps.deliveries,
                                iso=iso_utc)
    return _csv(csv_lines(rows), f"campaign-{campaign_id}-messages.csv")


@blueprint.get("/api/v1/campaigns/<campaign_id>/results.csv")
def results_csv(campaign_id: str):
    answer = _read_results(campaign_id)
    return _csv(csv_lines(results.results_rows(answer)),
                f"campaign-{campaign_id}-results-{answer['window_days']}d.csv")
