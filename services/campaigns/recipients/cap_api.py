"""`GET` / `PUT /api/v1/settings/frequency-cap` (API.md, Frequency cap; PUT needs scope admin,
which the gateway checks). The cap holds for campaigns launched after the change."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates_schema

from campaigns.recipients.frequency_cap import MAX_PER_DAYS, Cap
from shared.http import ApiError, json_body
from shared.openapi import Operation

blueprint = Blueprint("frequency_cap", __name__)
_PATH = "/api/v1/settings/frequency-cap"


class WholeNumber(fields.Integer):
    """A JSON integer: not true/false, not 2.5, not "3"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class FrequencyCapSchema(Schema):
    class Meta:
        unknown = RAISE

    max_messages = WholeNumber(required=True, allow_none=True, validate=validate.Range(min=1),
                               metadata={"description": "Messages a customer may get from "
                                                        "campaigns in `per_days` days; null: "
                                                        "no cap (the default)."})
    per_days = WholeNumber(load_default=7, validate=validate.Range(min=1, max=MAX_PER_DAYS),
                           metadata={"description": f"The trailing window, 1 to {MAX_PER_DAYS} "
                                                    "days (7 when omitted)."})

    @validates_schema
    def _window_with_a_cap(self, data: dict, **_kwargs) -> None:
        if data.get("per_days") is None:
            raise ValidationError("must be a whole number of days", "per_days")


_schema = FrequencyCapSchema()
_TAGS = ("campaigns",)
OPERATIONS = [
    Operation(_PATH, "get", "The frequency cap", response_schema=FrequencyCapSchema, tags=_TAGS,
              description="How many messages a customer may get from campaigns launched in the "
                          "trailing `per_days`; customers at it are excluded as `capped`."),
    Operation(_PATH, "put", "Set or remove the frequency cap", request_schema=FrequencyCapSchema,
              response_schema=FrequencyCapSchema, tags=_TAGS,
              description="Needs scope admin. Exact when campaigns launch at the same moment: "
                          "every launch is decided by the campaigns dispatcher, one chunk after "
                          "another. A campaign created with ignore_frequency_cap is not capped, "
                          "but its messages count.",
              statuses={200: "The cap now in force",
                        400: "Out of range or not whole numbers (INVALID_BODY)"}),
]


def _store():
    return current_app.extensions["campaigns"].cap_store


def _shown(cap: Cap) -> dict:
    return {"max_messages": cap.max_messages, "per_days": cap.per_days}


@blueprint.get(_PATH)
def get_frequency_cap():
    return jsonify(_shown(_store().frequency_cap()))


@blueprint.put(_PATH)
def put_frequency_cap():
    try:
        body = _schema.load(json_body())
    except ValidationError as error:
        raise ApiError(400, "INVALID_BODY", "max_messages must be a whole number from 1 (or null "
                       f"for no cap) and per_days a whole number from 1 to {MAX_PER_DAYS}.",
                       {"fields": error.messages}) from error
    cap = Cap(body["max_messages"], body["per_days"])
    _store().set_frequency_cap(cap, datetime.now(UTC))
    return jsonify(_shown(cap))
