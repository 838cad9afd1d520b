"""The campaigns service's HTTP app: `create_app()` (e.g. `gunicorn 'campaigns.app:create_app()'`).

It starts small: health routes only, so the whole suite runs under `crm up`;
its API arrives with the campaign delivery issue.
"""
from __future__ import annotations

from flask import Flask

from shared.config import Settings
from shared.http import database_and_broker_checks, service_app
from shared.logs import configure_logging


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    configure_logging("campaigns", settings.log_level)
    return service_app(__name__, "campaigns", database_and_broker_checks(settings))
