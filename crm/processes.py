"""The process table: every process `crm up` runs, and how each shows it is ready.

HTTP apps run under gunicorn and are ready when `GET <url>/readyz` answers
200; workers are ready once they touch the file named by `CRM_READY_FILE`
(shared.readiness.mark_ready). Ports come from `<SERVICE>_PORT`, process
counts from `<SERVICE>_WORKERS` and `<SERVICE>_THREADS`.

Metrics (shared/metrics.py): every HTTP app answers `GET /metrics` on its own
port; every worker serves them on its metrics port, `<WORKER>_METRICS_PORT`
(e.g. `CAMPAIGNS_SENDER_METRICS_PORT`), by default the one in WORKERS below,
handed to it as `CRM_METRICS_PORT`.

deploy/docker-compose.yml is generated from this table (`crm compose`,
crm/compose.py), so it runs the same commands, one service per line here.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field

from shared.config import SERVICE_PORTS, env_int

# service -> (import name of its package, default gunicorn workers)
HTTP_APPS = {
    "gateway": ("gateway", 2),
    "ingest": ("ingest", 1),
    "segments": ("segments", 1),
    "campaigns": ("campaigns", 1),
    "vendor_sim": ("vendor_sim", 1),
    "receipts": ("receipts", 1),
}

# process name -> (module run with `python -m`, default metrics port)
WORKERS = {
    "ingest-relay": ("ingest.relay", 9101),  # ingest's outbox relay to RabbitMQ
    "segments-projector": ("segments.projection.consumer", 9102),  # customer profile projector
    # audience chunks -> communications log
    "campaigns-dispatcher": ("campaigns.delivery.dispatcher", 9103),
    # queued messages -> the vendor (scales by adding)
    "campaigns-sender": ("campaigns.delivery.sender", 9104),
    "receipts-consumer": ("receipts.consumer", 9105),  # delivery receipts -> statuses, batched
    "campaigns-attribution": ("campaigns.results.worker", 9106),  # orders -> campaign results
}

DEFAULT_THREADS = 4


@dataclass(frozen=True)
class Process:
    name: str
    argv: tuple[str, ...]
    # HTTP apps: their readiness URL. Workers: None (they use a ready file).
    ready_url: str | None = None
    # Where its metrics are, from this machine.
    metrics_url: str | None = None
    # Variables of this process alone, on top of the suite's environment.
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def uses_ready_file(self) -> bool:
        return self.ready_url is None


def http_port(service: str, env: Mapping[str, str] | None = None) -> int:
    return env_int(f"{service.upper()}_PORT", SERVICE_PORTS[service], env)


def metrics_port(worker: str, env: Mapping[str, str] | None = None) -> int:
    key = worker.upper().replace("-", "_")
    return env_int(f"{key}_METRICS_PORT", WORKERS[worker][1], env)


def _gunicorn_options() -> tuple[str, ...]:
    # Recent gunicorn opens a control socket at one path per user: our six apps
    # (and a second suite under test) would fight over it. Older ones lack the flag.
    from gunicorn.config import KNOWN_SETTINGS

    if any(setting.name == "control_socket_disable" for setting in KNOWN_SETTINGS):
        return ("--no-control-socket",)
    return ()


def gunicorn_argv(service: str, env: Mapping[str, str] | None = None,
                  python: str = sys.executable) -> tuple[str, ...]:
    package, default_workers = HTTP_APPS[service]
    key = service.upper()
    host = (os.environ if env is None else env).get("CRM_BIND_HOST", "127.0.0.1")
    return (
        python, "-m", "gunicorn",
        # Metrics of all its workers on /metrics (prometheus_client's multiprocess mode).
        "--config", "python:shared.gunicorn_conf",
        "--bind", f"{host}:{http_port(service, env)}",
        "--workers", str(env_int(f"{key}_WORKERS", default_workers, env)),
        "--threads", str(env_int(f"{key}_THREADS", DEFAULT_THREADS, env)),
        # A stop must finish well within the supervisor's grace period.
        "--graceful-timeout", "10",
        "--timeout", "120",
        # gunicorn's default (2 s) closes idle keep-alive connections so soon that a
        # client polling every 2 s races the close and sees "connection aborted".
        # Longer than a load balancer's idle timeout (60 s), so the client side closes first.
        "--keep-alive", "75",
        "--log-level", "warning",
        *_gunicorn_options(),
        f"{package}.app:create_app()",
    )


def process_table(env: Mapping[str, str] | None = None,
                  python: str = sys.executable) -> list[Process]:
    """`python`: the interpreter in the commands (crm/compose.py names the image's)."""
    table = []
    for service in HTTP_APPS:
        url = f"http://127.0.0.1:{http_port(service, env)}"
        table.append(Process(service, gunicorn_argv(service, env, python),
                             ready_url=f"{url}/readyz", metrics_url=f"{url}/metrics"))
    for name, (module, _port) in WORKERS.items():
        port = metrics_port(name, env)
        table.append(Process(name, (python, "-m", module),
                             metrics_url=f"http://127.0.0.1:{port}/metrics",
                             env={"CRM_METRICS_PORT": str(port)}))
    return table


def gateway_url(env: Mapping[str, str] | None = None) -> str:
    return f"http://127.0.0.1:{http_port('gateway', env)}"
