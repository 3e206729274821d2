#!/usr/bin/env bash
# Front-door benchmark (docs/benchmarks.md): the epoll floor, dine-node
# --role=all, and a coordinator + 2 worker processes, each driven by the same
# dine-bench run: echo, 64-byte bodies, 8 connections x 32 in flight,
# cache off (so every request reaches a worker). Prints one line per run and
# the median per setup, with server CPU (all server processes, % of one
# core) from /proc/PID/stat.
#   tools/bench_frontdoor.sh [runs=5] [requests=500000]
# DEPTH=N sets the requests in flight per connection (default 32).
# SETUPS="floor all cluster" (the default) picks the setups that run;
# DINE_BUILD_DIR=DIR the build whose binaries run (common.sh).
# NODE_ARGS="--metrics-port=0 ..." adds flags to the dine-node of `all` and
# the coordinator of `cluster` (metrics on vs off, docs/benchmarks.md).
set -euo pipefail
RUNS=${1:-5}
REQS=${2:-500000}
DEPTH=${DEPTH:-32}
SETUPS=${SETUPS:-floor all cluster}
read -r -a NODE_ARGS <<<"${NODE_ARGS:-}"
# shellcheck source=tools/common.sh
source "$(dirname "$0")/common.sh"

# run NAME PORT PID...: RUNS dine-bench runs against PORT, server CPU of PIDs
run() {
  local name=$1 port=$2; shift 2
  "$BUILD/dine-bench" --connect=127.0.0.1:"$port" --model=echo --connections=8 \
    --depth="$DEPTH" --requests=50000 --no-cache >/dev/null # warm-up
  for _ in $(seq "$RUNS"); do
    local t0 c0 out
    t0=$(date +%s.%N); c0=$(ticks "$@")
    out=$("$BUILD/dine-bench" --connect=127.0.0.1:"$port" --model=echo \
      --connections=8 --depth="$DEPTH" --requests="$REQS" --no-cache --json)
    local c1 t1; c1=$(ticks "$@"); t1=$(date +%s.%N)
    python3 - "$name" "$out" "$c0" "$c1" "$t0" "$t1" "$HZ" "$TMP/rps-$name" <<'PY'
import json, sys
name, out, c0, c1, t0, t1, hz, rps_file = sys.argv[1:]
d = json.loads(out)
with open(rps_file, "a") as f:
    f.write(f'{d["rps"]}\n')
cpu = (int(c1) - int(c0)) / int(hz) / (float(t1) - float(t0)) * 100
lat = d["latency_us"]
print(f'{name:12s} {d["rps"]:>10.0f} req/s  p50 {lat["p50"]:7.0f} us  p99 {lat["p99"]:7.0f} us  '
      f'server cpu {cpu:5.0f} %  client cpu {d.get("client_cpu_pct", 0):4.0f} %  '
      f'errors {sum(d["errors"].values())}  lost {d["lost"]}')
PY
  done
  python3 - "$name" "$TMP/rps-$name" <<'PY'
import statistics, sys
rps = [float(x) for x in open(sys.argv[2])]
print(f'{sys.argv[1]:12s} median {statistics.median(rps):>10.0f} req/s over {len(rps)} runs')
PY
}

if [[ " $SETUPS " == *" floor "* ]]; then
  start_floor floor
  run floor "$PORT" "$PID"
  stop "$PID"
fi

if [[ " $SETUPS " == *" all "* ]]; then
  start_node all --role=all --client-port=0 --listen=127.0.0.1:0 --threads=1 \
    ${NODE_ARGS[@]+"${NODE_ARGS[@]}"}
  run role=all "$PORT" "$PID"
  stop "$PID"
fi

if [[ " $SETUPS " == *" cluster "* ]]; then
  start_cluster coord ${NODE_ARGS[@]+"${NODE_ARGS[@]}"}
  run 3-process "$PORT" "${CLUSTER[@]}"
fi
