"""Who is signed in to the web UI, and how they got there.

Two ways in: Google (flask-dance), for the accounts WebConfig allows, and the
development sign-in, which exists only when `CRM_DEV_LOGIN=1` (and which
WebConfig refuses in production). Either way the session holds
`{"email", "name", "role", "via"}` under `user`; nothing else is trusted.

Google's answer is checked here, not by Google: the `hd` parameter sent with
the authorisation request is only a hint for the account chooser, so the
verified email (and its domain) from the ID token decide. Before that, the ID
token itself must be Google's, for us, and current (OpenID Connect Core
3.1.3.7): `iss` is Google, `aud` holds our client id (and `azp` is ours when
there are several audiences), `exp` has not passed and `iat` is not in the
future (both give CLOCK_SKEW_SECONDS of slack for clocks that differ), and
`email_verified` is true; otherwise nobody is signed in.

The token's signature is not checked, on purpose: flask-dance receives the
token straight from Google's token endpoint over TLS (certificate verified) in
exchange for our client secret, and Core 3.1.3.7 step 6 allows TLS server
validation in place of the signature check in exactly that case. Checking it
would also need Google's signing keys, fetched from Google at run time.
"""
from __future__ import annotations

import base64
import binascii
import json
import logging
import time
from functools import wraps

from flask import (Blueprint, abort, current_app, flash, redirect, render_template, request,
                   session, url_for)
from flask_dance.contrib.google import make_google_blueprint

from gateway.api_keys import DEFAULT_SCOPES, ApiKey
from gateway.web.config import ROLES, WebConfig

log = logging.getLogger(__name__)
blueprint = Blueprint("auth", __name__)

READ_SCOPES = frozenset({"customers:read", "segments:read", "campaigns:read"})
ROLE_SCOPES = {
    "admin": frozenset({"admin"}),
    "marketer": frozenset(DEFAULT_SCOPES),
    "viewer": READ_SCOPES,
}
GOOGLE_SCOPES = ["openid", "https://www.googleapis.com/auth/userinfo.email",
                 "https://www.googleapis.com/auth/userinfo.profile"]
GOOGLE_ISSUERS = frozenset({"accounts.google.com", "https://accounts.google.com"})
CLOCK_SKEW_SECONDS = 60


def web_config() -> WebConfig:
    return current_app.extensions["crm_web"]


def current_user() -> dict | None:
    user = session.get("user")
    if isinstance(user, dict) and user.get("role") in ROLES and user.get("email"):
        return user
    return None


def session_principal() -> ApiKey | None:
    """The signed-in user as the gateway's caller identity, with the role's scopes."""
    user = current_user()
    if user is None:
        return None
    return ApiKey(key_id=f"user:{user['email']}", name=user["email"],
                  scopes=ROLE_SCOPES[user["role"]])


def can_change(user: dict | None) -> bool:
    return bool(user) and user["role"] in ("admin", "marketer")


def sign_in_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if current_user() is None:
            return redirect(url_for("auth.sign_in", next=request.full_path.rstrip("?")))
        return view(*args, **kwargs)
    return wrapper


def _start_session(email: str, name: str, role: str, via: str) -> None:
    session.clear()  # a fresh session at sign-in: nothing from before carries over
    session["user"] = {"email": email.lower(), "name": name or email, "role": role, "via": via}
    session.permanent = True


def _safe_next(target: str | None) -> str:
    # Only paths on this site: an open redirect would let a link sign someone in elsewhere.
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("pages.dashboard")


@blueprint.get("/signin")
def sign_in():
    if current_user() is not None:
        return redirect(_safe_next(request.args.get("next")))
    config = web_config()
    return render_template("web/signin.html", config=config, roles=ROLES,
                           next=request.args.get("next", ""))


@blueprint.post("/signin/dev")
def dev_sign_in():
    config = web_config()
    if not config.dev_login:
        abort(404)
    email = request.form.get("email", "").strip()
    role = request.form.get("role", "")
    if "@" not in email or role not in ROLES:
        flash("Enter an email address and choose a role to sign in.", "error")
        return redirect(url_for("auth.sign_in"))
    _start_session(email, email.split("@")[0], role, "development")
    return redirect(_safe_next(request.form.get("next")))


@blueprint.post("/signout")
def sign_out():
    session.clear()
    flash("You are signed out.", "info")
    return redirect(url_for("auth.sign_in"))


@blueprint.get("/signin/google/done")
def google_done():
    """flask-dance lands here after it has checked the state and fetched the token."""
    google = current_app.blueprints.get("google")
    token = google.token if google is not None else None
    if google is not None:
        del google.token  # the UI never calls Google again; keep no token in the cookie
    claims = id_token_claims((token or {}).get("id_token", ""))
    config = web_config()
    problem = token_problem(claims, config.google_client_id, time.time())
    email = str(claims.get("email", "")).strip().lower()
    hosted = str(claims.get("hd", "")).lower()
    if problem is not None:
        log.warning("google sign-in refused", extra={"reason": problem})
        flash("Google's answer could not be confirmed, so you cannot sign in. Try again.",
              "error")
    elif not email or claims.get("email_verified") not in (True, "true"):
        flash("Google did not confirm an email address for this account, so you cannot sign in.",
              "error")
    elif not config.may_sign_in(email) or (hosted and hosted != email.rpartition("@")[2]):
        flash(f"{email} is not allowed to use this CRM. Ask an administrator to add it.", "error")
    else:
        _start_session(email, str(claims.get("name", "")), config.role_of(email), "google")
        return redirect(url_for("pages.dashboard"))
    return redirect(url_for("auth.sign_in"))


def token_problem(claims: dict, client_id: str, now: float) -> str | None:
    """Why this ID token signs nobody in (a short reason for the log), or None."""
    if claims.get("iss") not in GOOGLE_ISSUERS:
        return "issuer is not Google"
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if not client_id or client_id not in audiences:
        return "audience is not our client id"
    if len(audiences) > 1 and claims.get("azp") != client_id:
        return "authorized party is not our client id"
    expires, issued = claims.get("exp"), claims.get("iat", now)
    if not _is_time(expires) or expires + CLOCK_SKEW_SECONDS < now:
        return "expired"
    if not _is_time(issued) or issued - CLOCK_SKEW_SECONDS > now:
        return "issued in the future"
    return None


def _is_time(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def id_token_claims(id_token: str) -> dict:
    """The payload of a JWT, or {} when it is not one."""
    parts = id_token.split(".")
    if len(parts) != 3:
        return {}
    payload = parts[1] + "=" * (-len(parts[1]) % 4)
    try:
        claims = json.loads(base64.urlsafe_b64decode(payload))
    except (binascii.Error, ValueError):
        return {}
    return claims if isinstance(claims, dict) else {}


def google_blueprint(config: WebConfig):
    """flask-dance's Google blueprint (`/signin/google`), or None without credentials."""
    if not config.google_enabled:
        return None
    hint = sorted(config.allowed_domains)[0] if len(config.allowed_domains) == 1 else None
    return make_google_blueprint(
        client_id=config.google_client_id, client_secret=config.google_client_secret,
        scope=GOOGLE_SCOPES, redirect_to="auth.google_done", hosted_domain=hint,
        login_url="/google", authorized_url="/google/authorized")
