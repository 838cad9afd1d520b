"""`/u/<token>`: the unsubscribe link of every message (API.md, Consent and suppression).

No sign-in: the signed token (shared.unsubscribe) is the proof. `GET` shows a
page with one button; `POST` unsubscribes, from that button or one-click as
RFC 8058 asks (`List-Unsubscribe-Post: List-Unsubscribe=One-Click`; mail
clients post without a cookie or CSRF token, so the blueprint is CSRF-exempt).
The change is ingest's `POST /internal/v1/unsubscribe-link`, which logs a
`customer.consent_changed` naming the campaign, so the consent and the
message's log entry record when. A tampered or unknown token is a 404 page;
a GET never changes anything (link scanners open links).
"""
from __future__ import annotations

import json
import logging

import requests
from flask import Blueprint, current_app, g, render_template

from gateway import web
from gateway.resources import resources
from shared.unsubscribe import UnsubscribeLinks

log = logging.getLogger(__name__)
blueprint = Blueprint("unsubscribe", __name__)
EXTENSION = "crm_unsubscribe_links"


def install(app, links: UnsubscribeLinks | None = None) -> None:
    """Serve `/u/<token>` (after web.install: the page takes no CSRF token)."""
    app.extensions[EXTENSION] = links or UnsubscribeLinks.from_env()
    app.register_blueprint(blueprint)
    web.exempt(blueprint)


def _page(state: str, status: int):
    titles = {"ask": "Unsubscribe from our messages", "done": "You are unsubscribed",
              "unavailable": "Please try again", "invalid": "This link is not valid"}
    response = current_app.make_response(
        (render_template("unsubscribe.html", state=state, title=titles[state]), status))
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _read(token: str) -> tuple[str, str] | None:
    return current_app.extensions[EXTENSION].read(token)


@blueprint.get("/u/<path:token>")
def ask(token: str):
    return _page("ask", 200) if _read(token) else _page("invalid", 404)


@blueprint.post("/u/<path:token>")
def unsubscribe(token: str):
    named = _read(token)
    if named is None:
        return _page("invalid", 404)
    campaign_id, customer = named
    state = resources()
    url = state.config.settings.service_urls["ingest"] + "/internal/v1/unsubscribe-link"
    try:
        answer = state.http.request(
            "POST", url, data=json.dumps({"customer_external_id": customer,
                                          "campaign_id": campaign_id}),
            headers={"Content-Type": "application/json",
                     "X-Correlation-Id": g.get("correlation_id") or ""},
            allow_redirects=False,
            timeout=(state.config.connect_timeout, state.config.read_timeout))
    except requests.RequestException as error:
        log.warning("unsubscribe link: ingest unavailable", extra={"error": type(error).__name__})
        return _page("unavailable", 503)
    if answer.status_code == 404:
        return _page("invalid", 404)  # a signed token of a customer we no longer know
    if answer.status_code != 200:
        log.warning("unsubscribe link refused", extra={"status": answer.status_code})
        return _page("unavailable", 503)
    log.info("unsubscribed by link", extra={"campaign_id": campaign_id})
    return _page("done", 200)
