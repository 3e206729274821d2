# shellcheck shell=bash disable=SC2034  # variables are for the sourcing script
# Shared by the benchmark scripts in tools/ (sourced, not run): the build
# directory, a scratch directory and the processes started, both cleaned up
# on exit, and starting nodes on free ports through their ready files.
#   source "$(dirname "$0")/common.sh"

BUILD=${DINE_BUILD_DIR:-$(dirname "$0")/../build}
TMP=$(mktemp -d)
PIDS=()
HZ=$(getconf CLK_TCK)

cleanup() {
  kill "${PIDS[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$TMP"
}
trap cleanup EXIT

# wait_file PATH: until a ready file has content (10 s at most)
wait_file() {
  for _ in $(seq 500); do [[ -s $1 ]] && return; sleep 0.02; done
  echo "no $1" >&2
  exit 1
}

# key FILE NAME: a number from a ready file (flat JSON)
key() { sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p" "$1"; }

# ticks PID...: user + system CPU ticks of the processes, summed
ticks() {
  local t=0 p
  for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' /proc/"$p"/stat))); done
  echo $t
}

# stop PID...: stops processes and reaps them
stop() { kill "$@" 2>/dev/null || true; wait "$@" 2>/dev/null || true; }

# start_floor NAME: dine-floor on a free port; sets PID and PORT
start_floor() {
  "$BUILD/dine-floor" --port=0 --ready-file="$TMP/$1" >/dev/null 2>&1 &
  PID=$!
  PIDS+=("$PID")
  wait_file "$TMP/$1"
  PORT=$(key "$TMP/$1" client_port)
}

# start_node NAME ARGS...: a dine-node with ARGS and a ready file; sets PID
# (and PORT when the node serves clients)
start_node() {
  local name=$1
  shift
  rm -f "$TMP/$name" # a node started again under the same name
  "$BUILD/dine-node" "$@" --ready-file="$TMP/$name" >/dev/null &
  PID=$!
  PIDS+=("$PID")
  wait_file "$TMP/$name"
  PORT=$(key "$TMP/$name" client_port)
}

# start_cluster NAME [COORDINATOR_ARGS...]: a coordinator and two echo
# workers (w1, w2), one scheduler thread each; sets PORT and CLUSTER (the
# three pids, coordinator first)
start_cluster() {
  local name=$1
  shift
  start_node "$name" --role=coordinator --client-port=0 --listen=127.0.0.1:0 \
    --threads=1 "$@"
  local port=$PORT cluster_port
  CLUSTER=("$PID")
  cluster_port=$(key "$TMP/$name" cluster_port)
  for w in 1 2; do
    start_node "$name-w$w" --role=worker --join=127.0.0.1:"$cluster_port" \
      --name=w$w --models=echo --threads=1
    CLUSTER+=("$PID")
  done
  PORT=$port
}
