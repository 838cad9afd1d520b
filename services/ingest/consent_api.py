"""Consent and suppression changes (API.md, Consent and suppression), as events in ingest's log.

- `POST /api/v1/customers/<id>/unsubscribe` and `.../subscribe`: a
  `customer.consent_changed` (source "api"); 200 with the profile as it is with
  the change (the projection follows within a second).
- `POST /internal/v1/unsubscribe-link {"customer_external_id", "campaign_id"}`:
  the same from a message's unsubscribe link (source "link"); only the gateway's
  `/u/<token>` calls it, after checking the token's signature. Not under `/api/v1`,
  so no client reaches it through the gateway.
- `DELETE /api/v1/suppressions/<id>`: a `customer.suppression_lifted`; 204.

Ingest owns these because it owns the log that `crm replay profiles` folds:
a replay rebuilds every consent change with the customer records.
"""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, g, jsonify
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from ingest import handlers
from ingest.schemas import MAX_ID_LENGTH
from shared.http import ApiError, json_body
from shared.openapi import Operation


blueprint = Blueprint("ingest_consent", __name__)


class UtcDateTime(fields.DateTime):
    """`2024-03-01T10:00:00.000Z`, as every answer of the API writes a time."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is None:
            return None
        moment = datetime.fromisoformat(value) if isinstance(value, str) else value
        moment = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC)
        return (f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
                f"{moment.minute:02d}:{moment.second:02d}.{moment.microsecond // 1000:03d}Z")


class ConsentProfileSchema(Schema):
    """The customer's profile (as `GET /api/v1/customers/<id>` shows it) after the change;
    fields are absent for a customer accepted but not projected yet."""

    external_id = fields.String(required=True)
    name = fields.String(allow_none=True)
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    city = fields.String(allow_none=True)
    tags = fields.List(fields.String())
    signed_up_at = UtcDateTime(allow_none=True)
    visits = fields.Integer(allow_none=True)
    last_visit_at = UtcDateTime(allow_none=True)
    total_spend = fields.Float()
    order_count = fields.Integer()
    last_order_at = UtcDateTime(allow_none=True)
    last_active_at = UtcDateTime(allow_none=True)
    marketing_consent = fields.String(required=True, metadata={
        "enum": ["subscribed", "unsubscribed"]})
    marketing_consent_at = UtcDateTime(required=True, metadata={
        "description": "When this change happened."})
    suppressed = fields.Boolean()
    suppression_reason = fields.String(allow_none=True)
    suppressed_since = UtcDateTime(allow_none=True)
    suppression_campaign_id = fields.String(allow_none=True)


class LinkUnsubscribeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    customer_external_id = fields.String(required=True,
                                         validate=validate.Length(min=1, max=MAX_ID_LENGTH))
    campaign_id = fields.String(required=True, validate=validate.Length(min=1, max=64))


_profile_schema = ConsentProfileSchema()
_link_schema = LinkUnsubscribeSchema()
_TAGS = ("customers",)
_NOT_FOUND = "No customer with this external_id was accepted (CUSTOMER_NOT_FOUND)."
OPERATIONS = [
    Operation("/api/v1/customers/{external_id}/unsubscribe", "post", "Unsubscribe a customer",
              response_schema=ConsentProfileSchema, tags=_TAGS,
              description="Sets marketing_consent to unsubscribed (an event in ingest's log): "
                          "campaigns launched from now on leave the customer out "
                          "(`excluded.unsubscribed`). Needs scope customers:write.",
              statuses={200: "The profile with the change", 404: _NOT_FOUND,
                        503: "The database is not reachable."}),
    Operation("/api/v1/customers/{external_id}/subscribe", "post", "Subscribe a customer again",
              response_schema=ConsentProfileSchema, tags=_TAGS,
              description="Sets marketing_consent to subscribed. Needs scope customers:write.",
              statuses={200: "The profile with the change", 404: _NOT_FOUND,
                        503: "The database is not reachable."}),
    Operation("/api/v1/suppressions/{external_id}", "delete", "Lift a suppression",
              tags=_TAGS,
              description="Takes the customer off the suppression list (until the vendor "
                          "reports another permanent failure). Needs scope customers:write.",
              statuses={204: "Lifted", 404: "No such customer, or not suppressed "
                                            "(CUSTOMER_NOT_FOUND, SUPPRESSION_NOT_FOUND)",
                        503: "The database is not reachable."}),
]


def _dependencies():
    return current_app.extensions["ingest"].dependencies


def _change(external_id: str, consent: str, source: str = "api", campaign_id: str | None = None):
    dependencies = _dependencies()
    try:
        profile = handlers.change_consent(
            external_id, consent, source=source, campaign_id=campaign_id,
            store=dependencies.store, event_log=dependencies.event_log,
            profiles=dependencies.profiles, correlation_id=g.correlation_id)
    except handlers.CustomerNotFound as error:
        raise ApiError(404, "CUSTOMER_NOT_FOUND", _NOT_FOUND.removesuffix(" (CUSTOMER_NOT_FOUND)."),
                       {"external_id": external_id}) from error
    return jsonify(_profile_schema.dump(profile))


@blueprint.post("/api/v1/customers/<path:external_id>/unsubscribe")
def unsubscribe(external_id: str):
    return _change(external_id, "unsubscribed")


@blueprint.post("/api/v1/customers/<path:external_id>/subscribe")
def subscribe(external_id: str):
    return _change(external_id, "subscribed")


@blueprint.post("/internal/v1/unsubscribe-link")
def unsubscribe_by_link():
    try:
        body = _link_schema.load(json_body())
    except ValidationError as error:
        raise ApiError(400, "INVALID_BODY", "customer_external_id and campaign_id are required.",
                       {"fields": error.messages}) from error
    return _change(body["customer_external_id"], "unsubscribed", "link", body["campaign_id"])


@blueprint.delete("/api/v1/suppressions/<path:external_id>")
def lift_suppression(external_id: str):
    dependencies = _dependencies()
    try:
        handlers.lift_suppression(external_id, store=dependencies.store,
                                  event_log=dependencies.event_log,
                                  profiles=dependencies.profiles,
                                  correlation_id=g.correlation_id)
    except handlers.CustomerNotFound as error:
        raise ApiError(404, "CUSTOMER_NOT_FOUND", "No customer with this external_id.",
                       {"external_id": external_id}) from error
    except handlers.NotSuppressed as error:
        raise ApiError(404, "SUPPRESSION_NOT_FOUND", "This customer is not suppressed.",
                       {"external_id": external_id}) from error
    return "", 204
