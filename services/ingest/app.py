"""The ingest web app: `create_app(config=None)` (gunicorn: `ingest.app:create_app()`)."""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from ingest import api, consent_api
from ingest.bootstrap import Dependencies
from ingest.config import IngestConfig
from ingest.schemas import record_schemas
from shared.http import (
    answer_database_down,
    health_blueprint,
    install_correlation_id,
    install_metrics,
    register_error_handlers,
)
from shared.logs import configure_logging
from shared.openapi import openapi_blueprint


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

    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.extensions["ingest"] = IngestContext(
        config, dependencies, {"customers": customer_schema, "orders": order_schema})
    register_error_handlers(app)
    install_correlation_id(app)
    answer_database_down(app)
    install_metrics(app, "ingest")

    app.register_blueprint(health_blueprint(dependencies.readiness))
    app.register_blueprint(api.blueprint)
    app.register_blueprint(consent_api.blueprint)
    app.register_blueprint(openapi_blueprint("Ingest", api.OPERATIONS + consent_api.OPERATIONS))
    return app
