"""API keys, for admins only: create (the key is shown once), list, revoke.

Plain HTML forms (CSRF-protected like every form) over the gateway's own
ApiKeyStore; there is no public API for keys, only the CLI and this page.
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for

from gateway.api_keys import DEFAULT_SCOPES, SCOPES, validate_scopes
from gateway.resources import resources
from gateway.web.auth import current_user, sign_in_required

blueprint = Blueprint("admin", __name__, url_prefix="/admin")


def _admin_only() -> None:
    user = current_user()
    if user is None or user["role"] != "admin":
        abort(403)


def _page(new_key: str | None = None, problem: str | None = None, status: int = 200):
    keys = resources().key_store.list()
    return render_template("web/api_keys.html", page="api_keys", keys=keys, scopes=SCOPES,
                           default_scopes=DEFAULT_SCOPES, new_key=new_key, problem=problem,
                           default_rate_limit=resources().config.rate_limit), status


@blueprint.get("/api-keys")
@sign_in_required
def api_keys():
    _admin_only()
    return _page()


@blueprint.post("/api-keys")
@sign_in_required
def create_api_key():
    _admin_only()
    name = request.form.get("name", "").strip()
    chosen = request.form.getlist("scopes")
    if not name:
        return _page(problem="Give the key a name, such as the system using it.", status=400)
    if not chosen:
        return _page(problem="Choose at least one thing the key may do.", status=400)
    try:
        validate_scopes(chosen)
    except ValueError:
        return _page(problem="One of the chosen permissions is not known.", status=400)
    limit = request.form.get("rate_limit", "").strip()
    if limit and not limit.isdigit():
        return _page(problem="Calls per minute is a whole number, 0 for no limit.", status=400)
    created = resources().key_store.create(name, chosen, rate_limit=int(limit) if limit else None)
    # Rendered, never flashed: a flash would put the plaintext in the session cookie.
    return _page(new_key=created, status=201)


@blueprint.post("/api-keys/<key_id>/revoke")
@sign_in_required
def revoke_api_key(key_id: str):
    _admin_only()
    if resources().key_store.revoke(key_id):
        flash("The key is revoked; calls with it are refused from now on.", "info")
    else:
        flash("No key has this id.", "error")
    return redirect(url_for("admin.api_keys"))


@blueprint.errorhandler(403)
def _not_an_admin(_error):
    return render_template("web/message.html", title="Admins only",
                           text="Only administrators can manage API keys."), 403
