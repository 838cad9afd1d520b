"""The sender's pieces without servers: batching, pacing per campaign, error handling."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from campaigns.delivery.gate import GatedPacer, GatedVendor, SendGate
from campaigns.delivery.sender import (
    SendPacer,
    VendorError,
    _transient,
    send_events,
    vendor_batches,
)

from shared.backbone.envelope import new_event
from shared.backbone.events import MESSAGES_QUEUED


def queued(cid, count, rate=0.0):
    return new_event(MESSAGES_QUEUED, {"campaign_id": cid, "attempt": 1, "send_rate": rate,
                                       "messages": [{"message_id": f"{cid}.1.{n}",
                                                     "customer_external_id": f"c{n}",
                                                     "to": None if n == 0 else f"c{n}@x.in",
                                                     "text": "Hi"} for n in range(count)]},
                     producer="campaigns")


def test_messages_are_split_into_vendor_batches_per_campaign():
    batches = vendor_batches([queued("a", 1200), queued("b", 10, rate=5)], 500)
    assert [(cid, rate, len(m)) for cid, rate, m in batches] == [
        ("a", 0.0, 500), ("a", 0.0, 500), ("a", 0.0, 200), ("b", 5, 10)]
    first = batches[0][2][0]
    assert first["to"] == "unknown"  # the vendor refuses an empty address
    assert first["metadata"] == {"campaign_id": "a", "customer_external_id": "c0"}


class FakeClock:
    def __init__(self):
        self.now, self.slept = 100.0, []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(seconds)


def test_pacer_spaces_each_campaign_by_its_rate():
    clock = FakeClock()
    pacer = SendPacer(clock=clock, sleep=clock.sleep)
    assert pacer.wait("a", 100, 50.0) == 0.0          # first batch goes at once
    assert pacer.wait("a", 100, 50.0) == pytest.approx(2.0)  # 100 messages at 50/s
    assert pacer.wait("b", 100, 50.0) == 0.0          # another campaign has its own bucket
    assert pacer.wait("c", 1000, 0) == 0.0            # 0: no limit
    assert clock.slept == [pytest.approx(2.0)]


class FakeVendor:
    def __init__(self, fail_on=None):
        self.calls, self._fail_on = [], fail_on

    def send(self, messages):
        self.calls.append([m["message_id"] for m in messages])
        if self._fail_on and self._fail_on in self.calls[-1]:
            raise VendorError(500, "down")
        return [{"message_id": m["message_id"]} for m in messages]


def test_send_events_hands_every_message_over_and_raises_if_any_call_failed():
    with ThreadPoolExecutor(2) as pool:
        vendor = FakeVendor()
        assert send_events([queued("a", 700)], vendor=vendor, pacer=SendPacer(), pool=pool,
                           batch_size=300) == 700
        assert sorted(len(c) for c in vendor.calls) == [100, 300, 300]
        with pytest.raises(VendorError):
            send_events([queued("a", 700)], vendor=FakeVendor(fail_on="a.1.650"),
                        pacer=SendPacer(), pool=pool, batch_size=300)


def test_only_transient_vendor_errors_are_retried():
    assert _transient(VendorError(503, "")) and _transient(VendorError(429, ""))
    assert _transient(requests.ConnectionError()) and _transient(requests.Timeout())
    assert not _transient(VendorError(400, "bad batch"))
    assert not _transient(ValueError())


def test_the_gate_trusts_active_for_a_second_but_rereads_before_dropping():
    clock, controls, reads = FakeClock(), {"a": "active"}, []

    def control_of(cid):
        reads.append(cid)
        return controls.get(cid)

    gate = SendGate(control_of, ttl=1.0, clock=clock)
    assert gate.allows("a") and gate.allows("a") and reads == ["a"]  # cached
    controls["a"] = "paused"
    assert gate.allows("a")          # in flight: the cached answer is under a second old
    clock.now += 1.0
    assert not gate.allows("a") and not gate.allows("a") and reads == ["a", "a", "a"]
    controls["a"] = "active"         # resumed: a paused answer is never trusted from cache
    assert gate.allows("a")
    controls["b"] = "cancelled"
    assert not gate.allows("b")
    assert gate.allows("unknown")    # not a campaign of this database: not ours to stop


def test_a_paused_campaigns_batches_are_acked_unsent_and_not_paced():
    clock = FakeClock()
    gate = SendGate({"a": "paused", "b": "active"}.get, clock=clock)
    vendor = FakeVendor()
    pacer = GatedPacer(SendPacer(clock=clock, sleep=clock.sleep), gate)
    with ThreadPoolExecutor(1) as pool:
        sent = send_events([queued("a", 30, rate=10), queued("b", 20, rate=10)],
                           vendor=GatedVendor(vendor, gate), pacer=pacer, pool=pool,
                           batch_size=10)
    assert sent == 20
    assert [call[0].split(".")[0] for call in vendor.calls] == ["b", "b"]
    assert clock.slept == [pytest.approx(1.0)]  # b's second batch only
