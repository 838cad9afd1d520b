"""What every test tier shares: markers by folder, the servers, per-test settings.

- tests/integration, tests/e2e and tests/ui get their marker automatically
  and always use the `servers` fixture, which also exports MONGO_URL /
  AMQP_URL so code that calls Settings.from_env() reaches the same servers.
- `servers`: MONGO_URL / AMQP_URL if set; else containers when a Docker engine
  answers; else the local servers `make test` starts. Unreachable servers fail
  the run: an integration test never skips for lack of them.
- `settings`: Settings with this test's own database prefix, queue prefix and
  exchanges; its databases are dropped afterwards.
- CRM_FORBID_SKIPS=1 (set by `make test`) fails the session if any test was
  skipped, so CI cannot pass while silently testing less.
"""
from __future__ import annotations

import dataclasses
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from shared.config import Settings

TESTS = Path(__file__).resolve().parent
TIERS = ("integration", "e2e", "ui")
QUEUE_EXPIRES_MS = str(30 * 60 * 1000)  # longer than any test's broker outage
_skipped: list[str] = []
_ran = 0


def _tier(item) -> str | None:
    try:
        parts = Path(str(item.path)).resolve().relative_to(TESTS).parts
    except ValueError:
        return None
    return parts[0] if len(parts) > 1 and parts[0] in TIERS else None


def pytest_collection_modifyitems(config, items):
    for item in items:
        tier = _tier(item)
        if tier:
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture(scope="session", autouse=True)
def _servers_first(request):
    # Resolve the servers before any module- or session-scoped fixture of a
    # test reads Settings.from_env(). A failure is re-raised for each test that
    # needs servers (by _servers_for_tier) and spares the unit tests.
    if any(_tier(item) for item in request.session.items):
        try:
            request.getfixturevalue("servers")
        except pytest.fail.Exception:
            pass


@pytest.fixture(autouse=True)
def _servers_for_tier(request):
    if _tier(request.node):
        request.getfixturevalue("servers")


def _forbid_skips() -> bool:
    return os.environ.get("CRM_FORBID_SKIPS") == "1"


def pytest_runtest_logreport(report):
    global _ran
    if report.skipped:
        _skipped.append(f"{report.nodeid}: {_reason(report)}")
    elif report.when == "call":
        _ran += 1


def pytest_collectreport(report):
    if report.skipped:
        _skipped.append(f"{report.nodeid} (whole module): {_reason(report)}")


def _reason(report) -> str:
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2])
    return str(getattr(report, "wasxfail", "") or report.longrepr)


def pytest_sessionfinish(session, exitstatus):
    if _forbid_skips() and (_skipped or not _ran):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter):
    if not _forbid_skips():
        return
    if _skipped:
        terminalreporter.section("skipped tests are failures here (CRM_FORBID_SKIPS=1)", red=True)
        for line in _skipped:
            terminalreporter.write_line(f"SKIPPED {line}", red=True)
    if not _ran:
        terminalreporter.write_line("no test ran (CRM_FORBID_SKIPS=1)", red=True)


def _docker_engine_answers() -> bool:
    try:
        return subprocess.run(["docker", "info"], check=False, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _local_urls() -> tuple[str, str]:
    from crm.stack import with_server_urls

    ports = {key: os.environ[key] for key in ("MONGO_PORT", "AMQP_PORT") if key in os.environ}
    env = with_server_urls(ports)  # the same URLs `crm up` gives its processes
    return env["MONGO_URL"], env["AMQP_URL"]


def _containers(stack, need_mongo: bool, need_amqp: bool) -> tuple[str | None, str | None]:
    mongo_url = amqp_url = None
    if need_mongo:
        try:
            from testcontainers.community.mongodb import MongoDbContainer
        except ImportError:  # testcontainers before 4.10
            from testcontainers.mongodb import MongoDbContainer

        mongo = stack.enter_context(MongoDbContainer("mongo:7"))
        mongo_url = mongo.get_connection_url()
    if need_amqp:
        try:
            from testcontainers.community.rabbitmq import RabbitMqContainer
        except ImportError:
            from testcontainers.rabbitmq import RabbitMqContainer

        rabbit = stack.enter_context(RabbitMqContainer("rabbitmq:3.13-management"))
        params = rabbit.get_connection_params()
        amqp_url = f"amqp://guest:guest@{params.host}:{params.port}/%2F"
    return mongo_url, amqp_url


def _check_reachable(mongo_url: str, amqp_url: str, origins: dict[str, str]) -> None:
    from shared import mongo
    from shared.backbone import broker
    settings = Settings(mongo_url=mongo_url, amqp_url=amqp_url)
    client = mongo.connect(settings)
    try:
        if not mongo.ping(client):
            pytest.fail(f"no database at {mongo_url} (from {origins['mongo']}): run `make test`, "
                        "or `scripts/servers.sh start`, or set MONGO_URL", pytrace=False)
    finally:
        client.close()
    if not broker.broker_reachable(settings):
        pytest.fail(f"no broker at {amqp_url.split('@')[-1]} (from {origins['amqp']}): run "
                    "`make test`, or `scripts/servers.sh start`, or set AMQP_URL", pytrace=False)


@pytest.fixture(scope="session")
def servers():
    """(mongo_url, amqp_url) of real servers, exported to the environment."""
    from contextlib import ExitStack

    mongo_url, amqp_url = os.environ.get("MONGO_URL"), os.environ.get("AMQP_URL")
    origins = {"mongo": "MONGO_URL", "amqp": "AMQP_URL"}
    with ExitStack() as stack:
        if (not mongo_url or not amqp_url) and _docker_engine_answers():
            found = _containers(stack, not mongo_url, not amqp_url)
            origins = {key: "testcontainers" if found[i] else origins[key]
                       for i, key in enumerate(("mongo", "amqp"))}
            mongo_url, amqp_url = mongo_url or found[0], amqp_url or found[1]
        local = _local_urls()
        if not mongo_url:
            mongo_url, origins["mongo"] = local[0], "the local servers of scripts/servers.sh"
        if not amqp_url:
            amqp_url, origins["amqp"] = local[1], "the local servers of scripts/servers.sh"
        _check_reachable(mongo_url, amqp_url, origins)
        saved = {key: os.environ.get(key)
                 for key in ("MONGO_URL", "AMQP_URL", "CRM_QUEUE_EXPIRES_MS")}
        # Every run makes its own queues: let the broker drop them once unused,
        # or a long-lived development broker collects thousands (it wedged once).
        expires = os.environ.get("CRM_QUEUE_EXPIRES_MS", QUEUE_EXPIRES_MS)
        os.environ.update(MONGO_URL=mongo_url, AMQP_URL=amqp_url, CRM_QUEUE_EXPIRES_MS=expires)
        try:
            yield mongo_url, amqp_url
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value


@pytest.fixture
def settings(servers):
    """Settings for this test alone: its own databases, queues and exchanges."""
    tag = f"t{uuid.uuid4().hex[:8]}"
    mongo_url, amqp_url = servers
    own = dataclasses.replace(
        Settings.from_env(), mongo_url=mongo_url, amqp_url=amqp_url,
        db_prefix=tag, queue_prefix=f"{tag}_",
        exchange=f"{tag}_crm.events", dead_letter_exchange=f"{tag}_crm.dead")
    yield own
    _drop_databases(own)


def _drop_databases(settings: Settings) -> None:
    from shared import mongo

    client = mongo.connect(settings)
    try:
        for name in client.list_database_names():
            if name.startswith(f"{settings.db_prefix}_"):
                client.drop_database(name)
    finally:
        client.close()
