"""A worker process's life around its consumer loop (`python -m <service>.<worker>`)."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping, Sequence


def run_worker(consumer, log: logging.Logger, what: str, extra: Mapping[str, object], *,
               beside: Sequence[Callable[[threading.Event], object]] = (),
               on_stop: Sequence[Callable[[], object]] = ()) -> None:
    """Run `consumer` (a shared.backbone.consumer.Consumer) until SIGTERM or SIGINT ends it.

    Each of `beside` starts a thread that runs next to the loop (the outbox relay, a
    scheduler) and is given the one stop event, which is set once the loop has ended;
    then each of `on_stop` runs, in order (closing clients, clearing the ready file).
    Logs `<what> starting` (with `extra`) and `<what> stopped`."""
    consumer.install_signal_handlers()
    stop = threading.Event()
    for start in beside:
        start(stop)
    log.info(f"{what} starting", extra=dict(extra))
    try:
        consumer.run()
    finally:
        stop.set()
        for step in on_stop:
            step()
        log.info(f"{what} stopped")
