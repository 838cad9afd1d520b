"""JSON-lines logging carrying event and correlation ids."""
from __future__ import annotations

import contextvars
import logging
import sys

from pythonjsonlogger import json as jsonlogger

# A mutable default would be one dict shared by every context; None stands for "no fields".
_context: contextvars.ContextVar[dict | None] = contextvars.ContextVar("crm_log_context",
                                                                      default=None)


class _ContextFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        for key, value in (_context.get() or {}).items():
            if not hasattr(record, key):
                setattr(record, key, value)
        return True


def configure_logging(service: str, level: str = "INFO") -> None:
    """Send JSON lines to stderr; idempotent, safe to call in every process."""
    root = logging.getLogger()
    if any(getattr(h, "_crm", False) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler._crm = True  # type: ignore[attr-defined]
    handler.setFormatter(
        jsonlogger.JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service},
        )
    )
    handler.addFilter(_ContextFilter())
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("pika").setLevel(logging.WARNING)


class log_context:
    """`with log_context(event_id=..., correlation_id=...):` adds fields to every log line."""

    def __init__(self, **fields):
        self._fields = fields
        self._token = None

    def __enter__(self):
        self._token = _context.set({**(_context.get() or {}), **self._fields})
        return self

    def __exit__(self, *exc):
        _context.reset(self._token)
        return False
