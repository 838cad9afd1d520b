"""deploy/Dockerfile's essentials, checked here as hadolint would (it is not available):
a pinned base image, the lock file, a non-root user, and no secret in any layer."""
from __future__ import annotations

import re
from pathlib import Path

DEPLOY = Path(__file__).resolve().parents[3] / "deploy"
TEXT = (DEPLOY / "Dockerfile").read_text()
# Instructions with their continuation lines joined, comments dropped.
INSTRUCTIONS = [line.strip() for line in re.sub(r"\\\n", " ", TEXT).splitlines()
                if line.strip() and not line.lstrip().startswith("#")]


def instructions(keyword: str) -> list[str]:
    return [line.split(None, 1)[1] for line in INSTRUCTIONS
            if line.split(None, 1)[0].upper() == keyword]


def base_images() -> list[str]:
    arguments = dict(re.findall(r"^ARG (\w+)=(\S+)$", TEXT, re.MULTILINE))
    return [re.sub(r"\$\{(\w+)\}", lambda m: arguments[m[1]], image.split()[0])
            for image in instructions("FROM")]


def test_the_base_image_is_pinned_to_a_full_version_or_a_digest():
    for image in base_images():
        assert "@sha256:" in image or re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+-[\w.-]+", image), image
        assert not image.endswith(":latest")


def test_it_runs_as_a_user_other_than_root():
    users = instructions("USER")
    assert users, "no USER: the processes would run as root"
    assert users[-1] not in ("root", "0", "0:0")
    # The user it switches to is created in the image.
    assert re.search(rf"useradd .*--uid {re.escape(users[-1])}\b", TEXT) or users[-1] in TEXT


def test_dependencies_come_from_the_lock_file_alone():
    installs = [run for run in instructions("RUN") if "pip install" in run]
    assert installs and all("--no-deps" in run for run in installs)
    assert "-r requirements.lock" in installs[0]
    # The lock file is copied in before the code, so a code change keeps that layer.
    copies = instructions("COPY")
    assert copies[0].startswith("requirements.lock")


def test_no_secret_is_baked_into_the_image():
    secretive = re.compile(r"SECRET|PASSWORD|PASSWD|TOKEN|API_KEY|PRIVATE", re.IGNORECASE)
    for keyword in ("ENV", "ARG", "LABEL"):
        for line in instructions(keyword):
            assert not secretive.search(line), line
    assert not any(".env" in copy.split()[0] for copy in instructions("COPY"))
    ignored = (DEPLOY / "Dockerfile.dockerignore").read_text().split()
    assert ".env" in ignored and "**/.env" in ignored
