"""`POST /api/v1/segments/parse`: an audience described in words, read into rules
(describe.py) for the marketer to check in the builder before previewing or
saving them. Nothing is saved or counted here."""
from __future__ import annotations

from datetime import UTC, datetime

from flask import Blueprint, current_app, jsonify
from marshmallow import RAISE, Schema, ValidationError, fields, validate, validates

from segments.describe.reader import MAX_DESCRIPTION_LENGTH, describe
from segments.rules.schema import DESCRIPTION as RULES_DESCRIPTION
from segments.rules.schema import rule_components, rule_ref
from segments.saved.schemas import flat_errors
from shared.http import ApiError, json_body
from shared.openapi import Operation

READER = "segments.describe_reader"
EXAMPLE_TEXT = "spent over INR 10,000 and visited at most 3 times"


class ParseRequestSchema(Schema):
    class Meta:
        unknown = RAISE

    text = fields.String(required=True, validate=validate.Length(min=1,
                                                                 max=MAX_DESCRIPTION_LENGTH),
                         metadata={"description": "The audience in plain English "
                                                   "(not only spaces).",
                                   "example": EXAMPLE_TEXT, "pattern": r"\S"})

    @validates("text")
    def _not_blank(self, value: str, **_kwargs) -> None:
        if not value.strip():
            raise ValidationError("must not be blank")


class UnreadSpanSchema(Schema):
    start = fields.Integer(required=True, metadata={"description": "Offset of the first "
                                                    "character (Python string index)."})
    end = fields.Integer(required=True, metadata={"description": "Offset just past the last."})
    text = fields.String(required=True, metadata={"example": "purple hair"})
    reason = fields.String(required=True, metadata={"example": "not understood"})


class ParseSchema(Schema):
    rules = fields.Raw(required=True, metadata={
        "allOf": [rule_ref()], "description": RULES_DESCRIPTION,
        "example": {"all": [{"field": "total_spend", "op": "gt", "value": 10000},
                            {"field": "visits", "op": "lte", "value": 3}]}})
    explained = fields.String(required=True, metadata={
        "description": "The rules said back in words, for the marketer to check.",
        "example": "total spend over ₹10,000 and at most 3 visits"})
    unparsed = fields.List(fields.Nested(UnreadSpanSchema), required=True,
                           metadata={"description": "Always empty in a 200."})
    read_by = fields.String(required=True, validate=validate.OneOf(["grammar", "model"]),
                            metadata={"description": "`grammar` (our own, deterministic) or "
                                                     "`model` (only when the operator set "
                                                     "CRM_AUDIENCE_LLM_URL)."})


OPERATIONS = [
    Operation("/api/v1/segments/parse", "post", "Read an audience described in words",
              tags=("segments",), request_schema=ParseRequestSchema, response_schema=ParseSchema,
              components=rule_components(),
              description="Amounts in INR, ₹, Rs, k and lakh (\"1.5L\"); over, at least, at "
                          "most, under, between; spent, orders, visits, active / inactive for, "
                          "last ordered, signed up, city (from / in), tagged, email domain, "
                          "name; in the last 30 days, for 3 months, since 1 Jan, before / "
                          "after a date; and, or, not, commas and parentheses. Dates without "
                          "a year are the latest such date not in the future. Nothing is "
                          "saved. Text the grammar cannot read is a 422 whose `details` carry "
                          "`unparsed`: the spans (start, end, text, reason).",
              statuses={200: "The rules, said back in words",
                        400: "Malformed body, or text empty or longer than 1,000 characters",
                        422: "Some words could not be read (UNREADABLE_AUDIENCE); "
                             "details.unparsed lists them"}),
]

audience_words = Blueprint("audience_words", __name__)


@audience_words.post("/api/v1/segments/parse")
def parse_description():
    raw = json_body()
    if not isinstance(raw, dict):
        raise ApiError(400, "INVALID_REQUEST", "The request body must be a JSON object.")
    try:
        body = ParseRequestSchema().load(raw)
    except ValidationError as error:
        raise ApiError(400, "INVALID_REQUEST", "The request body is not valid.",
                       flat_errors(error.messages)) from error
    clock = current_app.extensions.get("segments.clock", lambda: datetime.now(UTC))
    described = describe(body["text"], today=clock().date(),
                         reader=current_app.extensions.get(READER))
    if described["unparsed"]:
        words = ", ".join(repr(span["text"]) for span in described["unparsed"][:5])
        raise ApiError(422, "UNREADABLE_AUDIENCE", f"Some words could not be read: {words}.",
                       described)
    return jsonify(ParseSchema().dump(described))
