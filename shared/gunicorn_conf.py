"""gunicorn settings of every HTTP app of the suite (`--config python:shared.gunicorn_conf`,
crm/processes.py): prometheus_client's multiprocess mode (shared/metrics.py).

Each gunicorn worker writes its metric values to files in PROMETHEUS_MULTIPROC_DIR and
`/metrics` adds up the files, so the directory belongs to one process group (one service
under `crm up`, one container under Compose): wiped when the master starts, or a restart
would add the last run's counts to this one's, and cleaned of each worker that exits,
or its gauges would still be reported as live.
"""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

MULTIPROC_DIR_ENV = "PROMETHEUS_MULTIPROC_DIR"


def metrics_directory() -> Path:
    """PROMETHEUS_MULTIPROC_DIR, or a new temporary one (then set for the workers)."""
    path = os.environ.get(MULTIPROC_DIR_ENV) or tempfile.mkdtemp(prefix="crm-metrics-")
    os.environ[MULTIPROC_DIR_ENV] = path
    return Path(path)


def on_starting(server) -> None:
    # In the master, before any worker is forked (they inherit the variable) and
    # before the app is imported (prometheus_client picks its mode at import).
    directory = metrics_directory()
    directory.mkdir(parents=True, exist_ok=True)
    for leftover in directory.glob("*.db"):
        leftover.unlink(missing_ok=True)


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
