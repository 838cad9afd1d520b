"""The gateway's per-process clients: MongoDB, the API key store, the HTTP pool.

Nothing connects at import time or in `create_app`: each client is created on
first use and remembered with the process id, so a process forked after the
app was built (gunicorn `--preload`) builds its own instead of sharing sockets
with its parent.
"""
from __future__ import annotations

import logging
import os
import threading
from http.cookiejar import DefaultCookiePolicy

import requests
from flask import Flask, current_app
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from gateway.api_keys import ApiKeyStore, api_keys_collection
from gateway.config import GatewayConfig
from shared import mongo

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
    def __init__(self, config: GatewayConfig):
        self.config = config
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._client = None
        self._key_store: ApiKeyStore | None = None
        self._http: requests.Session | None = None

    def _fresh(self) -> None:
        """Drop clients inherited across a fork; call with the lock held."""
        if self._pid != os.getpid():
            self._pid = os.getpid()
            self._client = None
            self._key_store = None
            self._http = None

    @property
    def mongo_client(self):
        with self._lock:
            self._fresh()
            if self._client is None:
                self._client = mongo.connect(self.config.settings)
            return self._client

    @property
    def key_store(self) -> ApiKeyStore:
        client = self.mongo_client
        with self._lock:
            if self._key_store is None:
                collection = api_keys_collection(client, self.config.settings)
                self._key_store = ApiKeyStore(collection,
                                              cache_seconds=self.config.key_cache_seconds)
            return self._key_store

    @property
    def http(self) -> requests.Session:
        with self._lock:
            self._fresh()
            if self._http is None:
                self._http = new_http_session()
            return self._http

    def provide(self, *, key_store: ApiKeyStore | None = None,
                http: requests.Session | None = None) -> None:
        """Use these instead of building real ones (tests hand in small fakes)."""
        with self._lock:
            self._fresh()
            self._key_store = key_store or self._key_store
            self._http = http or self._http

    def close(self) -> None:
        with self._lock:
            if self._client is not None and self._pid == os.getpid():
                self._client.close()
            if self._http is not None and self._pid == os.getpid():
                self._http.close()
            self._client = self._key_store = self._http = None


def install(app: Flask, config: GatewayConfig) -> GatewayResources:
    resources = GatewayResources(config)
    app.extensions[EXTENSION] = resources
    return resources


def resources() -> GatewayResources:
    return current_app.extensions[EXTENSION]
