#!/usr/bin/env bash
# Run a command with the local FerretDB and RabbitMQ up (scripts/servers.sh),
# then stop the servers this run started, even when the command fails or is
# interrupted. Exits with the command's status.
#
#   scripts/with-servers.sh .venv/bin/pytest tests
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
owner=$(mktemp "${TMPDIR:-/tmp}/crm-servers.XXXXXX")

stop_ours() {
  local names
  names=$(cat "$owner" 2>/dev/null)
  # Word splitting wanted: one argument per server name.
  # shellcheck disable=SC2086
  [ -z "$names" ] || bash "$ROOT/scripts/servers.sh" stop $names
  rm -f "$owner"
}
trap stop_ours EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$ROOT/scripts/servers.sh" start --owner-file "$owner" || exit $?
"$@"
