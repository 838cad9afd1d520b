"""deploy/README.md keeps up with the process table: every process is in the scaling
table and every metrics port in the metrics table, so a new worker is documented."""
from __future__ import annotations

from pathlib import Path

from crm.processes import HTTP_APPS, WORKERS, http_port

MANUAL = (Path(__file__).resolve().parents[3] / "deploy" / "README.md").read_text()


def test_every_process_says_whether_it_scales_out():
    for name in [*HTTP_APPS, *WORKERS]:
        assert f"`{name.replace('_', '-')}`" in MANUAL, name


def test_every_metrics_address_is_listed():
    for name, (_module, port) in WORKERS.items():
        assert f"| {name} | {port} |" in MANUAL, name
    for name in HTTP_APPS:
        assert f"| {name.replace('_', '-')} | {http_port(name)}" in MANUAL, name
