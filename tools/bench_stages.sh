#!/usr/bin/env bash
# Stage by stage (docs/benchmarks.md): what each stage of the request path
# costs under the front-door load (echo, 64-byte bodies, 8 connections x 32
# in flight, cache off). Needs a build with docs/bench/stage-experiments.patch
# applied, in which DINE_EXPERIMENT_SHORT=STAGE answers echo requests at
# STAGE and skips every later one:
#   git apply docs/bench/stage-experiments.patch
#   cmake -S . -B build-stages -DCMAKE_BUILD_TYPE=Release
#   cmake --build build-stages -j2 --target dine-node dine-bench dine-floor
#   git apply -R docs/bench/stage-experiments.patch
#   DINE_BUILD_DIR=build-stages tools/bench_stages.sh [rounds=5]
# Each round runs, one after the other: the floor; `--role=all` answered at
# the coordinator, the router, the batcher, and not at all (full path); the
# full path with DINE_EXPERIMENT_ONE_THREAD=1 (every actor of the node on the
# middleman's multiplexer thread, no hand-offs between threads); a
# coordinator + 2 worker processes whose worker supervisors answer without
# a model session, and the full cluster. One line per run: req/s, p50, server
# CPU per request (all server processes) and the client's CPU.
set -euo pipefail
ROUNDS=${1:-5}
REQS=300000
# shellcheck source=tools/common.sh
source "$(dirname "$0")/common.sh"

# measure NAME PORT PID...: warm-up, one run, one line
measure() {
  local name=$1 port=$2; shift 2
  "$BUILD/dine-bench" --connect=127.0.0.1:"$port" --model=echo --connections=8 \
    --depth=32 --requests=50000 --no-cache >/dev/null 2>&1
  local c0 c1 out
  c0=$(ticks "$@")
  out=$("$BUILD/dine-bench" --connect=127.0.0.1:"$port" --model=echo \
    --connections=8 --depth=32 --requests=$REQS --no-cache --json 2>/dev/null)
  c1=$(ticks "$@")
  python3 - "$name" "$out" "$c0" "$c1" "$HZ" "$REQS" <<'PY'
import json, sys
name, out, c0, c1, hz, n = sys.argv[1:]
d = json.loads(out)
us = (int(c1) - int(c0)) / int(hz) / int(n) * 1e6
print(f'{name:22s} {d["rps"]:>9.0f} req/s  p50 {d["latency_us"]["p50"]:5.0f} us  '
      f'server {us:4.2f} us/req  client cpu {d.get("client_cpu_pct", 0):3.0f} %  '
      f'errors {sum(d["errors"].values())}  lost {d["lost"]}')
PY
}

for r in $(seq "$ROUNDS"); do
  echo "-- round $r"
  start_floor "floor$r"
  measure floor "$PORT" "$PID"
  stop "$PID"
  for stage in coordinator router batcher full; do
    DINE_EXPERIMENT_SHORT=$stage start_node "$stage$r" --role=all \
      --client-port=0 --listen=127.0.0.1:0 --threads=1
    measure "role=all/$stage" "$PORT" "$PID"
    stop "$PID"
  done
  DINE_EXPERIMENT_ONE_THREAD=1 start_node "one$r" --role=all --client-port=0 \
    --listen=127.0.0.1:0 --threads=1
  measure "role=all/one-thread" "$PORT" "$PID"
  stop "$PID"
  for stage in worker full; do
    DINE_EXPERIMENT_SHORT=$stage start_cluster "c$stage$r"
    measure "3-process/$stage" "$PORT" "${CLUSTER[@]}"
    stop "${CLUSTER[@]}"
  done
done
