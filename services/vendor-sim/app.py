"""The vendor simulator's HTTP app: `create_app()` (gunicorn `'vendor_sim.app:create_app()'`,
ONE worker: see bootstrap.VendorContext).

A stand-in for an SMS/e-mail vendor: accepts batches of messages (idempotent
by our message_id, persisted), decides each one's fate (SENT or FAILED after a
random delay, by VENDOR_SIM_FAILURE_RATE / _MIN_DELAY_MS / _MAX_DELAY_MS /
_SEED) and reports receipts to RECEIPTS_WEBHOOK_URL, signed with CRM_WEBHOOK_SECRET.
"""
from __future__ import annotations

from flask import Flask
from vendor_sim import api
from vendor_sim.bootstrap import VendorContext
from vendor_sim.config import VendorConfig

from shared.http import service_app
from shared.logs import configure_logging


def create_app(config: VendorConfig | None = None, *, context=None) -> Flask:
    config = config or VendorConfig.from_env()
    configure_logging("vendor-sim", config.settings.log_level)
    context = context or VendorContext(config)
    app = service_app(__name__, "vendor_sim", context.readiness, max_body_bytes=16 * 1024 * 1024)
    app.extensions["vendor_sim"] = context

    app.register_blueprint(api.blueprint)
    return app
