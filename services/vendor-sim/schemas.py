"""The vendor's send API bodies."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

SAFE_ID = validate.Regexp(r"^[A-Za-z0-9_.:-]{1,200}$",
                          error="Letters, digits and _ . : - only, at most 200.")


class OutgoingMessageSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    message_id = fields.String(required=True, validate=SAFE_ID)
    to = fields.String(required=True, validate=validate.Length(min=1, max=320))
    text = fields.String(required=True, validate=validate.Length(min=1, max=5000))
    # The recipient's one-click unsubscribe link (RFC 8058 List-Unsubscribe).
    unsubscribe_url = fields.String(load_default=None, allow_none=True,
                                    validate=validate.Length(max=2000))
    # Echoed back in the message's receipt, as vendors do with callback data.
    metadata = fields.Dict(keys=fields.String(), load_default=None, allow_none=True)
    # A test send (campaigns' POST .../test-send): sent, but no receipt is reported,
    # as a vendor's test mode does, so it never reaches a campaign's stats.
    test = fields.Boolean(load_default=False)


class SendRequestSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    messages = fields.List(fields.Nested(OutgoingMessageSchema), required=True,
                           validate=validate.Length(min=1))


class SendResultSchema(Schema):
    message_id = fields.String()
    provider_message_id = fields.String()
    status = fields.String()
