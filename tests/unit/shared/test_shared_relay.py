"""shared.backbone.relay: the one outbox relay loop, its error policy and backoff, with fakes."""
from __future__ import annotations

import threading
from datetime import timedelta

from pymongo.errors import AutoReconnect

from shared.backbone import relay
from shared.backbone.publisher import PublishError


class FakeEventLog:
    """relay_pending answers from a script: a count, or an error to raise."""

    def __init__(self, results):
        self.results = list(results)
        self.calls: list[timedelta] = []

    def relay_pending(self, older_than):
        self.calls.append(older_than)
        result = self.results.pop(0) if self.results else 0
        if isinstance(result, Exception):
            raise result
        return result


class CountedStop(threading.Event):
    """A stop event that records each wait instead of sleeping, and stops after `waits`."""

    def __init__(self, waits: int):
        super().__init__()
        self.waits: list[float] = []
        self._left = waits

    def wait(self, timeout=None):
        self.waits.append(timeout)
        self._left -= 1
        if self._left <= 0:
            self.set()
        return self.is_set()


def test_failed_passes_back_off_and_a_good_pass_resets_the_wait():
    log = FakeEventLog([AutoReconnect("db down"), PublishError("broker gone"),
                        RuntimeError("bug"), 3, 0])
    stop = CountedStop(waits=5)
    relay.run_relay(log, stop, interval=1.0, older_than=5)
    assert stop.waits == [2.0, 4.0, 8.0, 1.0, 1.0]
    assert log.calls == [timedelta(seconds=5)] * 5


def test_the_backoff_is_capped_and_never_zero():
    stop = CountedStop(waits=7)
    relay.run_relay(FakeEventLog([AutoReconnect("db down")] * 7), stop, interval=0, older_than=0)
    assert stop.waits == [0.5, 1.0, 2.0, 4.0, 8.0, 10.0, 10.0]


def test_a_pass_is_skipped_while_the_broker_is_down_without_backing_off():
    log = FakeEventLog([3])
    stop = CountedStop(waits=2)
    answers = iter([False, True])
    relay.run_relay(log, stop, interval=1.0, older_than=0, broker_up=lambda: next(answers))
    assert stop.waits == [1.0, 1.0] and log.calls == [timedelta(0)]


def test_a_broker_probe_that_raises_does_not_end_the_relay():
    def broken_probe():
        raise ValueError("bad url")

    assert relay.relay_once(FakeEventLog([3]), timedelta(0), broken_probe) == 0


def test_the_relay_thread_is_named_for_its_outbox_and_stops_when_told():
    stop = threading.Event()
    thread = relay.start_relay(FakeEventLog([]), stop, interval=0.01, older_than=0,
                               name="campaigns")
    assert thread.name == "campaigns-relay" and thread.daemon
    stop.set()
    thread.join(5)
    assert not thread.is_alive()
