"""shared.metrics and its HTTP hook: figures by route template and status, the
gateway's guarded /metrics, a worker's metrics port, and multiprocess mode as
gunicorn runs it (real forked processes writing to one directory)."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
import requests
from flask import jsonify
from prometheus_client.parser import text_string_to_metric_families

from crm.stack import port_free
from shared import metrics
from shared.http import install_metrics, service_app


def sample(text: str, name: str, **labels: str) -> float | None:
    for family in text_string_to_metric_families(text):
        for item in family.samples:
            if item.name == name and all(item.labels.get(k) == v for k, v in labels.items()):
                return item.value
    return None


def thing_app(service: str):
    app = service_app(__name__, service, lambda: {"database": True})

    @app.get("/things/<thing_id>")
    def thing(thing_id):
        return jsonify({"id": thing_id})

    return app


def test_requests_are_counted_and_timed_by_route_template_and_status():
    client = thing_app("unit_things").test_client()
    for thing_id in ("a", "b", "c"):
        assert client.get(f"/things/{thing_id}").status_code == 200
    assert client.get("/no/such/route").status_code == 404

    text = client.get("/metrics").get_data(as_text=True)
    labels = {"service": "unit_things", "method": "GET"}
    assert sample(text, "crm_http_requests_total", route="/things/<thing_id>", status="200",
                  **labels) == 3
    assert sample(text, "crm_http_requests_total", route="unmatched", status="404",
                  **labels) == 1
    assert sample(text, "crm_http_request_duration_seconds_count",
                  route="/things/<thing_id>", **labels) == 3
    # The raw paths never become labels (one series per customer id would never end).
    assert "/things/a" not in text


def test_event_counts_are_grouped_by_type_and_queue():
    before = metrics.EVENTS_CONSUMED.labels(queue="unit.q", event_type="order.placed")._value.get()
    metrics.count_events(metrics.EVENTS_CONSUMED,
                         ["order.placed", "customer.upserted", "order.placed", None],
                         queue="unit.q")
    text = metrics.exposition().decode()
    assert sample(text, "crm_events_consumed_total", queue="unit.q",
                  event_type="order.placed") == before + 2
    assert sample(text, "crm_events_consumed_total", queue="unit.q", event_type="unknown") == 1


@pytest.mark.parametrize("env, headers, status", [
    ({}, {}, 200),  # development, no token: open
    ({"CRM_METRICS_TOKEN": "s3cret"}, {}, 401),
    ({"CRM_METRICS_TOKEN": "s3cret"}, {"Authorization": "Bearer wrong"}, 401),
    ({"CRM_METRICS_TOKEN": "s3cret"}, {"Authorization": "Bearer s3cret"}, 200),
    ({"CRM_ENV": "production"}, {}, 404),  # production needs the token to serve it at all
    ({"CRM_ENV": "production", "CRM_METRICS_TOKEN": "s3cret"},
     {"Authorization": "Bearer s3cret"}, 200),
])
def test_the_public_metrics_page_needs_the_token_or_development(monkeypatch, env, headers,
                                                                 status):
    from flask import Flask

    for name in ("CRM_METRICS_TOKEN", "CRM_ENV"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    app = Flask(__name__)
    install_metrics(app, "unit_gateway", public=True)
    response = app.test_client().get("/metrics", headers=headers)
    assert response.status_code == status
    if status == 200:
        assert "crm_http_requests_total" in response.get_data(as_text=True)
    if status == 401:
        assert response.get_json()["error"]["code"] == "UNAUTHORIZED"


def test_internal_metrics_need_no_key_even_in_production(monkeypatch):
    monkeypatch.setenv("CRM_ENV", "production")
    monkeypatch.setenv("CRM_METRICS_TOKEN", "s3cret")
    assert thing_app("unit_internal").test_client().get("/metrics").status_code == 200


def free_port() -> int:
    from crm.stack import free_service_ports

    return int(free_service_ports()["RECEIPTS_CONSUMER_METRICS_PORT"])


def test_a_worker_serves_its_metrics_on_its_port_once():
    assert metrics.serve_worker_metrics({}) is None  # no port: nothing served
    port = free_port()
    env = {"CRM_METRICS_PORT": str(port), "CRM_BIND_HOST": "127.0.0.1"}
    assert metrics.serve_worker_metrics(env) == port
    assert metrics.serve_worker_metrics({**env, "CRM_METRICS_PORT": "1"}) == port  # once
    metrics.MESSAGES_SENT.inc(7)
    text = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    assert sample(text, "crm_messages_sent_total") >= 7
    assert not port_free(port)


MULTIPROCESS = textwrap.dedent("""
    import os, sys
    from types import SimpleNamespace
    from shared import gunicorn_conf
    gunicorn_conf.on_starting(None)  # as gunicorn's master: sets up and wipes the directory
    from shared import metrics
    children = []
    for calls in (3, 4):
        pid = os.fork()
        if pid == 0:
            for _ in range(calls):
                metrics.HTTP_REQUESTS.labels("mp", "GET", "/x", "200").inc()
            metrics.AUDIENCE_INDEX_SIZE.set(1000 + calls)
            os._exit(0)
        os.waitpid(pid, 0)  # one after the other: the second sets the gauge last
        children.append(pid)
    sys.stdout.write(metrics.exposition().decode() + "\\n=====\\n")
    gunicorn_conf.child_exit(None, SimpleNamespace(pid=children[1]))
    sys.stdout.write(metrics.exposition().decode())
""")


def test_multiprocess_mode_adds_up_the_workers_and_forgets_a_dead_ones_gauges(tmp_path):
    directory = tmp_path / "metrics"
    directory.mkdir()
    (directory / "counter_99999.db").write_bytes(b"left by an earlier run")
    result = subprocess.run([sys.executable, "-c", MULTIPROCESS], capture_output=True, text=True,
                            env={"PROMETHEUS_MULTIPROC_DIR": str(directory), "PATH": "/usr/bin",
                                 "PYTHONPATH": "."}, timeout=60, check=True)
    alive, after_exit = result.stdout.split("=====")
    assert sample(alive, "crm_http_requests_total", service="mp", route="/x") == 7
    assert sample(alive, "crm_audience_index_profiles") == 1004  # the most recent
    # Counters keep a dead worker's counts; its live gauges go with it.
    assert sample(after_exit, "crm_http_requests_total", service="mp", route="/x") == 7
    assert sample(after_exit, "crm_audience_index_profiles") == 1003
