"""How a worker process (no HTTP port) tells its supervisor that it is ready.

`crm up` passes `CRM_READY_FILE=<path>` to each worker it starts and treats
the worker as ready once that file exists. A worker calls `mark_ready()` when
its connections are up and its queues declared, and `clear_ready()` when it
stops serving. Outside the supervisor (no variable) both do nothing.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

READY_FILE_ENV = "CRM_READY_FILE"


def _ready_file(env: Mapping[str, str] | None) -> Path | None:
    path = (os.environ if env is None else env).get(READY_FILE_ENV)
    return Path(path) if path else None


def mark_ready(env: Mapping[str, str] | None = None) -> None:
    path = _ready_file(env)
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole then renamed, so the supervisor never sees a half-made file.
    partial = path.with_name(path.name + ".tmp")
    partial.write_text(f"{os.getpid()}\n")
    partial.replace(path)


def clear_ready(env: Mapping[str, str] | None = None) -> None:
    path = _ready_file(env)
    if path is not None:
        path.unlink(missing_ok=True)
