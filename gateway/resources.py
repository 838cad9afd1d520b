"""The gateway's per-process clients: MongoDB, the API key store, the HTTP pool.

Nothing connects at import time or in `create_app`: each client is created on
first use in each process (shared.wiring.Wiring), so a process forked after the
app was built (gunicorn `--preload`) builds its own instead of sharing sockets
with its parent.
"""
from __future__ import annotations

import logging
from http.cookiejar import DefaultCookiePolicy

import requests
from flask import Flask, current_app
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from gateway.api_keys import ApiKeyStore, api_keys_collection
from gateway.config import GatewayConfig
from shared import mongo
from shared.wiring import Wiring

EXTENSION = "crm_gateway"
# urllib3 logs each connect retry as a warning; the proxy logs the outcome once.
logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)


class _NoCookies(DefaultCookiePolicy):
    # One session serves every client: a cookie a service set for one caller
    # must never be replayed on another caller's request.
    def set_ok(self, cookie, request):
        return False

    def return_ok(self, cookie, request):
        return False


def new_http_session() -> requests.Session:
    session = requests.Session()
    session.trust_env = False  # services are on our own network; never via an env proxy
    session.cookies.set_policy(_NoCookies())
    # Failed connects are retried for every method: nothing reached the service, so
    # even a POST is safe. A read error is retried for reads only: it is usually a
    # pooled keep-alive connection the service closed just as we reused it.
    retry = Retry(total=1, connect=1, read=1, status=0, other=0, redirect=0,
                  allowed_methods=frozenset({"GET", "HEAD", "OPTIONS"}), raise_on_status=False)
    adapter = HTTPAdapter(pool_connections=8, pool_maxsize=32, max_retries=retry)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class GatewayResources:
    """The gateway's clients, each built on first use in each process (shared.wiring):
    the database client with the API key store over it, and the HTTP pool."""

    def __init__(self, config: GatewayConfig):
        self.config = config
        self._database = Wiring(self._build_database)
        self._pool = Wiring(lambda: {"http": new_http_session()},
                            teardown=lambda built: built["http"].close())
        self._provided: dict = {}

    def _build_database(self):
        client = mongo.connect(self.config.settings)
        store = ApiKeyStore(api_keys_collection(client, self.config.settings),
                            cache_seconds=self.config.key_cache_seconds)
        return {"client": client, "key_store": store}

    @property
    def mongo_client(self):
        return self._database["client"]

    @property
    def key_store(self) -> ApiKeyStore:
        return self._provided.get("key_store") or self._database["key_store"]

    @property
    def http(self) -> requests.Session:
        return self._provided.get("http") or self._pool["http"]

    def provide(self, *, key_store: ApiKeyStore | None = None,
                http: requests.Session | None = None) -> None:
        """Use these instead of building real ones (tests hand in small fakes)."""
        given = {"key_store": key_store, "http": http}
        self._provided.update({name: value for name, value in given.items() if value is not None})

    def close(self) -> None:
        self._provided = {}
        self._database.close()
        self._pool.close()


def install(app: Flask, config: GatewayConfig) -> GatewayResources:
    resources = GatewayResources(config)
    app.extensions[EXTENSION] = resources
    return resources


def resources() -> GatewayResources:
    return current_app.extensions[EXTENSION]
