"""Which service owns which public `/api/v1` path, and the scope each call needs.

The table is data: adding an endpoint to a service needs no gateway code when
it falls under a subtree already listed (`**`). Patterns are split on `/`:
a literal segment matches itself, `*` matches exactly one segment and `**`
(last only) matches the rest of the path, including nothing.
Paths are forwarded unchanged; the service answers its own 404s inside a
subtree it owns.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

READ = ("GET", "HEAD")
WRITE = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Route:
    methods: tuple[str, ...]
    pattern: str
    service: str
    scope: str

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.pattern.strip("/").split("/"))


ROUTES: tuple[Route, ...] = (
    #     methods    pattern                       service      scope
    Route(("POST",), "/api/v1/customers",          "ingest",    "customers:write"),
    Route(("POST",), "/api/v1/orders",             "ingest",    "customers:write"),
    Route(READ,      "/api/v1/customers",          "segments",  "customers:read"),
    Route(READ,      "/api/v1/customers/*",        "segments",  "customers:read"),
    Route(READ,      "/api/v1/customers/*/orders", "segments",  "customers:read"),
    Route(("POST",), "/api/v1/customers/*/unsubscribe", "ingest", "customers:write"),
    Route(("POST",), "/api/v1/customers/*/subscribe",  "ingest",  "customers:write"),
    Route(READ,      "/api/v1/suppressions",       "segments",  "customers:read"),
    Route(("DELETE",), "/api/v1/suppressions/*",   "ingest",    "customers:write"),
    Route(READ,      "/api/v1/overview",           "segments",  "customers:read"),
    # Why a customer is in an audience shows the customer's values: customers:read.
    Route(READ,      "/api/v1/segments/*/explain/*", "segments", "customers:read"),
    Route(("POST",), "/api/v1/segments/explain",   "segments",  "customers:read"),
    Route(READ,      "/api/v1/segments/**",        "segments",  "segments:read"),
    Route(WRITE,     "/api/v1/segments/**",        "segments",  "segments:write"),
    # Saves nothing: a create's body only read (like segments/explain above).
    Route(("POST",), "/api/v1/campaigns/preflight", "campaigns", "campaigns:read"),
    Route(READ,      "/api/v1/campaigns/**",       "campaigns", "campaigns:read"),
    Route(WRITE,     "/api/v1/campaigns/**",       "campaigns", "campaigns:write"),
    Route(READ,      "/api/v1/settings/frequency-cap", "campaigns", "campaigns:read"),
    Route(("PUT",),  "/api/v1/settings/frequency-cap", "campaigns", "admin"),
)


class RouteNotFound(Exception):
    """No service owns this path."""


class MethodNotAllowed(Exception):
    def __init__(self, allowed: Sequence[str]):
        super().__init__(", ".join(allowed))
        self.allowed = list(allowed)


def split_path(path: str) -> list[str]:
    """The path's segments; raises RouteNotFound for `.`/`..`, which a client
    could otherwise use to reach a path the table never granted."""
    segments = [s for s in path.strip("/").split("/")]
    if any(s in (".", "..") for s in segments):
        raise RouteNotFound(path)
    return segments


def pattern_matches(pattern: Sequence[str], segments: Sequence[str]) -> bool:
    for index, expected in enumerate(pattern):
        if expected == "**":
            return True
        if index >= len(segments):
            return False
        if expected == "*":
            if not segments[index]:
                return False
        elif expected != segments[index]:
            return False
    return len(segments) == len(pattern)


def resolve(method: str, segments: Sequence[str], routes: Iterable[Route] = ROUTES) -> Route:
    """The route for `method` on a path (as split by `split_path`).

    Raises RouteNotFound when no route owns the path, MethodNotAllowed (with the
    allowed methods) when some route owns it but not for this method.
    """
    allowed: list[str] = []
    for route in routes:
        if not pattern_matches(route.segments, segments):
            continue
        if method.upper() in route.methods:
            return route
        allowed.extend(m for m in route.methods if m not in allowed)
    if allowed:
        raise MethodNotAllowed(allowed)
    raise RouteNotFound("/" + "/".join(segments))


def services(routes: Iterable[Route] = ROUTES) -> list[str]:
    """The services the gateway forwards to, in table order."""
    seen: list[str] = []
    for route in routes:
        if route.service not in seen:
            seen.append(route.service)
    return seen
