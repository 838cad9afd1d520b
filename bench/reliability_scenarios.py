"""The scenarios of `make reliability` (bench/reliability.py): a workload (an ingest of
orders, or a campaign) with a fault in the middle of it, counted at the end."""
from __future__ import annotations

import json
import threading
import time
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import pika
import requests

from crm.seed import generate_customers
from receipts.config import DEVELOPMENT_WEBHOOK_SECRET
from receipts.domain import sign
from tests.support.campaigns import (
    all_messages,
    post_customers,
    read_riding_out,
    vendor_messages,
    wait_audience,
    watch_until_completed,
)

BATCH = 50
SEND_RATE = 40.0  # messages/s per sender: a few seconds of sending to land the fault in
INGEST_SIDE = ("gateway", "ingest", "ingest-relay", "segments-projector")
CAMPAIGN_SIDE = ("segments", "campaigns", "campaigns-dispatcher", "campaigns-sender",
                 "vendor_sim", "receipts", "receipts-consumer", "campaigns-attribution")


@dataclass
class Row:
    scenario: str
    sent: int
    arrived: int
    lost: int
    duplicated: int
    recovered: bool
    note: str = ""

    @property
    def held(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and self.recovered


def _customers(run, label: str) -> list[dict]:
    """`run.size` customers of the scenario's own city, ingested and projected."""
    customers = generate_customers(run.size, seed=zlib.crc32(label.encode()) % 10_000,
                                   prefix=f"{label}-")
    for customer in customers:
        customer["city"] = label
    post_customers(run.api, customers)
    wait_audience(run.api, _rules(label), run.size, timeout=180, interval=0.5)
    return customers


def _rules(label: str) -> dict:
    return {"field": "city", "op": "eq", "value": label}


def _post_until_answered(api, batch: list[dict], patience: float = 180) -> int:
    """A client's retry: the same batch again until a 202 (idempotent by external_id)."""
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        try:
            answer = api.post(f"{api.base_url}/api/v1/orders", json={"records": batch},
                              timeout=30)
        except requests.RequestException:
            answer = None
        if answer is not None and answer.status_code == 202:
            return answer.json()["accepted"]
        time.sleep(0.5)
    raise AssertionError("a batch of orders was never accepted")


def _order_counts(api, customers: list[dict]) -> Counter:
    counts = Counter()
    for customer in customers:
        try:
            answer = api.get(f"{api.base_url}/api/v1/customers/{customer['external_id']}",
                             timeout=30)
        except requests.RequestException:
            continue  # counted on the next poll
        if answer.status_code == 200:
            counts[customer["external_id"]] = answer.json()["order_count"]
    return counts


def ingest_under(run, label: str, fault: Callable[[], None], patience: float = 180) -> Row:
    customers = _customers(run, label)
    orders = [{"external_id": f"{c['external_id']}-o1", "customer_external_id": c["external_id"],
               "amount": 499.0, "placed_at": "2026-11-01T10:00:00Z"} for c in customers]
    accepted = _post_until_answered(run.api, orders[:BATCH])
    faulted = threading.Thread(target=fault)
    faulted.start()
    for start in range(BATCH, len(orders), BATCH):
        accepted += _post_until_answered(run.api, orders[start:start + BATCH])
    faulted.join()
    deadline, counts = time.monotonic() + patience, Counter()
    while time.monotonic() < deadline:
        counts = _order_counts(run.api, customers)
        if sum(1 for c in customers if counts[c["external_id"]] >= 1) == accepted:
            break
        time.sleep(2)
    arrived = sum(1 for c in customers if counts[c["external_id"]] >= 1)
    duplicated = sum(max(n - 1, 0) for n in counts.values())
    return Row(label, accepted, arrived, accepted - arrived, duplicated,
               arrived == accepted and time.monotonic() < deadline)


def _wait_mid_send(run, campaign_id: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        stats = read_riding_out(run.api, campaign_id)["stats"]
        if stats["sent"] + stats["failed"] > 0 and stats["pending"] > 0:
            return
        time.sleep(0.1)
    raise AssertionError("the campaign was never seen mid-send")


def campaign_under(run, label: str, fault: Callable[[], None], patience: float = 240,
                   after: Callable[[str], int] | None = None) -> Row:
    audience = {c["external_id"] for c in _customers(run, label)}
    created = run.api.post(f"{run.api.base_url}/api/v1/campaigns", timeout=30, json={
        "name": f"Reliability: {label}", "rules": _rules(label),
        "message": "Hi {first_name|there}, one message only.", "send_rate": SEND_RATE})
    assert created.status_code == 201, created.text
    campaign_id = created.json()["id"]
    _wait_mid_send(run, campaign_id)
    fault()
    try:
        campaign = watch_until_completed(run.api, campaign_id, timeout=patience, interval=1,
                                         read=read_riding_out)
        recovered = True
    except AssertionError:
        campaign, recovered = read_riding_out(run.api, campaign_id), False
    changed = after(campaign_id) if after else 0
    logged = Counter(m["customer_external_id"] for m in all_messages(run.api, campaign_id))
    vendor = Counter(v["metadata"]["customer_external_id"]
                     for v in vendor_messages(run.direct, campaign_id))
    arrived = len(set(vendor) & audience)
    duplicated = (sum(vendor.values()) - len(vendor)) + (sum(logged.values()) - len(logged)) \
        + len(set(vendor) - audience) + changed
    stats = campaign["stats"]
    exact = stats["audience_size"] == len(audience) and stats["pending"] == 0
    return Row(label, len(audience), arrived, len(audience - set(vendor)), duplicated,
               recovered and exact)


def _restart_server(run, kill: Callable[[], int], down: float = 3) -> Callable[[], None]:
    def fault() -> None:
        kill()
        time.sleep(down)
        run.servers.restart()
    return fault


def _slowed(proxy, seconds: float = 8, delay: float = 0.05) -> Callable[[], None]:
    def fault() -> None:
        proxy.delay = delay
        time.sleep(seconds)
        proxy.delay = 0.0
    return fault


def _replay_receipts(run) -> Callable[[str], int]:
    """After the campaign: every receipt again, twice, newest first, with the opposite
    status. Returns how many log entries changed status (first final status wins)."""
    def replay(campaign_id: str) -> int:
        before = {m["message_id"]: m["status"] for m in all_messages(run.api, campaign_id)}
        receipts = [{"message_id": mid, "status": "FAILED" if status == "SENT" else "SENT",
                     "reported_at": "2026-12-01T00:00:00+00:00"}
                    for mid, status in reversed(list(before.items()))]
        body = json.dumps({"receipts": receipts + receipts}).encode()
        url = run.settings.service_urls["receipts"] + "/webhooks/vendor/receipts"
        answer = requests.post(url, data=body, timeout=30, headers={
            "Content-Type": "application/json",
            "X-Vendor-Signature": sign(DEVELOPMENT_WEBHOOK_SECRET, int(time.time()), body)})
        assert answer.status_code == 200, answer.text
        time.sleep(5)  # the receipts consumer applies them in batches
        after = {m["message_id"]: m["status"] for m in all_messages(run.api, campaign_id)}
        return sum(after[mid] != status for mid, status in before.items())
    return replay


def poison(run) -> Row:
    """A message no consumer can read, then a normal ingest: the poison ends in a dead
    letter queue and everything else arrives."""
    connection = pika.BlockingConnection(pika.URLParameters(run.direct.amqp_url))
    channel = connection.channel()
    channel.basic_publish(run.settings.exchange, "customer.upserted", b"\x00not json{",
                          pika.BasicProperties(delivery_mode=2, content_type="application/json"))
    connection.close()
    row = ingest_under(run, "poison-message", lambda: None)
    deadline, dead = time.monotonic() + 60, 0
    while time.monotonic() < deadline and not dead:
        dead = sum(n for name, n in run.servers.queue_depths().items()
                   if name.startswith(run.settings.queue_prefix) and name.endswith(".dead"))
        time.sleep(1)
    stuck = {name: n for name, n in run.servers.queue_depths().items()
             if name.startswith(run.settings.queue_prefix) and not name.endswith(".dead") and n}
    row.recovered = row.recovered and dead >= 1 and not stuck
    row.note = f"{dead} in dead-letter queues; still queued elsewhere: {stuck or 'nothing'}"
    return row


def _killed(process: str, workload: Callable) -> Callable:
    def scenario(run) -> Row:
        return workload(run, f"kill-{process}", lambda: run.stack.kill(process))
    return scenario


SCENARIOS: dict[str, Callable] = {
    **{f"kill -9 {p} mid-ingest": _killed(p, ingest_under) for p in INGEST_SIDE},
    **{f"kill -9 {p} mid-campaign": _killed(p, campaign_under) for p in CAMPAIGN_SIDE},
    "RabbitMQ killed and restarted mid-campaign": lambda run: campaign_under(
        run, "broker-restart", _restart_server(run, run.servers.kill_broker)),
    "database killed and restarted mid-ingest": lambda run: ingest_under(
        run, "database-ingest", _restart_server(run, run.servers.kill_database)),
    "database killed and restarted mid-campaign": lambda run: campaign_under(
        run, "database-campaign", _restart_server(run, run.servers.kill_database)),
    "connections cut mid-campaign": lambda run: campaign_under(
        run, "cut", lambda: (run.servers.database_proxy.cut(), run.servers.broker_proxy.cut())),
    "connections slowed mid-ingest": lambda run: ingest_under(
        run, "slow-ingest", _slowed(run.servers.database_proxy)),
    "connections slowed mid-campaign": lambda run: campaign_under(
        run, "slow-campaign", _slowed(run.servers.broker_proxy)),
    "duplicate and out-of-order receipts": lambda run: campaign_under(
        run, "receipts-replayed", lambda: None, after=_replay_receipts(run)),
    "poison message": poison,
}
