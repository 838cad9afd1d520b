"""The vendor simulator's HTTP app: `create_app()` (e.g. `gunicorn 'vendor_sim.app:create_app()'`).

It starts small: health routes only, so the whole suite runs under `crm up`;
the simulated send API arrives with the campaign delivery issue. A vendor
depends on nothing of ours, so it is always ready once it answers.
"""
from __future__ import annotations

from flask import Flask

from shared.config import Settings
from shared.http import service_app
from shared.logs import configure_logging


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    configure_logging("vendor-sim", settings.log_level)
    return service_app(__name__, "vendor_sim", lambda: {"self": True})
