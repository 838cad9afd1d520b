"""The segments service's HTTP app: `create_app()` (e.g. `gunicorn 'segments.app:create_app()'`).

Run it as ONE gunicorn worker with threads: the audience index lives in the
process's memory (audience.py), loaded once per process.
"""
from __future__ import annotations

from flask import Flask

from segments import bootstrap
from segments.audience import check_api, membership_api
from segments.config import SegmentsConfig
from segments.customers import api as customers_api
from segments.customers import suppressions as suppressions_api
from segments.describe import api as describe_api
from segments.saved import api as saved_api
from segments.saved import history_api, members_csv
from shared.backbone.broker import broker_reachable
from shared.http import (
    answer_database_down,
    health_blueprint,
    install_correlation_id,
    install_metrics,
    register_error_handlers,
)
from shared.logs import configure_logging
from shared.metrics import AUDIENCE_INDEX_SIZE
from shared.openapi import register_api


def readiness(database, audience, config: SegmentsConfig):
    """`/readyz`: 503 while a dependency is down, while the audience index is still
    loading (with its progress in the body) or before it consumes profile updates
    and audience requests."""
    return health_blueprint(
        lambda: {"database": database.reachable(), "broker": broker_reachable(config.settings),
                 "audience_index": audience.ready, "consuming": audience.serving},
        details=lambda: {"audience_index": audience.status()},
        not_ready={"audience_index": ("INDEX_LOADING", "The audience index is still loading."),
                   "consuming": ("STARTING", "The audience index is starting its consumers.")})


def create_app(config: SegmentsConfig | None = None, *, database=None, audience=None) -> Flask:
    """`database` / `audience`: fakes for tests (by default what segments.bootstrap
    builds). The index starts loading at once when `config.index_autostart`."""
    config = config or SegmentsConfig.from_env()
    configure_logging("segments", config.settings.log_level)
    app = Flask(__name__)
    app.json.sort_keys = False
    database = database or bootstrap.segments_database(config)
    audience = audience or bootstrap.audience_holder(config, database)
    app.extensions["segments.config"] = config
    app.extensions["segments.database"] = database
    app.extensions["segments.audience"] = audience
    app.extensions[describe_api.READER] = bootstrap.audience_reader(config)
    register_error_handlers(app)
    answer_database_down(app)
    install_correlation_id(app)
    install_metrics(app, "segments")

    @app.before_request
    def _index_size():
        # At every request, so a scrape of /metrics reads this replica's index as it is now.
        index = getattr(audience, "index", None)
        if index is not None:
            AUDIENCE_INDEX_SIZE.set(len(index))

    app.register_blueprint(readiness(database, audience, config))
    register_api(app, "Segments",
                 (customers_api.customers, suppressions_api.suppressions, saved_api.segments,
                  describe_api.audience_words, membership_api.membership, history_api.sizes,
                  members_csv.members_csv, check_api.audience_check),
                 customers_api.OPERATIONS + suppressions_api.OPERATIONS + saved_api.OPERATIONS
                 + describe_api.OPERATIONS + membership_api.OPERATIONS + history_api.OPERATIONS
                 + members_csv.OPERATIONS + check_api.OPERATIONS)
    if config.index_autostart:
        # Once per process: also after a fork (gunicorn --preload), on the first request.
        audience.ensure_started()
        app.before_request(audience.ensure_started)
        daily_sizes = bootstrap.daily_sizes(config, database, audience)
        daily_sizes.ensure_started()
        app.before_request(daily_sizes.ensure_started)
    return app


if __name__ == "__main__":  # development server only
    from urllib.parse import urlsplit

    settings = SegmentsConfig.from_env().settings
    create_app().run(host="127.0.0.1", port=urlsplit(settings.service_urls["segments"]).port,
                     threaded=True)
