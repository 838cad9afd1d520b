"""The vendor's receipt callback body."""
from __future__ import annotations

import re
from datetime import datetime

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
    # The address will never take a message (INVALID_NUMBER): the customer is suppressed.
    permanent = fields.Boolean(load_default=False)
    metadata = fields.Dict(keys=fields.String(), allow_none=True, load_default=None)


class ReceiptBatchSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    receipts = fields.List(fields.Nested(ReceiptSchema), required=True,
                           validate=validate.Length(min=1))


_batch_schema = ReceiptBatchSchema()
_OPTIONAL_STRINGS = ("provider_message_id", "reason")
# The vendor's usual form; within it datetime.fromisoformat reads exactly what the schema's
# DateTime(format="iso") reads (same fields, fraction padded to microseconds, same offset).
_PLAIN_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}"
                         r"(\.[0-9]{1,6})?(Z|[+-][0-9]{2}:[0-9]{2})")


def load_receipt_batch(body) -> list[dict]:
    """The callback's receipts, exactly as `ReceiptBatchSchema().load(body)["receipts"]`.

    Marshmallow costs ~50 us per receipt, most of the webhook's CPU for a 1,000-receipt
    callback; a callback of plain, valid receipts is checked here directly (same
    regex and choices, `_PLAIN_TIME` times), and anything else goes through the schema,
    which accepts it identically or answers the usual 400 with its messages."""
    receipts = body.get("receipts") if isinstance(body, dict) else None
    if isinstance(receipts, list) and receipts:
        loaded = [_plain_receipt(receipt) for receipt in receipts]
        if None not in loaded:
            return loaded
    return _batch_schema.load(body)["receipts"]


def _plain_receipt(receipt) -> dict | None:
    """The receipt as the schema loads it, or None if it is not plainly valid."""
    if not isinstance(receipt, dict):
        return None
    message_id, status = receipt.get("message_id"), receipt.get("status")
    reported_at = receipt.get("reported_at")
    if not (isinstance(message_id, str) and MESSAGE_ID.match(message_id)
            and isinstance(status, str) and status in FINAL_STATUSES
            and isinstance(reported_at, str) and _PLAIN_TIME.fullmatch(reported_at)):
        return None
    optional = {name: receipt.get(name) for name in _OPTIONAL_STRINGS}
    metadata, permanent = receipt.get("metadata"), receipt.get("permanent", False)
    if not (all(value is None or isinstance(value, str) for value in optional.values())
            and (metadata is None or isinstance(metadata, dict)) and isinstance(permanent, bool)):
        return None
    try:
        moment = datetime.fromisoformat(reported_at)
    except ValueError:  # e.g. February 30th: the schema says why
        return None
    return {"message_id": message_id, "status": status, "reported_at": moment,
            **optional, "permanent": permanent,
            "metadata": None if metadata is None else dict(metadata)}
