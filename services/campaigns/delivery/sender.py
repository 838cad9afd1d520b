"""The sender worker: `python -m campaigns.delivery.sender` (scale by running more of them).

Consumes `<prefix>campaigns.sends` (bound to `messages.queued`) in batches and
hands the messages to the vendor's HTTP batch API (`POST <VENDOR_SIM_URL>/v1/messages`,
`send_batch_size` messages per call, `sender_threads` calls at once). A batch
of events is acked only once the vendor accepted every message in it; a crash
or a failed call means redelivery, and the vendor drops message ids it has
already accepted, so nobody gets a message twice.

Vendor calls retry with exponential backoff (tenacity) on connection errors,
timeouts, 429 and 5xx for `vendor_retry_seconds`; after that the error goes
to the consumer loop, which keeps retrying while the vendor is unreachable.
Any other 4xx is the batch's fault: the consumer retries it event by event
and dead-letters what the vendor keeps refusing.

A paused or cancelled campaign's messages are acked unsent by the gate wrapped
around the vendor client and the pacer (campaigns/delivery/gate.py).

Send rate: a campaign's `send_rate` (messages per second, per sender process)
paces its calls with a token bucket; 0 means as fast as the vendor answers.
"""
from __future__ import annotations

import functools
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests
from tenacity import (
    Retrying,
    retry_if_exception,
    stop_after_delay,
    wait_exponential,
    wait_random,
)

from campaigns.config import CampaignsConfig
from campaigns.delivery.gate import GatedPacer, GatedVendor, SendGate, campaign_gate
from shared.backbone.consumer import Consumer, ConsumerOptions
from shared.backbone.events import MESSAGES_QUEUED
from shared.backbone.worker import run_worker
from shared.logs import configure_logging
from shared.metrics import MESSAGES_SENT, VENDOR_CALLS, VENDOR_RETRIES

log = logging.getLogger(__name__)


class VendorError(Exception):
    """The vendor answered with an error status."""

    def __init__(self, status: int, body: str):
        super().__init__(f"vendor answered {status}: {body[:300]}")
        self.status = status


def _transient(error: BaseException) -> bool:
    if isinstance(error, VendorError):
        return error.status == 429 or error.status >= 500
    return isinstance(error, (requests.ConnectionError, requests.Timeout))


class VendorClient:
    """One requests.Session per thread; `send(batch)` returns the vendor's results."""

    def __init__(self, base_url: str, timeout: float, retry_seconds: float):
        self._url = base_url.rstrip("/") + "/v1/messages"
        self._timeout = timeout
        self._retry_seconds = retry_seconds
        self._local = threading.local()

    def _session(self) -> requests.Session:
        if getattr(self._local, "session", None) is None:
            self._local.session = requests.Session()
        return self._local.session

    def send(self, messages: list[dict]) -> list[dict]:
        retrying = Retrying(retry=retry_if_exception(_transient), reraise=True,
                            stop=stop_after_delay(self._retry_seconds),
                            wait=wait_exponential(multiplier=0.2, max=5.0) + wait_random(0, 0.2),
                            before_sleep=self._before_retry)
        return retrying(self._post, messages)

    @staticmethod
    def _before_retry(state) -> None:
        VENDOR_RETRIES.inc()
        log.warning("vendor call failed; retrying",
                    extra={"error": repr(state.outcome.exception())})

    def _post(self, messages: list[dict]) -> list[dict]:
        try:
            response = self._session().post(self._url, json={"messages": messages},
                                            timeout=self._timeout)
        except requests.RequestException:
            VENDOR_CALLS.labels(outcome="unreachable").inc()
            raise
        if response.status_code >= 300:
            VENDOR_CALLS.labels(outcome=str(response.status_code)).inc()
            raise VendorError(response.status_code, response.text)
        results = response.json().get("results", [])
        VENDOR_CALLS.labels(outcome="accepted").inc()
        MESSAGES_SENT.inc(len(results))
        return results


class SendPacer:
    """A token bucket per campaign: at most `rate` messages per second (0: unpaced)."""

    def __init__(self, clock=time.monotonic, sleep=time.sleep):
        self._clock, self._sleep = clock, sleep
        self._next_free: dict[str, float] = {}
        self._lock = threading.Lock()

    def wait(self, campaign_id: str, count: int, rate: float) -> float:
        """Block until `count` messages may go; returns the seconds waited."""
        if rate <= 0:
            return 0.0
        with self._lock:
            now = self._clock()
            start = max(now, self._next_free.get(campaign_id, now))
            self._next_free[campaign_id] = start + count / rate
        delay = start - now
        if delay > 0:
            self._sleep(delay)
        return max(delay, 0.0)


def vendor_batches(envelopes: list[dict], size: int) -> list[tuple[str, float, list[dict]]]:
    """(campaign_id, send_rate, up to `size` vendor messages) for every queued message."""
    batches = []
    for envelope in envelopes:
        data = envelope["data"]
        outgoing = [{"message_id": m["message_id"], "to": m["to"] or "unknown",
                     "text": m["text"],
                     # API.md: every message handed to the vendor carries its unsubscribe link
                     # (for a List-Unsubscribe header, or to show beside the text).
                     "unsubscribe_url": m.get("unsubscribe_url"),
                     # echoed back in the receipt, as vendors do with callback data
                     "metadata": {"campaign_id": data["campaign_id"],
                                  "customer_external_id": m["customer_external_id"]}}
                    for m in data["messages"]]
        for start in range(0, len(outgoing), size):
            batches.append((data["campaign_id"], data.get("send_rate") or 0.0,
                            outgoing[start:start + size]))
    return batches


def send_events(envelopes: list[dict], *, vendor, pacer: SendPacer, pool: ThreadPoolExecutor,
                batch_size: int) -> int:
    """Hand every message of these events to the vendor; raises if any call failed."""
    def send(batch):
        campaign_id, rate, messages = batch
        pacer.wait(campaign_id, len(messages), rate)
        return len(vendor.send(messages))

    batches = vendor_batches([e for e in envelopes if e["event_type"] == MESSAGES_QUEUED],
                             batch_size)
    futures = [pool.submit(send, batch) for batch in batches]
    sent = sum(future.result() for future in futures)  # the first failure raises here
    log.info("messages handed to the vendor", extra={"messages": sent, "calls": len(batches)})
    return sent


def build_sender(config: CampaignsConfig, vendor=None,
                 gate: SendGate | None = None) -> tuple[Consumer, ThreadPoolExecutor]:
    vendor = vendor or VendorClient(config.vendor_url, config.vendor_timeout_seconds,
                                    config.vendor_retry_seconds)
    gate = gate or campaign_gate(config)  # paused/cancelled campaigns: delivery/gate.py
    pool = ThreadPoolExecutor(max_workers=config.sender_threads, thread_name_prefix="vendor")
    handle = functools.partial(send_events, vendor=GatedVendor(vendor, gate),
                               pacer=GatedPacer(SendPacer(), gate), pool=pool,
                               batch_size=config.send_batch_size)
    options = ConsumerOptions(queue=config.sends_queue, routing_keys=(MESSAGES_QUEUED,),
                              batch_size=config.sender_batch_size, batch_wait=0.05,
                              prefetch=config.sender_prefetch)
    return Consumer(config.settings, options, handle), pool


def main() -> None:
    config = CampaignsConfig.from_env()
    configure_logging("campaigns-sender", config.settings.log_level)
    consumer, pool = build_sender(config)
    run_worker(consumer, log, "sender", {"queue": config.sends_queue, "vendor": config.vendor_url},
               on_stop=(functools.partial(pool.shutdown, wait=False, cancel_futures=True),))


if __name__ == "__main__":
    main()
