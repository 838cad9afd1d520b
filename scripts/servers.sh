#!/usr/bin/env bash
# Local FerretDB and RabbitMQ for development and tests.
#
#   scripts/servers.sh start [--owner-file FILE]   start what does not answer yet
#   scripts/servers.sh stop [ferretdb|rabbitmq]...  stop what this script started
#   scripts/servers.sh status
#
# A server that already answers on its port (one started by hand, a system
# service) is reused and never stopped. With MONGO_URL or AMQP_URL set, that
# server is someone else's and nothing is started for it. `start` records what
# it started under $CRM_VAR_DIR/servers (and appends the names to FILE), so
# `stop` stops only those; pass names to `stop` to stop fewer.
#
# Environment: MONGO_PORT (27017), AMQP_PORT (5672), CRM_VAR_DIR ($ROOT/var),
# FERRETDB_BIN (~/.local/bin/ferretdb-1.24.2-crm).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VAR=${CRM_VAR_DIR:-$ROOT/var}
STATE=$VAR/servers
MONGO_PORT=${MONGO_PORT:-27017}
AMQP_PORT=${AMQP_PORT:-5672}
FERRETDB_BIN=${FERRETDB_BIN:-$HOME/.local/bin/ferretdb-1.24.2-crm}
export PATH="$PATH:/usr/sbin"
# Debian's /usr/sbin wrappers switch to the rabbitmq user, who cannot write
# under our var/; the scripts behind them run as whoever calls them.
if [ -d /usr/lib/rabbitmq/bin ]; then RABBIT_BIN=/usr/lib/rabbitmq/bin
else RABBIT_BIN=$(dirname "$(command -v rabbitmq-server 2>/dev/null || echo /usr/sbin/x)"); fi
RABBIT_NODE=crm-$AMQP_PORT@localhost

say() { printf 'servers: %s\n' "$*"; }
die() { printf 'servers: %s\n' "$*" >&2; exit 1; }

answers() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# The FerretDB we started, found by its state dir (unique to this var/).
ferretdb_pid() { pgrep -o -f -- "--state-dir=$VAR/ferretdb/state"; }

wait_ferretdb() {  # seconds
  local deadline=$((SECONDS + $1))
  until answers "$MONGO_PORT"; do
    ferretdb_pid >/dev/null || return 1
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.2
  done
}

# Run a server in its own session with only stdin/stdout/stderr open: an
# inherited descriptor (our lock, a caller's pipe) would otherwise stay held for
# the server's whole life, blocking the next `stop` or a caller reading to EOF.
# setsid also keeps a Ctrl-C meant for the supervisor away from the servers.
# Call it in a child (`detach ... &` or inside `( )`): it replaces that process.
detach() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
  exec setsid "$@"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_ferretdb() {
  if [ -n "${MONGO_URL:-}" ]; then say "MONGO_URL is set: not starting FerretDB"; return 1; fi
  if answers "$MONGO_PORT"; then say "reusing the database already on 127.0.0.1:$MONGO_PORT"; return 1; fi
  [ -x "$FERRETDB_BIN" ] || die "$FERRETDB_BIN missing: run scripts/bootstrap.sh"
  mkdir -p "$VAR/ferretdb/data" "$VAR/ferretdb/state"
  say "starting FerretDB on 127.0.0.1:$MONGO_PORT (data in $VAR/ferretdb)"
  detach "$FERRETDB_BIN" --handler=sqlite --sqlite-url="file:$VAR/ferretdb/data/" \
    --listen-addr="127.0.0.1:$MONGO_PORT" --state-dir="$VAR/ferretdb/state" \
    --telemetry=disable --log-level=warn --debug-addr=- \
    >>"$VAR/ferretdb/ferretdb.log" 2>&1 < /dev/null &
  sleep 0.2
  if ! wait_ferretdb 30; then
    tail -n 20 "$VAR/ferretdb/ferretdb.log" >&2 || true
    ferretdb_pid >"$STATE/ferretdb.pid" && stop_ferretdb
    die "FerretDB did not start (log: $VAR/ferretdb/ferretdb.log)"
  fi
  # Not $!: setsid forks when the caller runs under job control.
  local pid
  pid=$(ferretdb_pid)
  echo "$pid" > "$STATE/ferretdb.pid"
  say "FerretDB ready (pid $pid)"
}

rabbit_env() {
  export RABBITMQ_NODENAME=$RABBIT_NODE RABBITMQ_NODE_PORT=$AMQP_PORT
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_DIST_PORT=$((AMQP_PORT + 20000))
  export RABBITMQ_MNESIA_BASE=$VAR/rabbitmq/mnesia RABBITMQ_LOG_BASE=$VAR/rabbitmq/log
  export RABBITMQ_PID_FILE=$VAR/rabbitmq/rabbit.pid
  export RABBITMQ_PLUGINS_EXPAND_DIR=$VAR/rabbitmq/plugins-expand
  export RABBITMQ_ENABLED_PLUGINS_FILE=$VAR/rabbitmq/enabled_plugins
}

start_rabbitmq() {
  if [ -n "${AMQP_URL:-}" ]; then say "AMQP_URL is set: not starting RabbitMQ"; return 1; fi
  if answers "$AMQP_PORT"; then say "reusing the broker already on 127.0.0.1:$AMQP_PORT"; return 1; fi
  [ -x "$RABBIT_BIN/rabbitmq-server" ] || die "rabbitmq-server missing: run scripts/bootstrap.sh"
  rabbit_env
  mkdir -p "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
  [ -f "$RABBITMQ_ENABLED_PLUGINS_FILE" ] || echo '[].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
  say "starting RabbitMQ node $RABBIT_NODE on 127.0.0.1:$AMQP_PORT (data in $VAR/rabbitmq)"
  echo "$RABBIT_NODE" > "$STATE/rabbitmq.node"
  rm -f "$RABBITMQ_PID_FILE"
  (cd "$VAR/rabbitmq" && detach "$RABBIT_BIN/rabbitmq-server" -detached </dev/null \
    >>"$RABBITMQ_LOG_BASE/startup.log" 2>&1)
  # `wait` (unlike await_startup) also covers the seconds before the node
  # has registered its name, which -detached returns without waiting for.
  if ! "$RABBIT_BIN/rabbitmqctl" -q -n "$RABBIT_NODE" wait "$RABBITMQ_PID_FILE" --timeout 90 \
      >>"$RABBITMQ_LOG_BASE/startup.log" 2>&1 || ! answers "$AMQP_PORT"; then
    tail -n 20 "$RABBITMQ_LOG_BASE/startup.log" >&2 || true
    stop_rabbitmq
    die "RabbitMQ did not start (logs: $RABBITMQ_LOG_BASE)"
  fi
  say "RabbitMQ ready (node $RABBIT_NODE)"
}

stop_ferretdb() {
  local pidfile=$STATE/ferretdb.pid pid i
  [ -f "$pidfile" ] || return 0
  pid=$(cat "$pidfile")
  if kill -0 "$pid" 2>/dev/null; then
    say "stopping FerretDB (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$pidfile"
}

stop_rabbitmq() {
  local nodefile=$STATE/rabbitmq.node node
  [ -f "$nodefile" ] || return 0
  node=$(cat "$nodefile")
  rabbit_env
  say "stopping RabbitMQ node $node"
  if [ -f "$RABBITMQ_PID_FILE" ]; then
    "$RABBIT_BIN/rabbitmqctl" -q -n "$node" stop "$RABBITMQ_PID_FILE" >/dev/null 2>&1 \
      || kill -KILL "$(cat "$RABBITMQ_PID_FILE")" 2>/dev/null || true
    rm -f "$RABBITMQ_PID_FILE"
  else
    "$RABBIT_BIN/rabbitmqctl" -q -n "$node" stop >/dev/null 2>&1 || true
  fi
  rm -f "$nodefile"
}

status() {
  local started
  started=$(alive "$STATE/ferretdb.pid" && echo "started by servers.sh, pid $(cat "$STATE/ferretdb.pid")" || echo "not ours")
  if [ -n "${MONGO_URL:-}" ]; then echo "database: MONGO_URL=$MONGO_URL"
  elif answers "$MONGO_PORT"; then echo "database: up on 127.0.0.1:$MONGO_PORT ($started)"
  else echo "database: down (127.0.0.1:$MONGO_PORT)"; fi
  started=$([ -f "$STATE/rabbitmq.node" ] && echo "started by servers.sh, node $(cat "$STATE/rabbitmq.node")" || echo "not ours")
  if [ -n "${AMQP_URL:-}" ]; then echo "broker:   AMQP_URL=${AMQP_URL%%@*}@..."
  elif answers "$AMQP_PORT"; then echo "broker:   up on 127.0.0.1:$AMQP_PORT ($started)"
  else echo "broker:   down (127.0.0.1:$AMQP_PORT)"; fi
}

main() {
  local command=${1:-status} owner=""
  shift || true
  mkdir -p "$STATE"
  # One start or stop at a time: `make test` and a test's own `crm up` may race.
  exec 9>"$STATE/.lock"
  flock 9
  case "$command" in
    start)
      [ "${1:-}" = --owner-file ] && owner=${2:?--owner-file needs a path}
      # A pid left by a crash must not make us stop a stranger later.
      alive "$STATE/ferretdb.pid" || rm -f "$STATE/ferretdb.pid"
      if start_ferretdb; then [ -z "$owner" ] || echo ferretdb >> "$owner"; fi
      if start_rabbitmq; then [ -z "$owner" ] || echo rabbitmq >> "$owner"; fi
      ;;
    stop)
      local names=("$@")
      [ ${#names[@]} -gt 0 ] || names=(ferretdb rabbitmq)
      for name in "${names[@]}"; do
        case "$name" in
          ferretdb) stop_ferretdb ;;
          rabbitmq) stop_rabbitmq ;;
          *) die "unknown server $name" ;;
        esac
      done
      ;;
    status) status ;;
    *) die "usage: $0 start [--owner-file FILE] | stop [ferretdb|rabbitmq]... | status" ;;
  esac
}

main "$@"
