"""The outbox relay's pass and the request publisher's hold-off, with fakes."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from ingest.publishing import PromptPublisher
from pymongo.errors import AutoReconnect

from shared.backbone import relay
from shared.backbone.publisher import PublishError, Unroutable


class FakeOutbox:
    def __init__(self, pending=3, error=None):
        self.pending, self.error, self.calls = pending, error, []

    def relay_pending(self, older_than):
        self.calls.append(older_than)
        if self.error:
            raise self.error
        relayed, self.pending = self.pending, 0
        return relayed


def test_relay_pass_publishes_pending_batches():
    outbox = FakeOutbox(pending=3)
    assert relay.relay_once(outbox, timedelta(seconds=5), lambda: True) == 3
    assert outbox.calls == [timedelta(seconds=5)]


def test_relay_pass_skips_while_the_broker_is_down():
    outbox = FakeOutbox()
    assert relay.relay_once(outbox, timedelta(0), lambda: False) == 0
    assert outbox.calls == []


@pytest.mark.parametrize("error", [AutoReconnect("db gone"), RuntimeError("surprise")])
def test_relay_pass_survives_failures(error):
    assert relay.relay_once(FakeOutbox(error=error), timedelta(0), lambda: True) == 0


class FlakyBroker:
    def __init__(self):
        self.up, self.published = False, []

    def publish(self, envelopes):
        if not self.up:
            raise PublishError("connection refused")
        self.published.extend(envelopes)


def test_publisher_holds_off_after_a_failure_then_tries_again():
    inner = FlakyBroker()
    publisher = PromptPublisher(inner, holdoff_seconds=0.2)
    with pytest.raises(PublishError):
        publisher.publish([{"event_id": "1"}])
    inner.up = True
    with pytest.raises(PublishError, match="relay"):
        publisher.publish([{"event_id": "2"}])  # within the hold-off: not even tried
    assert inner.published == []
    threading.Event().wait(0.25)
    publisher.publish([{"event_id": "3"}])
    assert inner.published == [{"event_id": "3"}]



def test_unroutable_batches_do_not_start_a_hold_off():
    class NoQueueYet:
        def __init__(self):
            self.attempts = 0

        def publish(self, envelopes):
            self.attempts += 1
            raise Unroutable("no queue bound for order.placed")

    inner = NoQueueYet()
    publisher = PromptPublisher(inner, holdoff_seconds=60)
    for _ in range(2):
        with pytest.raises(Unroutable):
            publisher.publish([{"event_id": "1"}])
    assert inner.attempts == 2
