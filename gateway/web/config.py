"""The web UI's configuration, read once from the environment.

| variable | default | meaning |
|---|---|---|
| `CRM_ENV` | `development` | `production` turns on secure cookies and refuses unsafe settings |
| `CRM_SECRET_KEY` | a dev key (refused in production) | signs the session and CSRF tokens |
| `CRM_DEV_LOGIN` | off | `1` shows the labelled development sign-in (refused in production) |
| `GOOGLE_OAUTH_CLIENT_ID`, `GOOGLE_OAUTH_CLIENT_SECRET` | none | Google sign-in (off without) |
| `CRM_ALLOWED_EMAIL_DOMAINS` | none | comma list: Google accounts of these domains may sign in |
| `CRM_ALLOWED_EMAILS` | none | comma list: these Google accounts may sign in |
| `CRM_ADMIN_EMAILS`, `CRM_MARKETER_EMAILS`, `CRM_VIEWER_EMAILS` | none | roles by email |
| `CRM_DEFAULT_ROLE` | `viewer` | role of an allowed account listed in none of the above |
| `CRM_SECURE_COOKIES` | on in production | send the session cookie over HTTPS only |
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import os

ROLES = ("admin", "marketer", "viewer")
DEV_SECRET_KEY = "crm-development-only-secret-key"


class UnsafeConfiguration(RuntimeError):
    """A setting that must never reach production; the gateway refuses to start."""


def _list(env: Mapping[str, str], name: str) -> frozenset[str]:
    return frozenset(item.strip().lower() for item in env.get(name, "").split(",") if item.strip())


def _flag(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    value = env.get(name)
    if value is None or not value.strip():
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


@dataclass(frozen=True)
class WebConfig:
    production: bool = False
    secret_key: str = DEV_SECRET_KEY
    dev_login: bool = False
    google_client_id: str = ""
    google_client_secret: str = ""
    allowed_domains: frozenset[str] = frozenset()
    allowed_emails: frozenset[str] = frozenset()
    admin_emails: frozenset[str] = frozenset()
    marketer_emails: frozenset[str] = frozenset()
    viewer_emails: frozenset[str] = frozenset()
    default_role: str = "viewer"
    secure_cookies: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> WebConfig:
        env = os.environ if env is None else env
        production = env.get("CRM_ENV", "development").strip().lower() == "production"
        config = cls(
            production=production,
            secret_key=(env.get("CRM_SECRET_KEY", "").strip()
                        or ("" if production else DEV_SECRET_KEY)),
            dev_login=_flag(env, "CRM_DEV_LOGIN"),
            google_client_id=env.get("GOOGLE_OAUTH_CLIENT_ID", "").strip(),
            google_client_secret=env.get("GOOGLE_OAUTH_CLIENT_SECRET", "").strip(),
            allowed_domains=_list(env, "CRM_ALLOWED_EMAIL_DOMAINS"),
            allowed_emails=_list(env, "CRM_ALLOWED_EMAILS"),
            admin_emails=_list(env, "CRM_ADMIN_EMAILS"),
            marketer_emails=_list(env, "CRM_MARKETER_EMAILS"),
            viewer_emails=_list(env, "CRM_VIEWER_EMAILS"),
            default_role=env.get("CRM_DEFAULT_ROLE", "viewer").strip().lower() or "viewer",
            secure_cookies=_flag(env, "CRM_SECURE_COOKIES", default=production),
        )
        config.check()
        return config

    def check(self) -> None:
        """Refuse a configuration that would be unsafe where it runs."""
        if self.default_role not in ROLES:
            raise UnsafeConfiguration(f"CRM_DEFAULT_ROLE must be one of {', '.join(ROLES)}.")
        if not self.production:
            return
        if self.dev_login:
            raise UnsafeConfiguration(
                "CRM_DEV_LOGIN=1 lets anyone sign in as anyone; refused when CRM_ENV=production.")
        if not self.secret_key or self.secret_key == DEV_SECRET_KEY:
            raise UnsafeConfiguration("Set CRM_SECRET_KEY to a long random value in production.")

    @property
    def google_enabled(self) -> bool:
        return bool(self.google_client_id and self.google_client_secret)

    def may_sign_in(self, email: str) -> bool:
        """Access control on the verified email: an allowed address or domain."""
        email = email.strip().lower()
        domain = email.rpartition("@")[2]
        return email in self.allowed_emails or domain in self.allowed_domains

    def role_of(self, email: str) -> str:
        email = email.strip().lower()
        for role, emails in (("admin", self.admin_emails), ("marketer", self.marketer_emails),
                             ("viewer", self.viewer_emails)):
            if email in emails:
                return role
        return self.default_role
