"""The vendor simulator's logic with fakes: outcomes, idempotent accept, the courier."""
from __future__ import annotations

import json
import threading
import time

import pytest
from vendor_sim import domain
from vendor_sim.config import VendorConfig
from vendor_sim.courier import CallbackFailed, CallbackRefused, Courier
from vendor_sim.handlers import accept_messages


def test_outcomes_are_deterministic_and_near_the_failure_rate():
    options = dict(seed=7, failure_rate=0.1, min_delay_ms=10, max_delay_ms=20)
    outcomes = [domain.outcome(f"c.1.{i}", **options) for i in range(5000)]
    assert outcomes == [domain.outcome(f"c.1.{i}", **options) for i in range(5000)]
    failed = sum(o.status == domain.FAILED for o in outcomes)
    assert 400 <= failed <= 600
    assert all(10 <= o.delay_ms <= 20 for o in outcomes)
    assert all((o.reason is None) == (o.status == domain.SENT) for o in outcomes)
    other_seed = [domain.outcome(f"c.1.{i}", **{**options, "seed": 8}) for i in range(5000)]
    assert other_seed != outcomes


def test_signed_body_matches_receipts_signature_scheme():
    from receipts.domain import verify_signature

    body, header = domain.signed_body([{"message_id": "c.1.0"}], "k", 1000)
    assert json.loads(body) == {"receipts": [{"message_id": "c.1.0"}]}
    verify_signature("k", header, body, now=1000, freshness_seconds=10)


class FakeStore:
    def __init__(self, unreported=()):
        self.messages: dict[str, dict] = {}
        self.reported: list[str] = []
        self._unreported = list(unreported)

    def accept(self, documents):
        new = [d for d in documents if d["_id"] not in self.messages]
        self.messages.update({d["_id"]: d for d in new})
        return new

    def mark_reported(self, ids):
        self.reported.extend(ids)

    def unreported(self):
        return self._unreported


class FakeCourier:
    def __init__(self):
        self.scheduled = []

    def schedule(self, messages):
        self.scheduled.extend(messages)


def test_a_resent_batch_is_accepted_with_the_same_ids_and_sent_once():
    store, courier = FakeStore(), FakeCourier()
    batch = [{"message_id": f"c.1.{i}", "to": "a@b.c", "text": "hi"} for i in range(3)]
    first = accept_messages(batch, store=store, courier=courier)
    again = accept_messages(batch + batch[:1], store=store, courier=courier)
    assert again[:3] == first
    assert {r["status"] for r in first} == {"ACCEPTED"}
    assert len(courier.scheduled) == 3


def _courier(store, post, **overrides):
    config = VendorConfig(min_delay_ms=0, max_delay_ms=0, callback_batch=2,
                          callback_max_backoff_seconds=0.05, **overrides)
    return Courier(config, store, post=post)


def _wait(condition, timeout=5.0):
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)
    return condition()


def test_courier_batches_retries_and_reloads_unreported():
    calls, lock = [], threading.Lock()

    def post(_session, _config, receipts):
        with lock:
            calls.append([r["message_id"] for r in receipts])
            if len(calls) == 1:
                raise CallbackFailed("receipts down")

    reloaded = {"_id": "c.1.9", "provider_message_id": "pm", "to": "x", "text": "t"}
    store = FakeStore(unreported=[reloaded])
    courier = _courier(store, post)
    courier.start()
    try:
        courier.schedule([{"_id": f"c.1.{i}", "provider_message_id": "pm", "to": "x", "text": "t"}
                          for i in range(3)])
        assert _wait(lambda: len(store.reported) == 4)
    finally:
        courier.stop()
    assert sorted(store.reported) == ["c.1.0", "c.1.1", "c.1.2", "c.1.9"]
    assert all(len(c) <= 2 for c in calls)
    assert calls[0] in calls[1:]  # the failed batch was sent again as it was


def test_a_refused_batch_is_not_recorded_as_reported():
    def post(_session, _config, _receipts):
        raise CallbackRefused("401")

    store = FakeStore()
    courier = _courier(store, post)
    courier.start()
    try:
        courier.schedule([{"_id": "c.1.0", "provider_message_id": "pm", "to": "x", "text": "t"}])
        assert _wait(lambda: courier.waiting() == 0)
        time.sleep(0.1)
    finally:
        courier.stop()
    assert store.reported == []


@pytest.mark.parametrize("count, status", [(1001, 413), (0, 400)])
def test_send_api_limits(count, status):
    from vendor_sim.app import create_app

    class Context:
        config = VendorConfig()
        store = FakeStore()
        courier = FakeCourier()

        def readiness(self):
            return {"database": True}

    client = create_app(VendorConfig(), context=Context()).test_client()
    messages = [{"message_id": f"c.1.{i}", "to": "a@b.c", "text": "hi"} for i in range(count)]
    assert client.post("/v1/messages", json={"messages": messages}).status_code == status
    ok = client.post("/v1/messages", json={"messages": messages[:1] or
                                           [{"message_id": "c.1.0", "to": "a", "text": "t"}]})
    assert ok.status_code == 202
    assert ok.json["results"][0]["provider_message_id"] == domain.provider_message_id("c.1.0")
