"""The Grafana dashboard asks only for metrics the suite defines (shared/metrics.py),
and shows every one of them: a renamed metric cannot leave a panel silently empty."""
from __future__ import annotations

import json
import re
from pathlib import Path

from prometheus_client import REGISTRY

import shared.metrics  # noqa: F401  (registers the suite's metrics)

DASHBOARD = Path(__file__).resolve().parents[3] / "deploy" / "grafana" / "dashboards"


def defined() -> set[str]:
    return {family.name for family in REGISTRY.collect() if family.name.startswith("crm_")}


def queried() -> set[str]:
    names = set()
    for path in DASHBOARD.glob("*.json"):
        for panel in json.loads(path.read_text())["panels"]:
            for target in panel["targets"]:
                for name in re.findall(r"\b(crm_\w+)", target["expr"]):
                    names.add(re.sub(r"_(total|bucket|count|sum)$", "", name))
    return names


def test_every_panel_queries_a_defined_metric():
    assert queried() - defined() == set()


def test_every_defined_metric_has_a_panel():
    assert defined() - queried() == set()
