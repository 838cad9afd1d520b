#!/usr/bin/env bash
# Writes the lock files from pyproject.toml; run it after changing a dependency there
# (tests/unit/deploy/test_deploy_lock_files.py fails until you do).
#
#   scripts/lock.sh            # keep the pins that still satisfy pyproject.toml
#   scripts/lock.sh --upgrade  # newest versions allowed by pyproject.toml
#
# - requirements.lock: what the suite runs on, installed alike by deploy/Dockerfile
#   (the image) and scripts/bootstrap.sh (the development and CI .venv);
# - requirements-dev.lock: the test and lint tools on top, resolved with
#   requirements.lock as constraints, so the runtime pins are the same in both.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
UV="$ROOT/.venv/bin/uv"
[ -x "$UV" ] || { echo "lock: $UV missing; run scripts/bootstrap.sh" >&2; exit 1; }
# uv does not read pip's certificate settings; this machine's CA bundle, when set.
export SSL_CERT_FILE=${SSL_CERT_FILE:-${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}}
UPGRADE=()
[ "${1:-}" = --upgrade ] && UPGRADE=(--upgrade)

cd "$ROOT"
compile() {
  "$UV" pip compile --quiet --python-version 3.11 --no-header --annotation-style line \
    "${UPGRADE[@]}" pyproject.toml "$@"
}
{
  echo "# The suite's runtime dependencies, pinned: written by scripts/lock.sh from pyproject.toml."
  compile
} > requirements.lock.tmp && mv requirements.lock.tmp requirements.lock
{
  echo "# Test and lint tools on top of requirements.lock: written by scripts/lock.sh."
  compile --extra dev --constraint requirements.lock
} > requirements-dev.lock.tmp && mv requirements-dev.lock.tmp requirements-dev.lock
echo "lock: requirements.lock and requirements-dev.lock written"
