"""The segments outbox relay: passes until stopped, failures logged and retried next pass."""
from __future__ import annotations

import threading
from datetime import timedelta

from pymongo.errors import AutoReconnect

from shared.backbone.relay import relay_once, start_relay


class FakeEventLog:
    def __init__(self, results):
        self.results = list(results)
        self.calls: list[timedelta] = []
        self.drained = threading.Event()

    def relay_pending(self, older_than):
        self.calls.append(older_than)
        if not self.results:
            self.drained.set()
            return 0
        result = self.results.pop(0)
        if isinstance(result, Exception):
            raise result
        return result


def test_a_pass_reports_what_it_relayed_and_survives_failures():
    log = FakeEventLog([3, AutoReconnect("db down"), RuntimeError("bug")])
    assert [relay_once(log, timedelta(seconds=5)) for _ in range(3)] == [3, 0, 0]
    assert log.calls == [timedelta(seconds=5)] * 3


def test_the_relay_thread_keeps_passing_until_stopped():
    log = FakeEventLog([AutoReconnect("db down"), 2])
    stop = threading.Event()
    thread = start_relay(log, stop, interval=0.01, older_than=7)
    assert log.drained.wait(5), "the relay stopped passing after a failure"
    stop.set()
    thread.join(5)
    assert not thread.is_alive() and log.calls[0] == timedelta(seconds=7)
