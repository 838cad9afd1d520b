"""Exactly-once effect under faults (issue 4, item 6): a kill -9 of one process of
the campaign pipeline, or a RabbitMQ restart, while a campaign is sending, ends
with every customer holding exactly one message, the vendor holding exactly one
message per customer, and stats equal to the log's statuses.

Each case launches a small paced campaign (`send_rate`) to its own city, kills
the process mid-send (the supervisor restarts it with backoff), then watches the
campaign complete with `sent + failed + pending == audience_size` at every read.

The broker restart uses a private RabbitMQ node started by scripts/servers.sh on
a free port (node `crm-<port>@localhost`) and a second suite on it: stopping the
broker every other test and engineer on this machine shares would break them.
"""
from __future__ import annotations

import os
import random
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from crm.seed import generate_customers
from crm.stack import SERVERS_SCRIPT, Stack, free_service_ports, port_free
from crm.supervisor import Output, port_answers
from shared.config import Settings
from shared.mongo import connect
from tests.support.campaigns import (
    assert_exactly_once,
    post_customers,
    read_riding_out,
    wait_audience,
    watch_until_completed,
)
from tests.support.suite import SERVICES, api_session

SEND_RATE = 150.0  # messages/s: seconds of sending, a wide window to kill in
TEMPLATE = "Hello {first_name|there}, your order ships free this week."
# process -> (audience size, when to kill it, in order). "sending": some receipts
# applied and some pending; "launch": right after the campaign is created, while
# segments streams the audience and the dispatcher logs it (1,200 = two chunks
# of 1,000, so a launch kill of the dispatcher can land between them).
CASES = {
    "campaigns-dispatcher": (1200, ("launch", "sending")),
    "campaigns-sender": (500, ("sending",)),
    "receipts-consumer": (500, ("sending",)),
    "vendor_sim": (500, ("sending",)),
    "receipts": (500, ("sending",)),
    "segments": (500, ("launch",)),
}


def _city(case: str) -> str:
    return "Faultpur-" + case.replace("_", "-")


def _rules(case: str) -> dict:
    return {"field": "city", "op": "eq", "value": _city(case)}


def _ingest(api, cases: dict[str, int], seed: int) -> dict[str, set[str]]:
    """`size` customers per case, each case in its own city; returns their ids."""
    records, audiences = [], {}
    for number, (case, size) in enumerate(cases.items()):
        customers = generate_customers(size, seed=seed + number,
                                       prefix=f"fault{seed}-{number}-")
        for customer in customers:
            customer["city"] = _city(case)
        records += customers
        audiences[case] = {c["external_id"] for c in customers}
    post_customers(api, records)
    for case, size in cases.items():
        wait_audience(api, _rules(case), size, timeout=120, interval=0.5)
    return audiences


def _launch(api, case: str) -> str:
    created = api.post(f"{api.base_url}/api/v1/campaigns", timeout=30, json={
        "name": f"Free shipping ({case} killed)", "rules": _rules(case),
        "message": TEMPLATE, "send_rate": SEND_RATE})
    assert created.status_code == 201, created.text
    return created.json()["id"]


def _wait_mid_send(api, campaign_id: str, timeout: float = 60) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        campaign = read_riding_out(api, campaign_id)
        stats = campaign["stats"]
        if stats["sent"] + stats["failed"] > 0 and stats["pending"] > 0:
            return campaign
        assert campaign["status"] != "completed", f"completed before the fault: {campaign}"
        time.sleep(0.1)
    raise AssertionError(f"campaign never seen mid-send: {campaign}")


def _watch_until_completed(api, campaign_id: str, timeout: float = 120) -> dict:
    return watch_until_completed(api, campaign_id, timeout=timeout, interval=0.5,
                                 read=read_riding_out)


def _wait_running(stack: Stack, process: str, timeout: float = 30) -> None:
    """Until the supervisor has the process up again after an earlier kill."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if stack.supervisor.child(process).ready and stack.supervisor.pid(process):
            return
        time.sleep(0.05)
    raise AssertionError(f"{process} not running again after {timeout}s")


@pytest.fixture(scope="module")
def audiences(api):
    return _ingest(api, {case: size for case, (size, _) in CASES.items()}, seed=61)


@pytest.mark.parametrize("process", list(CASES))
def test_a_kill_9_mid_send_leaves_one_message_per_customer(suite, api, audiences, process):
    stack, settings = suite
    restarts = stack.supervisor.child(process).restarts
    campaign_id = _launch(api, process)
    moments = CASES[process][1]
    for moment in moments:
        if moment == "sending":
            _wait_mid_send(api, campaign_id)
        _wait_running(stack, process)
        stack.kill(process)

    campaign = _watch_until_completed(api, campaign_id)
    assert stack.supervisor.child(process).restarts >= restarts + len(moments), process
    assert_exactly_once(api, settings, campaign, audiences[process])
    stack.wait_ready(60)  # the next case starts with the whole suite back


# -- the broker restart, on a private broker ---------------------------------

RABBIT_BIN = Path("/usr/lib/rabbitmq/bin") if Path("/usr/lib/rabbitmq/bin").is_dir() else None


def _rabbitmqctl(node: str, *args: str, timeout: float = 60) -> None:
    binary = str(RABBIT_BIN / "rabbitmqctl") if RABBIT_BIN else shutil.which("rabbitmqctl")
    assert binary, "rabbitmqctl not found (scripts/bootstrap.sh installs it)"
    subprocess.run([binary, "-q", "-n", node, *args], check=True, timeout=timeout,
                   stdout=subprocess.DEVNULL)


def _free_amqp_port() -> int:
    # servers.sh puts the node's distribution port at AMQP_PORT + 20000; both stay
    # below the ephemeral range (32768+), where outgoing connections take ports.
    for _ in range(50):
        port = random.randrange(10000, 12700)
        if port_free(port) and port_free(port + 20000):
            return port
    raise RuntimeError("no free port for a private broker")


@pytest.fixture(scope="module")
def private_broker(servers):
    """(amqp_url, node) of a RabbitMQ node of our own, stopped afterwards."""
    var = tempfile.mkdtemp(prefix="crm-faults-")
    port = _free_amqp_port()
    env = {key: value for key, value in os.environ.items() if key != "AMQP_URL"}
    env.update(AMQP_PORT=str(port), CRM_VAR_DIR=var, MONGO_URL=servers[0])
    started = subprocess.run(["bash", str(SERVERS_SCRIPT), "start"], env=env, timeout=150,
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert started.returncode == 0 and port_answers(port), started.stdout
        yield f"amqp://guest:guest@127.0.0.1:{port}/%2F", f"crm-{port}@localhost"
    finally:
        subprocess.run(["bash", str(SERVERS_SCRIPT), "stop", "rabbitmq"], env=env, timeout=120,
                       stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        shutil.rmtree(var, ignore_errors=True)


@pytest.fixture(scope="module")
def private_suite(private_broker):
    """The whole suite on the private broker: (stack, settings, api session, node)."""
    amqp_url, node = private_broker
    run = f"flt{uuid.uuid4().hex[:6]}"
    env = {**os.environ, "AMQP_URL": amqp_url, "CRM_DB_PREFIX": run,
           "CRM_QUEUE_PREFIX": f"{run}.", "CRM_LOG_LEVEL": "WARNING"}
    env.update(free_service_ports())
    stack = Stack(env, servers=False, output=Output())
    settings = Settings.from_env(env)
    stack.start()
    try:
        stack.wait_ready(180)
        yield stack, settings, api_session(stack, settings, "faults"), node
    finally:
        stack.stop()
        client = connect(settings)
        for service in SERVICES:
            client.drop_database(settings.database_name(service))
        client.close()


def test_a_broker_restart_mid_send_leaves_one_message_per_customer(private_suite):
    stack, settings, api, node = private_suite
    case = "broker"
    audience = _ingest(api, {case: 500}, seed=97)[case]
    campaign_id = _launch(api, case)
    _wait_mid_send(api, campaign_id)

    _rabbitmqctl(node, "stop_app")
    time.sleep(2)  # long enough for every process to notice its connection dropped
    _rabbitmqctl(node, "start_app")
    _rabbitmqctl(node, "await_startup")

    campaign = _watch_until_completed(api, campaign_id, timeout=180)
    assert_exactly_once(api, settings, campaign, audience)
