"""The receipts service's HTTP app: `create_app()` (e.g. `gunicorn 'receipts.app:create_app()'`).

The vendor's receipt webhook (api.py); the receipts are applied by
`python -m receipts.consumer`. Refuses to start in production with the
development webhook secret (config.InsecureConfig).
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import Flask

from receipts import api
from receipts.bootstrap import Dependencies
from receipts.config import ReceiptsConfig
from shared.http import service_app
from shared.logs import configure_logging


@dataclass(frozen=True)
class ReceiptsContext:
    config: ReceiptsConfig
    dependencies: object  # `event_log`, `readiness()`: bootstrap.Dependencies or fakes


def create_app(config: ReceiptsConfig | None = None, *, dependencies=None) -> Flask:
    config = config or ReceiptsConfig.from_env()
    configure_logging("receipts", config.settings.log_level)
    dependencies = dependencies or Dependencies(config)
    app = service_app(__name__, "receipts", dependencies.readiness, max_body_bytes=16 * 1024 * 1024)
    app.extensions["receipts"] = ReceiptsContext(config, dependencies)

    app.register_blueprint(api.blueprint)
    return app
