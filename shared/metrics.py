"""The suite's Prometheus metrics: each defined once here, recorded by the shared layers.

Where the figures come from:
- HTTP apps (shared.http.install_metrics): requests and latency by route template
  and status, served at `/metrics`. They run under gunicorn with several worker
  processes, so prometheus_client runs in multiprocess mode there: each worker
  writes its values under PROMETHEUS_MULTIPROC_DIR (one directory per process
  group, wiped at start and cleaned of dead workers by shared/gunicorn_conf.py)
  and `/metrics` adds them up.
- Workers (one process each): `serve_worker_metrics()` serves the default registry
  on CRM_METRICS_PORT (crm/processes.py gives each worker its own) from a daemon
  thread; the consumer loop and the outbox relay call it, so every worker has one.
- Events: the publisher counts what the broker confirmed, the consumer loop what
  it acked, retried and dead-lettered, and the depth of its queue; the outbox
  relay the batches it found waiting.
- Campaigns and segments record vendor calls, messages sent, previews and the
  audience index size with the metrics below.

Names follow Prometheus' conventions (`_total` counters, `_seconds` durations);
gauges take the most recent value of a live process in multiprocess mode.
"""
from __future__ import annotations

import logging
import os
import threading
from collections import Counter as Tally
from collections.abc import Iterable, Mapping

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

log = logging.getLogger(__name__)

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"
METRICS_PORT_ENV = "CRM_METRICS_PORT"
CONTENT_TYPE = CONTENT_TYPE_LATEST
# From a health check (ms) to a preview at 1M profiles (tens of ms) to a whole import batch.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

HTTP_REQUESTS = Counter(
    "crm_http_requests_total", "HTTP requests answered, by route template and status.",
    ["service", "method", "route", "status"])
HTTP_LATENCY = Histogram(
    "crm_http_request_duration_seconds", "Time to answer an HTTP request, by route template.",
    ["service", "method", "route"], buckets=LATENCY_BUCKETS)

EVENTS_PUBLISHED = Counter(
    "crm_events_published_total", "Events the broker confirmed, by event type.", ["event_type"])
EVENTS_CONSUMED = Counter(
    "crm_events_consumed_total", "Events handled and acked, by queue and event type.",
    ["queue", "event_type"])
EVENTS_FAILED = Counter(
    "crm_events_failed_total",
    "Events whose handler failed on their own (sent to retry or, at the last attempt, "
    "to the dead letters), by queue and event type.", ["queue", "event_type"])
EVENTS_DEAD_LETTERED = Counter(
    "crm_events_dead_lettered_total", "Events put on <queue>.dead, by queue and event type.",
    ["queue", "event_type"])
QUEUE_DEPTH = Gauge(
    "crm_queue_messages", "Messages ready in a queue (and its .dead queue), as its consumer "
    "last saw them.", ["queue"], multiprocess_mode="livemostrecent")
OUTBOX_BACKLOG = Gauge(
    "crm_outbox_pending_batches", "Event batches waiting in an outbox at the relay's last pass.",
    ["outbox"], multiprocess_mode="livemostrecent")

VENDOR_CALLS = Counter(
    "crm_vendor_calls_total", "Batch calls to the messaging vendor, by outcome "
    "(accepted, an HTTP status, or unreachable).", ["outcome"])
VENDOR_RETRIES = Counter("crm_vendor_retries_total", "Vendor calls retried after a failure.")
MESSAGES_SENT = Counter(
    "crm_messages_sent_total", "Messages the vendor accepted (sends per second: rate() of it).")

PREVIEW_LATENCY = Histogram(
    "crm_audience_preview_seconds", "Time to count an audience for a preview.",
    buckets=LATENCY_BUCKETS)
AUDIENCE_INDEX_SIZE = Gauge(
    "crm_audience_index_profiles", "Profiles in this replica's in-memory audience index.",
    multiprocess_mode="livemostrecent")


def count_events(counter: Counter, event_types: Iterable[str], **labels: str) -> None:
    """Add one to `counter` per event, by event type (one inc per type, not per event)."""
    for event_type, count in Tally(event_types).items():
        counter.labels(event_type=event_type or "unknown", **labels).inc(count)


def exposition(env: Mapping[str, str] | None = None) -> bytes:
    """The text format of every metric of this process group."""
    env = os.environ if env is None else env
    if env.get(MULTIPROC_DIR_ENV):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        return generate_latest(registry)
    return generate_latest(REGISTRY)


_served_lock = threading.Lock()
_served_port: int | None = None


def serve_worker_metrics(env: Mapping[str, str] | None = None) -> int | None:
    """Serve this process's metrics on CRM_METRICS_PORT (once per process; later calls,
    e.g. from a relay thread beside the consumer loop, do nothing). Returns the port,
    or None when none is set (unit and integration tests) or it cannot be bound: a
    worker without metrics still does its job, so that is logged, not raised."""
    global _served_port
    env = os.environ if env is None else env
    port = env.get(METRICS_PORT_ENV, "").strip()
    if not port:
        return None
    with _served_lock:
        if _served_port is not None:
            return _served_port
        host = env.get("CRM_BIND_HOST", "127.0.0.1")
        try:
            start_http_server(int(port), addr=host)
        except (OSError, ValueError) as error:
            log.error("cannot serve metrics", extra={"port": port, "error": repr(error)})
            return None
        _served_port = int(port)
        log.info("serving metrics", extra={"port": _served_port})
        return _served_port
