"""Security headers on every answer the gateway gives: pages, static files, the API.

The web UI loads only its own scripts and styles (no inline `<script>`,
`<style>` or `style=""`; api.js sets widths through the CSSOM, which CSP does
not govern), talks only to this gateway, and may never be framed
(`frame-ancestors 'none'`, plus `X-Frame-Options` for old browsers), so a
click-jacking page cannot put a signed-in marketer's buttons under its own.
JSON answers get the strictest policy: nothing in them is ever rendered.
A route that sets its own policy (/docs) keeps it. Over HTTPS
(`secure_cookies`), `Strict-Transport-Security` tells the browser to stay there.
"""
from __future__ import annotations

from flask import Flask, Response

PAGE_POLICY = "; ".join((
    "default-src 'self'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self'", "font-src 'self'", "object-src 'none'", "base-uri 'none'",
    "form-action 'self'", "frame-ancestors 'none'"))
DATA_POLICY = "default-src 'none'; frame-ancestors 'none'"
HSTS = "max-age=31536000"


def install(app: Flask, *, https: bool) -> None:
    @app.after_request
    def _security_headers(response: Response) -> Response:
        headers = response.headers
        policy = PAGE_POLICY if response.mimetype == "text/html" else DATA_POLICY
        headers.setdefault("Content-Security-Policy", policy)
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        if https:
            headers.setdefault("Strict-Transport-Security", HSTS)
        return response
