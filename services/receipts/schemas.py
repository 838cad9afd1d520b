"""The vendor's receipt callback body."""
from __future__ import annotations

from marshmallow import EXCLUDE, Schema, fields, validate

from receipts.domain import FINAL_STATUSES, MESSAGE_ID


class ReceiptSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    message_id = fields.String(required=True, validate=validate.Regexp(
        MESSAGE_ID, error="Not one of our message ids (<campaign_id>.<attempt>.<n>)."))
    provider_message_id = fields.String(allow_none=True, load_default=None)
    status = fields.String(required=True, validate=validate.OneOf(FINAL_STATUSES))
    reported_at = fields.DateTime(required=True, format="iso")
    reason = fields.String(allow_none=True, load_default=None)
    metadata = fields.Dict(keys=fields.String(), allow_none=True, load_default=None)


class ReceiptBatchSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    receipts = fields.List(fields.Nested(ReceiptSchema), required=True,
                           validate=validate.Length(min=1))
