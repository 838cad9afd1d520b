#!/usr/bin/env bash
# Prepares a fresh machine for `make up` / `make test`; safe to run every time.
#
#   scripts/bootstrap.sh [--with-browser]
#
# - .venv at the repo root (python3.11) with the pinned dependencies of
#   requirements.lock (the same the image installs, deploy/Dockerfile) and
#   requirements-dev.lock, then the project itself (`pip install --no-deps -e .`),
#   again only when pyproject.toml or a lock file changed (their hash is stamped
#   inside .venv); scripts/lock.sh writes the lock files from pyproject.toml;
# - Debian's rabbitmq-server (and chromium with --with-browser) when missing;
# - FerretDB 1.24.2 with our SQLite fixes, built once into ~/.local/bin and
#   outside the clone, because CI runs in fresh clones on the same machine.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FERRETDB_VERSION=v1.24.2
FERRETDB_BIN=${FERRETDB_BIN:-$HOME/.local/bin/ferretdb-1.24.2-crm}
WITH_BROWSER=0
APT_UPDATED=0

for arg in "$@"; do
  case "$arg" in
    --with-browser) WITH_BROWSER=1 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "bootstrap: unknown option $arg" >&2; exit 2 ;;
  esac
done

say() { printf '==> %s\n' "$*"; }
die() { printf 'bootstrap: %s\n' "$*" >&2; exit 1; }

# Debian puts the RabbitMQ commands in /usr/sbin, which a non-root PATH lacks.
export PATH="$PATH:/usr/sbin:/usr/local/go/bin"

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root to run: $* (install it by hand, then re-run)"; fi
}

apt_install() {
  if [ "$APT_UPDATED" = 0 ]; then
    say "apt-get update"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -q
    APT_UPDATED=1
  fi
  say "apt-get install $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@"
}

python_env() {
  local venv="$ROOT/.venv" stamp="$ROOT/.venv/.crm-pyproject.sha256" want
  if [ ! -x "$venv/bin/python" ]; then
    command -v python3.11 >/dev/null 2>&1 || die "python3.11 not found on PATH"
    say "creating .venv with $(command -v python3.11)"
    python3.11 -m venv "$venv"
  fi
  want=$(cd "$ROOT" && cat pyproject.toml requirements.lock requirements-dev.lock \
         | sha256sum | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    say ".venv up to date with pyproject.toml and the lock files"
    return
  fi
  say "pip install -r requirements.lock -r requirements-dev.lock (changed or first run)"
  (cd "$ROOT" && "$venv/bin/python" -m pip install -q -r requirements.lock \
     -r requirements-dev.lock && "$venv/bin/python" -m pip install -q --no-deps -e .)
  # A dependency added to pyproject.toml but not locked is not installed: say so.
  "$venv/bin/python" -m pip check >/dev/null 2>&1 \
    || say "WARNING: $("$venv/bin/python" -m pip check | head -n 3 | tr '\n' ' ')- run scripts/lock.sh"
  echo "$want" > "$stamp"
}

rabbitmq() {
  if command -v rabbitmq-server >/dev/null 2>&1; then
    say "rabbitmq-server present ($(command -v rabbitmq-server))"
  else
    apt_install rabbitmq-server
  fi
}

browser() {
  if command -v chromium >/dev/null 2>&1; then
    say "chromium present ($(command -v chromium))"
  else
    apt_install chromium
  fi
}

# Stock FerretDB 1.24.2 scans a whole table for every write by _id and
# deadlocks on large bulk updates (docs/architecture.md); the patch fixes both.
ferretdb() {
  if [ -x "$FERRETDB_BIN" ]; then
    say "FerretDB present ($FERRETDB_BIN)"
    return
  fi
  command -v go >/dev/null 2>&1 || die "Go (1.24 or newer) is needed to build FerretDB"
  say "building FerretDB $FERRETDB_VERSION with crm-sqlite-fixes.patch (a few minutes)"
  local tool src work
  tool=$(mktemp -d)
  work=$(mktemp -d)
  (
    cd "$tool"
    go mod init local/ferretdb-tool >/dev/null 2>&1
    go get -tool "github.com/FerretDB/FerretDB/cmd/ferretdb@$FERRETDB_VERSION"
  )
  src=$(cd "$tool" && go list -m -f '{{.Dir}}' github.com/FerretDB/FerretDB)
  [ -d "$src" ] || die "FerretDB source not found in the Go module cache"
  cp -r "$src/." "$work/"
  chmod -R u+w "$work"
  # Without this file the binary panics at start (a module-proxy build lacks it).
  echo "$FERRETDB_VERSION" > "$work/build/version/version.txt"
  (cd "$work" && patch -p1 < "$ROOT/deploy/ferretdb/crm-sqlite-fixes.patch")
  mkdir -p "$(dirname "$FERRETDB_BIN")"
  (cd "$work" && CGO_ENABLED=0 go build -o "$FERRETDB_BIN.tmp" ./cmd/ferretdb)
  mv "$FERRETDB_BIN.tmp" "$FERRETDB_BIN"
  rm -rf "$tool" "$work"
  say "FerretDB built: $FERRETDB_BIN"
}

python_env
rabbitmq
if [ "$WITH_BROWSER" = 1 ]; then browser; fi
ferretdb
say "bootstrap done"
