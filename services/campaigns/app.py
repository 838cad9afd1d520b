"""The campaigns HTTP app: `create_app()` (`gunicorn 'campaigns.app:create_app()'`)."""
from __future__ import annotations

from flask import Flask

from campaigns import api
from campaigns.bootstrap import Dependencies
from campaigns.config import CampaignsConfig
from campaigns.lifecycle import api as lifecycle_api
from campaigns.recipients import cap_api, preflight_api
from campaigns.results import api as results_api
from shared.http import service_app
from shared.logs import configure_logging
from shared.openapi import register_api


def create_app(config: CampaignsConfig | None = None, *, dependencies=None) -> Flask:
    """`dependencies`: anything with `config`, `store`, `segment_rules`, `deliveries`,
    `event_log` and `readiness()` (bootstrap.Dependencies, or fakes in tests)."""
    config = config or CampaignsConfig.from_env()
    configure_logging("campaigns", config.settings.log_level)
    dependencies = dependencies or Dependencies(config)
    app = service_app(__name__, "campaigns", dependencies.readiness)
    app.extensions["campaigns"] = dependencies

    register_api(app, "Campaigns",
                 (api.blueprint, cap_api.blueprint, results_api.blueprint,
                  lifecycle_api.blueprint, preflight_api.blueprint),
                 api.OPERATIONS + cap_api.OPERATIONS + results_api.OPERATIONS
                 + lifecycle_api.OPERATIONS + preflight_api.OPERATIONS)
    return app
