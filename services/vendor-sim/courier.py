"""The delivery thread: reports each accepted message's outcome to the receipts webhook.

Messages wait in memory until their simulated delay is over; due receipts go
out in signed batches of up to `callback_batch`. A failed callback is retried
with exponential backoff (tenacity) until it is acknowledged (2xx); only then
are its messages recorded as reported. A 4xx other than 408/429 means the
webhook will never take that batch (bad signature, invalid body): it is logged
and dropped rather than retried forever. The thread is started lazily in the
process that serves requests (after gunicorn forks) and first reloads what was
accepted but never reported, so a restart loses nothing.
"""
from __future__ import annotations

import heapq
import itertools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import requests
from tenacity import Retrying, retry_if_exception_type, wait_exponential
from vendor_sim import domain
from vendor_sim.config import VendorConfig

log = logging.getLogger(__name__)


class CallbackRefused(Exception):
    """The webhook will never accept this batch."""


class CallbackFailed(Exception):
    """The webhook did not acknowledge this time; try again."""


def post_receipts(session: requests.Session, config: VendorConfig, receipts: list[dict]) -> None:
    body, signature = domain.signed_body(receipts, config.webhook_secret, int(time.time()))
    try:
        response = session.post(config.webhook_url, data=body,
                                timeout=config.callback_timeout_seconds,
                                headers={"Content-Type": "application/json",
                                         "X-Vendor-Signature": signature})
    except requests.RequestException as error:
        raise CallbackFailed(repr(error)) from error
    if response.status_code < 300:
        return
    if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
        raise CallbackRefused(f"{response.status_code}: {response.text[:300]}")
    raise CallbackFailed(f"{response.status_code}: {response.text[:300]}")


class Courier:
    def __init__(self, config: VendorConfig, store, post=post_receipts):
        self._config = config
        self._store = store
        self._post = post
        self._queue: list[tuple[float, int, dict]] = []
        self._sequence = itertools.count()
        self._wakeup = threading.Condition()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        concurrency = max(1, config.callback_concurrency)
        self._slots = threading.Semaphore(concurrency)
        self._senders = ThreadPoolExecutor(concurrency, thread_name_prefix="vendor-callback")
        self._sessions = threading.local()
        self._counter_lock = threading.Lock()
        self.reported = 0

    def start(self) -> None:
        # Reload what an earlier run accepted but never reported BEFORE anything new can
        # be accepted: done in the thread, the scan could also pick up messages a send
        # request had just stored and scheduled, and report them twice.
        self.schedule(self._store.unreported())
        self._thread = threading.Thread(target=self._run, name="vendor-courier", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stopping.set()
        with self._wakeup:
            self._wakeup.notify_all()
        if self._thread is not None:
            self._thread.join(timeout)
        self._senders.shutdown(wait=True)

    def schedule(self, messages: list[dict]) -> None:
        """Queue each message's receipt for when its simulated delay is over."""
        config, now = self._config, time.monotonic()
        with self._wakeup:
            for message in messages:
                result = domain.outcome(message["_id"], seed=config.seed,
                                        failure_rate=config.failure_rate,
                                        min_delay_ms=config.min_delay_ms,
                                        max_delay_ms=config.max_delay_ms)
                heapq.heappush(self._queue, (now + result.delay_ms / 1000, next(self._sequence),
                                             {"message": message, "outcome": result}))
            self._wakeup.notify_all()

    def waiting(self) -> int:
        with self._wakeup:
            return len(self._queue)

    def _run(self) -> None:
        while not self._stopping.is_set():
            if not self._slots.acquire(timeout=0.5):
                continue  # every sender busy
            due = self._next_due()
            if due:
                self._senders.submit(self._send, due)
            else:
                self._slots.release()

    def _send(self, due: list[dict]) -> None:
        session = getattr(self._sessions, "session", None)
        if session is None:
            session = self._sessions.session = requests.Session()
        try:
            self._deliver(session, due)
        except Exception:  # the database, say: keep going; a restart reloads them
            log.exception("recording reported receipts failed", extra={"receipts": len(due)})
        finally:
            self._slots.release()

    def _next_due(self) -> list[dict]:
        with self._wakeup:
            if not self._queue:
                self._wakeup.wait(0.5)
                return []
            wait = self._queue[0][0] - time.monotonic()
            if wait > 0:
                self._wakeup.wait(min(wait, 0.5))
                return []
            due = []
            now = time.monotonic()
            limit = self._config.callback_batch
            while self._queue and self._queue[0][0] <= now and len(due) < limit:
                due.append(heapq.heappop(self._queue)[2])
            return due

    def _deliver(self, session, due: list[dict]) -> None:
        reported_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        receipts = [domain.receipt(item["message"], item["outcome"], reported_at) for item in due]
        retrying = Retrying(retry=retry_if_exception_type(CallbackFailed),
                            wait=wait_exponential(
                                0.1, max=self._config.callback_max_backoff_seconds),
                            stop=lambda _state: self._stopping.is_set(), sleep=self._stopping.wait,
                            reraise=True, before_sleep=lambda state: log.warning(
                                "receipt callback failed; retrying",
                                extra={"error": str(state.outcome.exception()),
                                       "receipts": len(due)}))
        try:
            retrying(self._post, session, self._config, receipts)
        except CallbackRefused as error:
            log.error("receipt callback refused; batch dropped",
                      extra={"error": str(error), "receipts": len(due)})
            return
        except CallbackFailed:
            return  # stopping: these stay unreported and are reloaded at the next start
        self._store.mark_reported([item["message"]["_id"] for item in due])
        with self._counter_lock:
            self.reported += len(due)
