"""`crm compose`: writes deploy/docker-compose.yml and deploy/prometheus.yml from the
process table.

The Compose file is not written by hand: every process of crm/processes.py (the
table `crm up` runs) becomes one service with the same command and the same
per-process variables, so the two cannot drift apart (tests/unit/deploy checks
the committed file against this output). Around them: MongoDB 7 as a one-member
replica set, RabbitMQ 4.1, a load balancer in front of the gateway replicas
(`--scale gateway=3`), and Prometheus and Grafana under the `metrics` profile.

    crm compose            # rewrite deploy/docker-compose.yml and deploy/prometheus.yml
    crm compose --check    # exit 1 if a committed file is not what this writes
"""
from __future__ import annotations

import sys
from pathlib import Path

import click

from crm.processes import HTTP_APPS, WORKERS, Process, http_port, process_table

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_FILE = ROOT / "deploy" / "docker-compose.yml"
PROMETHEUS_FILE = ROOT / "deploy" / "prometheus.yml"
# The table as the image runs it: apps listen on their container's every interface.
IMAGE_ENV = {"CRM_BIND_HOST": "0.0.0.0"}
IMAGE_PYTHON = "python"
METRICS_DIR = "/tmp/crm-metrics"
READY_FILE = "/tmp/crm-ready"
SNAPSHOT_DIR = "/var/lib/crm/segments"
NEEDED = "set it in deploy/.env (see deploy/.env.example)"

HEADER = """\
# Written by `crm compose` (crm/compose.py) from crm/processes.py, the process table
# `crm up` runs: edit those and run `crm compose`, never this file.
#
# The whole suite in production mode: MongoDB 7 (one-member replica set), RabbitMQ,
# one service per process, nginx in front of the gateway replicas. Operators:
# deploy/README.md (start, scale, back up, metrics, sizing).
#
#   cp deploy/.env.example deploy/.env    # then set the secrets in it
#   docker compose -f deploy/docker-compose.yml up --build --scale gateway=3
#   docker compose -f deploy/docker-compose.yml --profile metrics up -d   # + Prometheus, Grafana
"""


def _service_name(process: str) -> str:
    return process.replace("_", "-")


def _common_env() -> dict[str, str]:
    env = {
        "MONGO_URL": "${MONGO_URL:-mongodb://mongo:27017/?replicaSet=rs0}",
        "AMQP_URL": "amqp://${RABBITMQ_USER:-crm}:${RABBITMQ_PASSWORD:-crm}@rabbitmq:5672/%2F",
        "CRM_ENV": "${CRM_ENV:-production}",
        "CRM_LOG_LEVEL": "${CRM_LOG_LEVEL:-INFO}",
        "CRM_DB_PREFIX": "${CRM_DB_PREFIX:-crm}",
        **IMAGE_ENV,
    }
    for service in HTTP_APPS:
        env[f"{service.upper()}_URL"] = f"http://{_service_name(service)}:{http_port(service)}"
    return env


# Each service is given only the secrets it uses.
PUBLIC_URL = "${CRM_PUBLIC_URL:-http://localhost:8000}"
GATEWAY_ENV = {
    "CRM_SECRET_KEY": "${CRM_SECRET_KEY:?" + NEEDED + "}",
    # nginx in front sets X-Forwarded-*; one more hop if TLS ends before it.
    "CRM_TRUSTED_PROXIES": "${CRM_TRUSTED_PROXIES:-1}",
    "CRM_METRICS_TOKEN": "${CRM_METRICS_TOKEN:-}",
    # Per API key, across every gateway replica (gateway/rate_limit.py); 0: none.
    "CRM_GATEWAY_RATE_LIMIT": "${CRM_GATEWAY_RATE_LIMIT:-1200}",
    "CRM_DEV_LOGIN": "${CRM_DEV_LOGIN:-}",
    **{name: "${" + name + ":-}" for name in (
        "GOOGLE_OAUTH_CLIENT_ID", "GOOGLE_OAUTH_CLIENT_SECRET", "CRM_ALLOWED_EMAIL_DOMAINS",
        "CRM_ALLOWED_EMAILS", "CRM_ADMIN_EMAILS", "CRM_MARKETER_EMAILS", "CRM_VIEWER_EMAILS")},
    "CRM_DEFAULT_ROLE": "${CRM_DEFAULT_ROLE:-viewer}",
}
WEBHOOK_ENV = {"CRM_WEBHOOK_SECRET": "${CRM_WEBHOOK_SECRET:?" + NEEDED + "}"}
# Campaigns signs each message's unsubscribe link (shared/unsubscribe.py), the gateway checks it.
UNSUBSCRIBE_ENV = {"CRM_UNSUBSCRIBE_SECRET": "${CRM_UNSUBSCRIBE_SECRET:?" + NEEDED + "}",
                   "CRM_PUBLIC_URL": PUBLIC_URL}
SERVICE_ENV = {"gateway": {**GATEWAY_ENV, **UNSUBSCRIBE_ENV}, "campaigns": UNSUBSCRIBE_ENV,
               "campaigns-dispatcher": UNSUBSCRIBE_ENV, "receipts": WEBHOOK_ENV,
               "vendor_sim": WEBHOOK_ENV, "segments": {
                   "SEGMENTS_SNAPSHOT_DIR": SNAPSHOT_DIR,
                   # A language model for audience descriptions the grammar cannot read
                   # (docs/audiences-in-words.md); empty: off.
                   "CRM_AUDIENCE_LLM_URL": "${CRM_AUDIENCE_LLM_URL:-}"}}


class Flow(list):
    """A list written on one line (commands, healthcheck tests)."""


def _healthcheck(test: list[str], interval: str = "10s", retries: int = 6) -> dict:
    return {"test": Flow(test), "interval": interval, "timeout": "5s", "retries": retries,
            "start_period": "20s"}


HTTP_HEALTH = ["CMD", "python", "-c", "import os, urllib.request; urllib.request.urlopen("
               "f'http://127.0.0.1:{os.environ[\"CRM_HTTP_PORT\"]}/readyz', timeout=3)"]


def app_service(process: Process) -> dict:
    """One process of the table as a Compose service of the suite's image."""
    http = not process.uses_ready_file
    env = {**_common_env(), "CRM_PROCESS": process.name, **process.env,
           **SERVICE_ENV.get(process.name, {})}
    if http:
        env |= {"CRM_HTTP_PORT": str(http_port(process.name)), "PROMETHEUS_MULTIPROC_DIR":
                METRICS_DIR}
    else:
        env["CRM_READY_FILE"] = READY_FILE
    service = {
        "image": "crm-suite:local",
        "build": {"context": "..", "dockerfile": "deploy/Dockerfile"},
        "restart": "unless-stopped",
        "command": Flow(process.argv),
        "environment": env,
        "depends_on": {"mongo": {"condition": "service_healthy"},
                       "rabbitmq": {"condition": "service_healthy"}},
        "healthcheck": _healthcheck(HTTP_HEALTH if http else
                                    ["CMD", "test", "-f", READY_FILE]),
    }
    if process.name == "segments":
        # A graceful stop saves the audience index here; the next start takes it back
        # in seconds instead of reading every profile (services/segments/README.md).
        service["volumes"] = [f"segments-snapshots:{SNAPSHOT_DIR}"]
        service["stop_grace_period"] = "30s"
    return service


def infrastructure() -> dict:
    return {
        "mongo": {
            "image": "mongo:7.0",
            "restart": "unless-stopped",
            "command": Flow(["--replSet", "rs0", "--bind_ip_all"]),
            "volumes": ["mongo-data:/data/db"],
            # Starts the one-member replica set on the first run; healthy once primary.
            "healthcheck": _healthcheck(
                ["CMD", "mongosh", "--quiet", "--eval",
                 "try { rs.status() } catch (e) { rs.initiate({_id: 'rs0', members: "
                 "[{_id: 0, host: 'mongo:27017'}]}) }; "
                 "if (!db.hello().isWritablePrimary) { quit(1) }"], "5s", 30),
        },
        "rabbitmq": {
            "image": "rabbitmq:4.1-management",
            "restart": "unless-stopped",
            "environment": {"RABBITMQ_DEFAULT_USER": "${RABBITMQ_USER:-crm}",
                            "RABBITMQ_DEFAULT_PASS": "${RABBITMQ_PASSWORD:-crm}"},
            "ports": ["127.0.0.1:15672:15672"],  # management UI, this host only
            "volumes": ["rabbitmq-data:/var/lib/rabbitmq"],
            "healthcheck": _healthcheck(["CMD", "rabbitmq-diagnostics", "-q", "ping"], "5s", 30),
        },
        "lb": {
            # Round robin over every gateway replica Docker's DNS names (nginx.conf).
            "image": "nginxinc/nginx-unprivileged:1.28-alpine",
            "restart": "unless-stopped",
            "ports": ["${CRM_PUBLIC_PORT:-8000}:8080"],
            "volumes": ["./nginx.conf:/etc/nginx/nginx.conf:ro"],
            "depends_on": {"gateway": {"condition": "service_healthy"}},
            "healthcheck": _healthcheck(
                ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1:8080/lb-healthz"]),
        },
    }


def metrics_profile() -> dict:
    return {
        "prometheus": {
            "image": "prom/prometheus:v3.5.0",
            "profiles": ["metrics"],
            "restart": "unless-stopped",
            "ports": ["127.0.0.1:9090:9090"],
            "volumes": ["./prometheus.yml:/etc/prometheus/prometheus.yml:ro",
                        "prometheus-data:/prometheus"],
            "configs": [{"source": "metrics-token", "target": "/etc/prometheus/metrics_token"}],
        },
        "grafana": {
            "image": "grafana/grafana:11.6.0",
            "profiles": ["metrics"],
            "restart": "unless-stopped",
            "ports": ["127.0.0.1:3000:3000"],
            "environment": {"GF_SECURITY_ADMIN_PASSWORD": "${GRAFANA_ADMIN_PASSWORD:-admin}"},
            "volumes": ["./grafana/provisioning:/etc/grafana/provisioning:ro",
                        "./grafana/dashboards:/var/lib/grafana/dashboards:ro",
                        "grafana-data:/var/lib/grafana"],
            "depends_on": ["prometheus"],
        },
    }


def compose_document() -> dict:
    services = infrastructure()
    for process in process_table(IMAGE_ENV, python=IMAGE_PYTHON):
        services[_service_name(process.name)] = app_service(process)
    services |= metrics_profile()
    return {
        "name": "crm-suite",
        "services": services,
        # The gateway's bearer token for Prometheus, from the environment, never a file here.
        "configs": {"metrics-token": {"content": "${CRM_METRICS_TOKEN:-}"}},
        "volumes": {name: {} for name in ("mongo-data", "rabbitmq-data", "segments-snapshots",
                                          "prometheus-data", "grafana-data")},
    }


PROMETHEUS_HEADER = """\
# Written by `crm compose` (crm/compose.py) from crm/processes.py: Prometheus' scrape
# configuration for deploy/docker-compose.yml (`--profile metrics`). Every process of
# the table: HTTP services on their own port (/metrics), workers on their metrics port.
# DNS discovery finds every replica Docker's DNS knows, so `--scale campaigns-sender=4`
# is scraped without a change here. The job is the process name; the dashboard
# (grafana/dashboards/crm-suite.json) groups by it. The gateway faces the internet, so
# its /metrics takes CRM_METRICS_TOKEN as a bearer token (a Compose config, no file here).
"""


def prometheus_document() -> dict:
    jobs = []
    for process in process_table(IMAGE_ENV, python=IMAGE_PYTHON):
        name = _service_name(process.name)
        port = (http_port(process.name) if process.name in HTTP_APPS
                else int(process.env["CRM_METRICS_PORT"]))
        job = {"job_name": name,
               "dns_sd_configs": [{"names": Flow([name]), "type": "A", "port": port}]}
        if process.name == "gateway":
            job["authorization"] = {"type": "Bearer",
                                    "credentials_file": "/etc/prometheus/metrics_token"}
        jobs.append(job)
    assert len(jobs) == len(HTTP_APPS) + len(WORKERS)
    return {"global": {"scrape_interval": "15s", "evaluation_interval": "15s"},
            "scrape_configs": jobs}


def render() -> str:
    return HEADER + _yaml(compose_document())


def render_prometheus() -> str:
    return PROMETHEUS_HEADER + _yaml(prometheus_document())


def _yaml(document: dict) -> str:
    import yaml

    class Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data):
            return True  # every service spelled out: the file is read more than written

    Dumper.add_representer(Flow, lambda dumper, data: dumper.represent_sequence(
        "tag:yaml.org,2002:seq", data, flow_style=True))
    return yaml.dump(document, Dumper=Dumper, sort_keys=False, width=100,
                     default_flow_style=False)


@click.command("compose")
@click.option("--check", is_flag=True, help="Exit 1 if the file differs from what this writes.")
def compose(check: bool) -> None:
    """Write deploy/docker-compose.yml and deploy/prometheus.yml from the process table."""
    files = {COMPOSE_FILE: render(), PROMETHEUS_FILE: render_prometheus()}
    if check:
        stale = [path for path, text in files.items()
                 if not path.exists() or path.read_text() != text]
        for path in stale:
            click.echo(f"{path} is not current: run `crm compose`", err=True)
        if stale:
            sys.exit(1)
        click.echo("deploy/docker-compose.yml and deploy/prometheus.yml are current")
        return
    for path, text in files.items():
        path.write_text(text)
        click.echo(f"wrote {path}")
