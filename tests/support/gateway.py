"""Fakes and helpers shared by unit tests (moved here so no test module imports another)."""
from typing import ClassVar

import requests

from gateway.api_keys import ApiKey

GOOD_KEY = "crm_goodkey_secret"
READER_KEY = "crm_readerkey_secret"


SERVICE_URLS = {"ingest": "http://ingest.test", "segments": "http://segments.test",
                "campaigns": "http://campaigns.test"}


class FakeKeyStore:
    keys: ClassVar[dict] = {
        GOOD_KEY: ApiKey("goodkey", "all", frozenset({"admin"})),
        READER_KEY: ApiKey("readerkey", "reader", frozenset({"segments:read"})),
    }

    def authenticate(self, plaintext):
        return self.keys.get(plaintext)


class FakeHttp:
    """Records each forwarded call and answers what the test set, or raises it."""

    def __init__(self):
        self.calls = []
        self.answer = (200, {"Content-Type": "application/json"}, b'{"ok": true}')

    def request(self, method, url, data=None, headers=None, allow_redirects=True, timeout=None,
                stream=False):
        self.calls.append({"method": method, "url": url, "data": data, "headers": headers,
                           "timeout": timeout, "allow_redirects": allow_redirects,
                           "stream": stream})
        if isinstance(self.answer, Exception):
            raise self.answer
        status, response_headers, body = self.answer
        response = requests.Response()
        response.status_code = status
        response.headers.update(response_headers)
        response._content = body
        response._content_consumed = True  # as after a read: iter_content() gives _content
        return response


class OkHttp:
    """A service behind the gateway that answers every call 200 `{}`, recording each
    (method, url)."""

    def __init__(self):
        self.calls = []

    def request(self, method, url, **_kwargs):
        self.calls.append((method, url))
        response = requests.Response()
        response.status_code = 200
        response.headers["Content-Type"] = "application/json"
        response._content = b"{}"
        return response
