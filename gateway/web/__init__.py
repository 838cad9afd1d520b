"""The web UI for marketers, hosted by the gateway.

`install(app)` adds the session cookie settings, CSRF protection (flask-wtf) on
every form, the security headers of every answer (gateway/web/headers.py), the
sign-in routes (gateway/web/auth.py), the pages (gateway/web/pages.py) and
`/static`. The pages' JavaScript calls the same
`/api/v1` routes as API clients, with the session cookie instead of a key and
the CSRF token in `X-CSRFToken` (gateway/proxy.py checks both).
"""
from __future__ import annotations

from datetime import timedelta

from flask import Flask, render_template
from flask_wtf.csrf import CSRFError, CSRFProtect

from gateway.web import admin, auth, headers, pages
from gateway.web.config import WebConfig

csrf = CSRFProtect()
SESSION_HOURS = 12


def install(app: Flask, config: WebConfig | None = None) -> WebConfig:
    config = config or WebConfig.from_env()
    config.check()
    app.extensions["crm_web"] = config
    app.config.update(
        SECRET_KEY=config.secret_key,
        SESSION_COOKIE_NAME="crm_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.secure_cookies,
        PERMANENT_SESSION_LIFETIME=timedelta(hours=SESSION_HOURS),
        # The token lives as long as the session; a page left open all day still works.
        WTF_CSRF_TIME_LIMIT=None,
        WTF_CSRF_SSL_STRICT=config.secure_cookies,
    )
    csrf.init_app(app)
    headers.install(app, https=config.secure_cookies)
    app.register_blueprint(auth.blueprint)
    google = auth.google_blueprint(config)
    if google is not None:
        app.register_blueprint(google, url_prefix="/signin")
    app.register_blueprint(pages.blueprint)
    app.register_blueprint(admin.blueprint)

    @app.errorhandler(CSRFError)
    def _stale_form(_error):
        return render_template("web/expired.html"), 400

    @app.context_processor
    def _ui_globals():
        user = auth.current_user()
        # flask-wtf already offers `csrf_token()` to every template.
        return {"user": user, "can_change": auth.can_change(user), "dev_login": config.dev_login}

    return config


def exempt(blueprint) -> None:
    """Leave a blueprint's own CSRF checks to it (the API proxy checks sessions only)."""
    csrf.exempt(blueprint)
