"""The ingest web app: `create_app(config=None)` (gunicorn: `ingest.app:create_app()`)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from ingest import api, consent_api
from ingest.bootstrap import Dependencies
from ingest.config import IngestConfig
from ingest.schemas import record_schemas
from shared.http import service_app
from shared.logs import configure_logging
from shared.openapi import register_api


@dataclass(frozen=True)
class IngestContext:
    """What the routes read from `current_app.extensions["ingest"]`."""

    config: IngestConfig
    dependencies: object  # `store`, `event_log`, `readiness()`: bootstrap.Dependencies or fakes
    schemas: dict


def create_app(config: IngestConfig | None = None, *, dependencies=None) -> Flask:
    config = config or IngestConfig.from_env()
    configure_logging("ingest", config.settings.log_level)
    dependencies = dependencies or Dependencies(config)
    customer_schema, order_schema = record_schemas(config.clock_skew)

    app = service_app(__name__, "ingest", dependencies.readiness,
                      max_body_bytes=config.max_body_bytes)
    app.extensions["ingest"] = IngestContext(
        config, dependencies, {"customers": customer_schema, "orders": order_schema})
    register_api(app, "Ingest", (api.blueprint, consent_api.blueprint),
                 api.OPERATIONS + consent_api.OPERATIONS)
    return app
