"""deploy/docker-compose.yml, checked without a Docker engine: it is what `crm compose`
writes from the process table, it validates against the Compose specification's JSON
schema, each service runs what `crm up` runs, and it is fit for production."""
from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path

import jsonschema
import pytest
import yaml

from crm.compose import (
    COMPOSE_FILE,
    IMAGE_ENV,
    IMAGE_PYTHON,
    PROMETHEUS_FILE,
    render,
    render_prometheus,
)
from crm.processes import HTTP_APPS, WORKERS, process_table

DEPLOY = COMPOSE_FILE.parent
COMPOSE = yaml.safe_load(COMPOSE_FILE.read_text())
SERVICES = COMPOSE["services"]
INFRASTRUCTURE = {"mongo", "rabbitmq", "lb", "prometheus", "grafana"}


def compose_schema() -> dict:
    # The Compose specification's schema (Apache-2.0, compose-spec/compose-spec), as
    # vendored with its license by check-jsonschema (a dev dependency).
    vendor = resources.files("check_jsonschema.builtin_schemas.vendor")
    assert (vendor / "licenses" / "LICENSE.compose-spec").is_file()
    return json.loads((vendor / "compose-spec.json").read_text())


def interpolated(value):
    """The file as Compose reads it with every variable at its default (or a stand-in
    for a required one), so e.g. published ports are checked as numbers."""
    if isinstance(value, dict):
        return {key: interpolated(item) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolated(item) for item in value]
    if isinstance(value, str):
        value = re.sub(r"\$\{(\w+):-([^}]*)\}", lambda m: m[2], value)
        return re.sub(r"\$\{(\w+):\?[^}]*\}", "set-in-dot-env", value)
    return value


def test_the_committed_files_are_what_crm_compose_writes():
    assert COMPOSE_FILE.read_text() == render(), "run `crm compose`"
    assert PROMETHEUS_FILE.read_text() == render_prometheus(), "run `crm compose`"


def schema_errors(document: dict) -> list[str]:
    schema = compose_schema()
    validator = jsonschema.validators.validator_for(schema)(
        schema, format_checker=jsonschema.FormatChecker())
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
            for e in validator.iter_errors(document)]


@pytest.mark.parametrize("document", [COMPOSE, interpolated(COMPOSE)],
                         ids=["as-written", "interpolated"])
def test_the_compose_file_is_valid_by_the_compose_specification(document):
    assert schema_errors(document) == []


def test_the_schema_check_catches_a_mistake():
    broken = yaml.safe_load(COMPOSE_FILE.read_text())
    broken["services"]["gateway"]["depends_on"]["mongo"]["condition"] = "service_ready"
    broken["services"]["ingest"]["restart_policy"] = "always"
    errors = schema_errors(broken)
    assert any(e.startswith("services/gateway/depends_on") for e in errors)
    assert any(e.startswith("services/ingest") and "restart_policy" in e for e in errors)


def test_each_service_runs_the_command_and_environment_of_the_process_table():
    table = process_table(IMAGE_ENV, python=IMAGE_PYTHON)
    assert {p.name.replace("_", "-") for p in table} == set(SERVICES) - INFRASTRUCTURE
    for process in table:
        service = SERVICES[process.name.replace("_", "-")]
        assert service["command"] == list(process.argv)
        environment = service["environment"]
        assert {k: environment.get(k) for k in process.env} == dict(process.env)
        assert environment["CRM_PROCESS"] == process.name
        assert environment["CRM_BIND_HOST"] == "0.0.0.0"
        if process.uses_ready_file:  # a worker: ready file and its metrics port
            assert "CRM_READY_FILE" in environment and "CRM_METRICS_PORT" in environment
        else:  # gunicorn: its own metrics directory (shared/gunicorn_conf.py)
            assert environment["PROMETHEUS_MULTIPROC_DIR"]
            assert process.argv[1:5] == ("-m", "gunicorn", "--config",
                                         "python:shared.gunicorn_conf")


def test_every_process_is_scraped_by_prometheus():
    jobs = {job["job_name"]: job for job in yaml.safe_load(PROMETHEUS_FILE.read_text())[
        "scrape_configs"]}
    assert set(jobs) == {name.replace("_", "-") for name in [*HTTP_APPS, *WORKERS]}
    for name, (_module, port) in WORKERS.items():
        assert jobs[name]["dns_sd_configs"][0]["port"] == port
    assert jobs["gateway"]["authorization"]["credentials_file"] == "/etc/prometheus/metrics_token"


def test_the_gateway_scales_behind_the_load_balancer():
    assert "ports" not in SERVICES["gateway"]  # a fixed host port would stop --scale
    apps = set(SERVICES) - INFRASTRUCTURE
    assert [name for name in SERVICES if "ports" in SERVICES[name] and name in apps] == []
    assert SERVICES["lb"]["ports"] == ["${CRM_PUBLIC_PORT:-8000}:8080"]
    assert "./nginx.conf:/etc/nginx/nginx.conf:ro" in SERVICES["lb"]["volumes"]
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert re.search(r"server gateway:8000 resolve;", nginx)
    assert "proxy_pass http://gateway;" in nginx
    assert "CRM_TRUSTED_PROXIES" in nginx and SERVICES["gateway"]["environment"][
        "CRM_TRUSTED_PROXIES"] == "${CRM_TRUSTED_PROXIES:-1}"


def test_servers_are_current_versions_with_health_checks():
    rabbit = SERVICES["rabbitmq"]["image"]
    assert re.fullmatch(r"rabbitmq:(3\.13|4\.\d+)(\.\d+)?-management", rabbit)
    assert SERVICES["mongo"]["image"].startswith("mongo:7")
    mongo = SERVICES["mongo"]
    assert mongo["command"][:2] == ["--replSet", "rs0"]
    assert "rs.initiate" in " ".join(mongo["healthcheck"]["test"])
    assert "replicaSet=rs0" in SERVICES["gateway"]["environment"]["MONGO_URL"]
    for name, service in SERVICES.items():
        if name in ("prometheus", "grafana"):
            continue
        assert service.get("healthcheck"), name
        for dependency, condition in (service.get("depends_on") or {}).items():
            assert condition == {"condition": "service_healthy"}, (name, dependency)


def test_production_secrets_come_from_the_environment_and_are_required():
    gateway = SERVICES["gateway"]["environment"]
    assert gateway["CRM_ENV"] == "${CRM_ENV:-production}"
    assert gateway["CRM_SECRET_KEY"].startswith("${CRM_SECRET_KEY:?")
    for name in ("GOOGLE_OAUTH_CLIENT_ID", "GOOGLE_OAUTH_CLIENT_SECRET", "CRM_PUBLIC_URL"):
        assert gateway[name].startswith("${" + name), name
    for name in ("receipts", "vendor-sim"):
        assert SERVICES[name]["environment"]["CRM_WEBHOOK_SECRET"].startswith(
            "${CRM_WEBHOOK_SECRET:?")
    for name in ("gateway", "campaigns", "campaigns-dispatcher"):  # sign and check links
        assert SERVICES[name]["environment"]["CRM_UNSUBSCRIBE_SECRET"].startswith(
            "${CRM_UNSUBSCRIBE_SECRET:?")
    # Secrets reach only the services that use them.
    assert "CRM_SECRET_KEY" not in SERVICES["ingest"]["environment"]
    assert "CRM_WEBHOOK_SECRET" not in SERVICES["gateway"]["environment"]


def test_env_example_names_every_variable_the_compose_file_reads():
    used = set(re.findall(r"\$\{(\w+)", COMPOSE_FILE.read_text()))
    example = (DEPLOY / ".env.example").read_text()
    listed = set(re.findall(r"^#?\s*(\w+)=", example, re.MULTILINE))
    assert used - listed == set()
    # An example never carries a real secret.
    for name in ("CRM_SECRET_KEY", "CRM_WEBHOOK_SECRET", "CRM_UNSUBSCRIBE_SECRET",
                 "GOOGLE_OAUTH_CLIENT_SECRET"):
        assert re.search(rf"^{name}=$", example, re.MULTILINE), name
    assert ".env" in (DEPLOY / ".gitignore").read_text().split()


def test_the_metrics_profile_runs_prometheus_and_grafana_with_their_files():
    for name in ("prometheus", "grafana"):
        assert SERVICES[name]["profiles"] == ["metrics"]
    mounts = " ".join(SERVICES["prometheus"]["volumes"] + SERVICES["grafana"]["volumes"])
    for path in re.findall(r"\./([\w./-]+):", mounts):
        assert (DEPLOY / path).exists(), path
    dashboards = list((DEPLOY / "grafana" / "dashboards").glob("*.json"))
    assert dashboards and all(json.loads(path.read_text())["panels"] for path in dashboards)


def test_compose_writes_nothing_outside_deploy():
    assert COMPOSE_FILE.parent == PROMETHEUS_FILE.parent == Path(__file__).resolve().parents[
        3] / "deploy"
