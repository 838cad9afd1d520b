"""shared.wiring: built on first use, once per process, closed exactly once."""
from __future__ import annotations

import threading
import time

from shared import wiring
from shared.wiring import Wiring


class FakeClient:
    def __init__(self):
        self.closed = False

    def close(self):
        self.closed = True


class CountingBuild:
    """A build function that records every client it made."""

    def __init__(self):
        self.clients: list[FakeClient] = []

    def __call__(self):
        client = FakeClient()
        self.clients.append(client)
        return {"client": client, "store": ("store", len(self.clients))}


def test_nothing_is_built_until_first_use():
    build = CountingBuild()
    wired = Wiring(build)
    assert build.clients == []
    assert wired["store"] == ("store", 1)
    assert wired["store"] == ("store", 1)
    assert len(build.clients) == 1


def test_a_forked_child_builds_its_own(monkeypatch):
    build = CountingBuild()
    wired = Wiring(build)
    parent_store = wired["store"]
    monkeypatch.setattr(wiring.os, "getpid", lambda: -1)  # as seen from a gunicorn worker
    assert wired["store"] != parent_store
    assert len(build.clients) == 2


class SlowBuild(CountingBuild):
    """Connecting takes a while: without the lock every waiting thread would build."""

    def __call__(self):
        time.sleep(0.05)
        return super().__call__()


def test_concurrent_first_requests_build_once():
    build = SlowBuild()
    wired = Wiring(build)
    start = threading.Barrier(8)

    def first_request():
        start.wait()
        wired.built()

    threads = [threading.Thread(target=first_request) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(build.clients) == 1


def test_close_closes_what_was_built_and_the_next_use_builds_again():
    build = CountingBuild()
    wired = Wiring(build)
    wired.close()  # nothing built yet: nothing to close
    wired.built()
    wired.close()
    assert build.clients[0].closed
    wired.built()
    assert len(build.clients) == 2 and not build.clients[1].closed


def test_a_custom_teardown_receives_the_built_objects():
    torn_down = []
    wired = Wiring(CountingBuild(), teardown=torn_down.append)
    built = wired.built()
    wired.close()
    assert torn_down == [built]
