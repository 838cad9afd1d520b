"""The segments service's HTTP app: `create_app()` (e.g. `gunicorn 'segments.app:create_app()'`)."""
from __future__ import annotations

from flask import Flask

from segments import api
from segments.config import SegmentsConfig
from segments.store import SegmentsDatabase
from shared.broker import broker_reachable
from shared.http import health_blueprint, install_correlation_id, register_error_handlers
from shared.logs import configure_logging
from shared.openapi import openapi_blueprint


def create_app(config: SegmentsConfig | None = None) -> Flask:
    config = config or SegmentsConfig.from_env()
    configure_logging("segments", config.settings.log_level)
    app = Flask(__name__)
    app.json.sort_keys = False
    database = SegmentsDatabase(config.settings, config.database_name)
    app.extensions["segments.config"] = config
    app.extensions["segments.database"] = database
    register_error_handlers(app)
    install_correlation_id(app)
    app.register_blueprint(health_blueprint(lambda: {
        "database": database.reachable(),
        "broker": broker_reachable(config.settings),
    }))
    app.register_blueprint(api.customers)
    app.register_blueprint(openapi_blueprint("Segments", api.OPERATIONS))
    return app


if __name__ == "__main__":  # development server only
    from urllib.parse import urlsplit

    settings = SegmentsConfig.from_env().settings
    create_app().run(host="127.0.0.1", port=urlsplit(settings.service_urls["segments"]).port)
