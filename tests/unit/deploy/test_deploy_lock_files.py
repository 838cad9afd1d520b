"""The lock files are current with pyproject.toml, and both install paths (the image
and scripts/bootstrap.sh) install from them: what is tested is what is deployed."""
from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[3]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
STALE = "run scripts/lock.sh after changing pyproject.toml's dependencies"


def pins(name: str) -> dict[str, Version]:
    found = {}
    for line in (ROOT / name).read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        match = re.fullmatch(r"([A-Za-z0-9._-]+)==([^\s;]+)", line)
        assert match, f"{name}: not an exact pin: {line!r}"
        found[canonicalize_name(match[1])] = Version(match[2])
    return found


def unpinned(requirements: list[str], pinned: dict[str, Version]) -> list[str]:
    problems = []
    for text in requirements:
        requirement = Requirement(text)
        version = pinned.get(canonicalize_name(requirement.name))
        if version is None or not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{text} (locked: {version})")
    return problems


def test_requirements_lock_pins_every_runtime_dependency_within_its_range():
    assert unpinned(PROJECT["dependencies"], pins("requirements.lock")) == [], STALE


def test_the_dev_lock_pins_every_tool_and_keeps_the_runtime_pins():
    runtime, dev = pins("requirements.lock"), pins("requirements-dev.lock")
    assert unpinned(PROJECT["optional-dependencies"]["dev"], dev) == [], STALE
    assert {name: dev.get(name) for name in runtime} == runtime, STALE


def test_the_image_and_bootstrap_install_from_the_lock_files():
    dockerfile = (ROOT / "deploy" / "Dockerfile").read_text()
    assert "COPY requirements.lock" in dockerfile
    assert re.search(r"pip install --no-deps -r requirements\.lock", dockerfile)
    bootstrap = (ROOT / "scripts" / "bootstrap.sh").read_text()
    assert "-r requirements.lock" in bootstrap and "-r requirements-dev.lock" in bootstrap
    # The project itself without resolving anything the lock files did not pin.
    assert "install -q --no-deps -e ." in bootstrap
