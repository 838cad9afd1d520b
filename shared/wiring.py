"""A service's clients, built on first use in each process.

pymongo clients and pika connections must not cross a fork: gunicorn imports
the app in its master and forks the workers after, so a client built at import
time (or inherited from the master) would be shared by every worker. `Wiring`
builds on first use, builds again in a child process, and lets `close()`
close exactly what was built.
"""
from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

from shared.backbone import broker

Built = dict[str, Any]


def close_client(built: Built) -> None:
    """The usual teardown: every built object hangs off the one database client."""
    built["client"].close()


class Wiring:
    """`wiring["store"]` is the `store` that `build()` made in this process.

    `build` returns the objects by name; `teardown` closes them (default:
    the `client` entry)."""

    def __init__(self, build: Callable[[], Built],
                 teardown: Callable[[Built], None] = close_client):
        self._build = build
        self._teardown = teardown
        # Threads of one worker race for the first request; one builds, the rest wait.
        self._lock = threading.Lock()
        self._pid: int | None = None
        self._built: Built = {}

    def __getitem__(self, name: str) -> Any:
        return self.built()[name]

    def built(self) -> Built:
        with self._lock:
            if self._pid != os.getpid():
                self._built = self._build()
                self._pid = os.getpid()
            return self._built

    def close(self) -> None:
        # Closed outside the lock: a client's close() may wait on its network
        # threads, and no reader should queue behind that.
        with self._lock:
            built, pid = self._built, self._pid
            self._built, self._pid = {}, None
        # What a parent built before the fork is the parent's to close, not this process's.
        if built and pid == os.getpid():
            self._teardown(built)


class ServiceDependencies:
    """A service's composition root: `config`, its `store` and `event_log`
    built by the subclass's `_build()` on first use in each process, the
    `readiness()` of its database and broker, and `close()`. Tests pass fakes
    with the same attributes instead."""

    def __init__(self, config: Any):
        self.config = config
        self._wiring = Wiring(self._build)

    store = property(lambda self: self._wiring["store"])
    event_log = property(lambda self: self._wiring["event_log"])

    def readiness(self) -> dict[str, bool]:
        return {"database": self.store.reachable(),
                "broker": broker.broker_reachable(self.config.settings)}

    def close(self) -> None:
        self._wiring.close()

    def _build(self) -> Built:
        raise NotImplementedError
