"""The web UI's unit-test app (a fake service behind it) and the form helpers."""
import re

import requests

from gateway.app import create_app
from gateway.config import GatewayConfig
from gateway.resources import resources
from gateway.web.config import WebConfig
from shared.config import Settings

SETTINGS = Settings(db_prefix="unit_web_unused", service_urls={
    "ingest": "http://ingest.test", "segments": "http://segments.test",
    "campaigns": "http://campaigns.test"})


class FakeHttp:
    def __init__(self):
        self.calls = []

    def request(self, method, url, data=None, headers=None, **_kwargs):
        self.calls.append((method, url, headers))
        response = requests.Response()
        response.status_code = 201
        response.headers["Content-Type"] = "application/json"
        response._content = b'{"id": "c1", "status": "launching"}'
        return response


def make_app(env):
    app = create_app(GatewayConfig(settings=SETTINGS), WebConfig.from_env(env))
    app.config["TESTING"] = True
    http = FakeHttp()
    with app.app_context():
        resources().provide(http=http)
    return app, http


def form_token(client, path="/signin"):
    page = client.get(path)
    return re.search(rb'name="csrf_token" value="([^"]+)"', page.data).group(1).decode()


def dev_sign_in(client, role):
    token = form_token(client)
    return client.post("/signin/dev", data={"email": f"{role}@example.com", "role": role,
                                            "csrf_token": token})
