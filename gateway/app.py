"""The gateway: the suite's only public HTTP entry.

Run with `gunicorn 'gateway.app:create_app()'` (port 8000 by default). Routes:
`/healthz`, `/readyz` (also under `/api/v1`, no key), `/openapi.json` (also
`/api/v1/openapi.json`), `/docs`, and `/api/v1/...` forwarded to the services
(gateway/routes.py), plus the web UI for marketers (gateway/web/: `/`, `/signin`,
`/segments`, `/campaigns`, `/static`).
"""
from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from gateway import allow, openapi, outage, proxy, web
from gateway.config import GatewayConfig
from gateway.resources import install, resources
from gateway.unsubscribe import install as install_unsubscribe_page
from gateway.web.config import WebConfig
from shared import mongo
from shared.backbone.broker import broker_reachable
from shared.http import (
    health_blueprint,
    install_correlation_id,
    install_metrics,
    register_error_handlers,
)
from shared.logs import configure_logging


def readiness_checks() -> dict[str, bool]:
    state = resources()
    return {
        "database": mongo.ping(state.mongo_client),
        "broker": broker_reachable(state.config.settings),
    }


def create_app(config: GatewayConfig | None = None, web_config: WebConfig | None = None) -> Flask:
    """Raises web.config.UnsafeConfiguration for settings refused in production
    (the development sign-in, a missing secret key): the gateway does not start."""
    config = config or GatewayConfig.from_env()
    web_config = web_config or WebConfig.from_env()
    configure_logging("gateway", config.settings.log_level)
    # /static is left to the web UI blueprint; the docs page serves its own files.
    app = Flask(__name__, static_folder=None)
    # Werkzeug enforces the limit on bodies without Content-Length (chunked) too.
    app.config["MAX_CONTENT_LENGTH"] = config.max_body_bytes
    app.json.sort_keys = False
    install(app, config)
    register_error_handlers(app)
    outage.install(app)  # the database down: 503 with Retry-After, never the 500 above
    install_correlation_id(app)
    # Public: /metrics only with CRM_METRICS_TOKEN, or outside production (shared.http).
    install_metrics(app, "gateway", public=True)
    health = health_blueprint(readiness_checks)
    app.register_blueprint(health)
    app.register_blueprint(health, url_prefix="/api/v1", name="api_health")
    app.register_blueprint(openapi.blueprint)
    allow.install(app)
    app.register_blueprint(proxy.blueprint)
    web.install(app, web_config)
    web.exempt(proxy.blueprint)
    install_unsubscribe_page(app)  # /u/<token>, the link in every message (no sign-in)
    if config.trusted_proxies > 0:
        hops = config.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    return app
