#!/usr/bin/env bash
# A three-node RabbitMQ cluster on this machine: the multi-host path, proven on one
# host (docs/cluster.md). It never touches the default broker of scripts/servers.sh
# (node crm-5672@localhost on 5672): other node names, ports, data and cookie.
#
#   scripts/cluster.sh up              start the nodes that are down, join 2 and 3 to 1,
#                                      wait until cluster_status shows three running nodes
#   scripts/cluster.sh down            stop the three nodes (data and logs stay)
#   scripts/cluster.sh clean           down, then delete CLUSTER_DIR
#   scripts/cluster.sh status          cluster_status as node 1 sees it
#   scripts/cluster.sh urls            the AMQP_URL that lists the three nodes
#   scripts/cluster.sh kill N          kill -9 node N (a crash: no goodbye to its peers)
#   scripts/cluster.sh stop N | start N | restart N
#                                      one node; start waits until it runs in the cluster
#   scripts/cluster.sh ctl N ARGS...   rabbitmqctl ARGS as node N (with the cluster's cookie),
#                                      e.g. `ctl 1 list_queues name type members`
#
# Environment: CLUSTER_PORT (5681: nodes listen on 5681, 5682, 5683, their Erlang
# distribution on port + 20000; epmd on 4369 is shared with the default node),
# CLUSTER_DIR ($ROOT/var/cluster), CLUSTER_NODE_PREFIX (crm-rabbit: nodes
# crm-rabbit-1@localhost ...). Tests set all three to run a cluster of their own.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BASE_PORT=${CLUSTER_PORT:-5681}
DIR=${CLUSTER_DIR:-$ROOT/var/cluster}
PREFIX=${CLUSTER_NODE_PREFIX:-crm-rabbit}
NODES=(1 2 3)
export PATH="$PATH:/usr/sbin"
# As in servers.sh: Debian's /usr/sbin wrappers switch to the rabbitmq user, who
# cannot write under our var/; the scripts behind them run as whoever calls them.
if [ -d /usr/lib/rabbitmq/bin ]; then RABBIT_BIN=/usr/lib/rabbitmq/bin
else RABBIT_BIN=$(dirname "$(command -v rabbitmq-server 2>/dev/null || echo /usr/sbin/x)"); fi

say() { printf 'cluster: %s\n' "$*"; }
die() { printf 'cluster: %s\n' "$*" >&2; exit 1; }

node_name() { echo "$PREFIX-$1@localhost"; }
node_port() { echo $((BASE_PORT + $1 - 1)); }
node_dir() { echo "$DIR/node$1"; }
answers() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

urls() {
  local n out=()
  for n in "${NODES[@]}"; do out+=("amqp://guest:guest@127.0.0.1:$(node_port "$n")/%2F"); done
  (IFS=,; echo "${out[*]}")
}

# The Erlang cookie lives in a HOME of the cluster's own: nodes and CLI share it,
# and it is not the cookie of the default node (~/.erlang.cookie).
cookie_home() {
  local home=$DIR/home
  mkdir -p "$home"
  if [ ! -s "$home/.erlang.cookie" ]; then
    (umask 077; head -c 30 /dev/urandom | base64 | tr -dc A-Za-z0-9 | head -c 32 \
      > "$home/.erlang.cookie")
    chmod 400 "$home/.erlang.cookie"
  fi
  export HOME=$home
}

# Every RabbitMQ setting of node $1, as the rabbitmq-server script reads them.
node_env() {
  local n=$1 dir
  dir=$(node_dir "$n")
  export RABBITMQ_NODENAME
  RABBITMQ_NODENAME=$(node_name "$n")
  export RABBITMQ_NODE_PORT
  RABBITMQ_NODE_PORT=$(node_port "$n")
  export RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_DIST_PORT=$((RABBITMQ_NODE_PORT + 20000))
  export RABBITMQ_MNESIA_BASE=$dir/mnesia RABBITMQ_LOG_BASE=$dir/log
  export RABBITMQ_PID_FILE=$dir/rabbit.pid RABBITMQ_PLUGINS_EXPAND_DIR=$dir/plugins-expand
  export RABBITMQ_ENABLED_PLUGINS_FILE=$dir/enabled_plugins
  export RABBITMQ_CONFIG_FILE=$DIR/rabbitmq.conf
  # Inter-node traffic on loopback only, as AMQP: one machine needs no more.
  export RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS="-kernel inet_dist_use_interface {127,0,0,1}"
}

ctl() {  # node, rabbitmqctl arguments...
  local n=$1
  shift
  "$RABBIT_BIN/rabbitmqctl" -q -n "$(node_name "$n")" "$@"
}

write_config() {
  # pause_minority: a node cut off from the other two stops serving instead of
  # accepting writes a partition would later have to throw away.
  cat > "$DIR/rabbitmq.conf" <<'EOF'
cluster_partition_handling = pause_minority
EOF
}

# As in servers.sh: the server keeps no descriptor of ours (a lock, a caller's pipe).
detach() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
  done
  exec setsid "$@"
}

node_pid() { [ -f "$(node_dir "$1")/rabbit.pid" ] && cat "$(node_dir "$1")/rabbit.pid"; }
node_alive() { local pid; pid=$(node_pid "$1") && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

launch_node() {  # starts node $1 in the background; wait_node waits for it
  local n=$1
  if node_alive "$n"; then return 0; fi
  if answers "$(node_port "$n")"; then die "port $(node_port "$n") is taken by someone else"; fi
  ( node_env "$n"
    mkdir -p "$RABBITMQ_MNESIA_BASE" "$RABBITMQ_LOG_BASE"
    [ -f "$RABBITMQ_ENABLED_PLUGINS_FILE" ] || echo '[].' > "$RABBITMQ_ENABLED_PLUGINS_FILE"
    rm -f "$RABBITMQ_PID_FILE"
    say "starting node $RABBITMQ_NODENAME on 127.0.0.1:$RABBITMQ_NODE_PORT"
    cd "$(node_dir "$n")" && detach "$RABBIT_BIN/rabbitmq-server" -detached </dev/null \
      >>"$RABBITMQ_LOG_BASE/startup.log" 2>&1 )
}

wait_node() {  # node; until it has booted (a restarted member waits for its peers' tables)
  local n=$1 dir
  dir=$(node_dir "$n")
  if ! ctl "$n" wait "$dir/rabbit.pid" --timeout 180 >>"$dir/log/startup.log" 2>&1 \
      || ! answers "$(node_port "$n")"; then
    tail -n 20 "$dir/log/startup.log" >&2 || true
    die "node $(node_name "$n") did not start (logs: $dir/log)"
  fi
}

running_nodes() {  # node: the running nodes as it sees them, one a line
  ctl "$1" cluster_status --formatter json 2>/dev/null | python3 -c \
    'import json, sys; print("\n".join(json.load(sys.stdin).get("running_nodes", [])))' \
    2>/dev/null || true
}

member() {  # node: whether node 1's cluster lists it (running or not)
  ctl 1 cluster_status --formatter json 2>/dev/null | python3 -c \
    'import json, sys; sys.exit(sys.argv[1] not in json.load(sys.stdin).get("disk_nodes", []))' \
    "$(node_name "$1")"
}

join() {  # node: joins node 1's cluster unless it already belongs to it
  local n=$1
  if member "$n"; then return 0; fi
  local log
  log=$(node_dir "$n")/log/startup.log
  say "joining $(node_name "$n") to $(node_name 1)"
  { ctl "$n" stop_app && ctl "$n" reset && ctl "$n" join_cluster "$(node_name 1)" \
      && ctl "$n" start_app; } >>"$log" 2>&1 || { tail -n 20 "$log" >&2; die "join failed"; }
}

wait_running() {  # node, count, seconds: until the node sees `count` running nodes
  local deadline=$(($3 + SECONDS))
  until [ "$(running_nodes "$1" | grep -c "@")" -ge "$2" ]; do
    [ $SECONDS -lt $deadline ] || die "$(node_name "$1") sees fewer than $2 running nodes" \
      "after $3 s: $(ctl "$1" cluster_status 2>&1 | tail -n 20)"
    sleep 1
  done
}

up() {
  write_config
  local n
  # All at once: a member restarted with old data waits for the peers it last saw,
  # so starting them one by one could wait on a node not started yet.
  for n in "${NODES[@]}"; do launch_node "$n"; done
  for n in "${NODES[@]}"; do wait_node "$n"; done
  join 2
  join 3
  wait_running 1 3 120
  say "three nodes running; AMQP_URL=$(urls)"
}

stop_node() {
  local n=$1 pid
  node_alive "$n" || { rm -f "$(node_dir "$n")/rabbit.pid"; return 0; }
  pid=$(node_pid "$n")
  say "stopping node $(node_name "$n")"
  ctl "$n" stop "$(node_dir "$n")/rabbit.pid" >/dev/null 2>&1 || kill -KILL "$pid" 2>/dev/null || true
  rm -f "$(node_dir "$n")/rabbit.pid"
}

kill_node() {
  local n=$1 pid i
  node_alive "$n" || die "node $(node_name "$n") is not running"
  pid=$(node_pid "$n")
  say "kill -9 node $(node_name "$n") (pid $pid)"
  kill -KILL "$pid"
  for i in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$(node_dir "$n")/rabbit.pid"
}

start_node() {
  write_config
  launch_node "$1"
  wait_node "$1"
  join "$1"
  # Back in the cluster: it sees every node whose process is alive as running.
  local n alive=0
  for n in "${NODES[@]}"; do if node_alive "$n"; then alive=$((alive + 1)); fi; done
  wait_running "$1" "$alive" 120
}

main() {
  local command=${1:-status} n=${2:-}
  case "$command" in kill|stop|start|restart|ctl)
    case "$n" in 1|2|3) ;; *) die "usage: $0 $command 1|2|3" ;; esac ;;
  esac
  [ "$command" = urls ] && { urls; return; }
  [ -x "$RABBIT_BIN/rabbitmq-server" ] || die "rabbitmq-server missing: run scripts/bootstrap.sh"
  mkdir -p "$DIR"
  cookie_home
  if [ "$command" = ctl ]; then shift 2; ctl "$n" "$@"; return; fi  # no lock: read-only use
  exec 9>"$DIR/.lock"  # one command at a time on this cluster
  flock 9
  case "$command" in
    up) up ;;
    down) for n in 3 2 1; do stop_node "$n"; done ;;
    clean) for n in 3 2 1; do stop_node "$n"; done; rm -rf "$DIR" ;;
    status) ctl 1 cluster_status ;;
    kill) kill_node "$n" ;;
    stop) stop_node "$n" ;;
    start) start_node "$n" ;;
    restart) stop_node "$n"; start_node "$n" ;;
    *) die "usage: $0 up | down | clean | status | urls | kill N | stop N | start N | restart N | ctl N ARGS" ;;
  esac
}

main "$@"
