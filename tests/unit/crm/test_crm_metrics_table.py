"""Where each process of the table serves its metrics, and what `crm up` says about it."""
from __future__ import annotations

import io

from crm.processes import HTTP_APPS, WORKERS, process_table
from crm.stack import Stack, free_service_ports, metrics_notice
from crm.supervisor import Output


def test_every_worker_gets_its_own_metrics_port_from_the_environment():
    table = {p.name: p for p in process_table({"CAMPAIGNS_SENDER_METRICS_PORT": "9999"})}
    assert table["campaigns-sender"].env == {"CRM_METRICS_PORT": "9999"}
    assert table["campaigns-sender"].metrics_url == "http://127.0.0.1:9999/metrics"
    ports = [int(table[name].env["CRM_METRICS_PORT"]) for name in WORKERS]
    assert len(set(ports)) == len(WORKERS)
    assert table["receipts-consumer"].env == {"CRM_METRICS_PORT": str(WORKERS[
        "receipts-consumer"][1])}


def test_http_apps_serve_metrics_on_their_own_port_through_gunicorns_hooks():
    table = {p.name: p for p in process_table({"SEGMENTS_PORT": "9302"})}
    assert table["segments"].metrics_url == "http://127.0.0.1:9302/metrics"
    for service in HTTP_APPS:
        argv = table[service].argv
        assert argv[argv.index("--config") + 1] == "python:shared.gunicorn_conf"


def test_a_test_suite_gets_free_metrics_ports_too():
    ports = free_service_ports()
    names = {f"{w.upper().replace('-', '_')}_METRICS_PORT" for w in WORKERS}
    assert names <= set(ports)
    assert len(set(ports.values())) == len(ports)


def test_crm_up_says_where_every_process_serves_its_metrics():
    stack = Stack({"GATEWAY_PORT": "9400", "INGEST_RELAY_METRICS_PORT": "9401"}, servers=False,
                  output=Output(io.StringIO()))
    notice = metrics_notice(stack)
    assert "http://127.0.0.1:9400/metrics" in notice
    assert "http://127.0.0.1:9401/metrics" in notice
    assert len(notice.splitlines()) == 1 + len(HTTP_APPS) + len(WORKERS)
