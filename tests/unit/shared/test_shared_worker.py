"""run_worker: what every worker process does around its consumer loop, in order."""
from __future__ import annotations

import logging

import pytest

from shared.backbone.worker import run_worker


class RecordingConsumer:
    def __init__(self, steps: list, fail: bool = False):
        self.steps, self.fail = steps, fail

    def install_signal_handlers(self):
        self.steps.append("signals")

    def run(self):
        self.steps.append("run")
        if self.fail:
            raise RuntimeError("connection lost for good")


def test_threads_beside_start_after_the_signal_handlers_and_stop_before_the_cleanup(caplog):
    steps, events = [], []

    def beside(stop):
        events.append(stop)
        steps.append(("beside", stop.is_set()))

    caplog.set_level(logging.INFO, logger="worker-test")
    run_worker(RecordingConsumer(steps), logging.getLogger("worker-test"), "receipts consumer",
               {"queue": "receipts.deliveries"}, beside=(beside, beside),
               on_stop=(lambda: steps.append(("close", events[0].is_set())),
                        lambda: steps.append("clear ready")))

    assert steps == ["signals", ("beside", False), ("beside", False), "run", ("close", True),
                     "clear ready"]
    assert events[0] is events[1]
    assert [r.getMessage() for r in caplog.records] == ["receipts consumer starting",
                                                        "receipts consumer stopped"]
    assert caplog.records[0].queue == "receipts.deliveries"


def test_the_cleanup_runs_when_the_loop_fails():
    steps, events = [], []
    with pytest.raises(RuntimeError):
        run_worker(RecordingConsumer(steps, fail=True), logging.getLogger("worker-test"),
                   "sender", {}, beside=(events.append,), on_stop=(lambda: steps.append("shut"),))
    assert steps == ["signals", "run", "shut"]
    assert events[0].is_set()
