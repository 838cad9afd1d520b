"""The vendor's receipt webhook: `POST /webhooks/vendor/receipts`.

401 unless signed with the shared secret within the freshness window; 400 for
a body that is not a batch of our receipts; 413 past `max_receipts`; 200 once
the callback's `deliveries.reported` event is durably logged (applied later
by the receipts consumer).
"""
from __future__ import annotations

import logging
import time

from flask import Blueprint, current_app, g, jsonify, request

from receipts import handlers
from receipts.domain import BadSignature, verify_signature
from receipts.schemas import load_receipt_batch
from shared.http import ApiError, json_body
from shared.logs import log_context

log = logging.getLogger(__name__)
blueprint = Blueprint("receipts_webhook", __name__)


@blueprint.post("/webhooks/vendor/receipts")
def vendor_receipts():
    context = current_app.extensions["receipts"]
    config = context.config
    try:
        verify_signature(config.webhook_secret, request.headers.get("X-Vendor-Signature"),
                         request.get_data(cache=True), now=time.time(),
                         freshness_seconds=config.freshness_seconds)
    except BadSignature as error:
        raise ApiError(401, "BAD_SIGNATURE", "The receipt callback is not validly signed.",
                       {"reason": str(error)}) from error
    body = json_body()
    if isinstance(body, dict) and isinstance(body.get("receipts"), list) \
            and len(body["receipts"]) > config.max_receipts:
        raise ApiError(413, "BATCH_TOO_LARGE",
                       f"At most {config.max_receipts} receipts per callback.")
    receipts = load_receipt_batch(body)
    reported = handlers.report_receipts(receipts, event_log=context.dependencies.event_log,
                                        correlation_id=g.correlation_id)
    with log_context(correlation_id=g.correlation_id):
        log.info("receipts reported", extra={"receipts": len(receipts), "distinct": reported})
    return jsonify({"accepted": len(receipts)}), 200
