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
BUILD=${DINE_BUILD_DIR:-$(dirname "$0")/../build}
ROUNDS=${1:-5}
REQS=300000
TMP=$(mktemp -d)
PIDS=()
cleanup() { kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
HZ=$(getconf CLK_TCK)

wait_file() { for _ in $(seq 500); do [[ -s $1 ]] && return; sleep 0.02; done; echo "no $1" >&2; exit 1; }
key() { sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p" "$1"; }
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' /proc/"$p"/stat))); done; echo $t; }

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

stop() { kill "$@" 2>/dev/null || true; wait "$@" 2>/dev/null || true; }

for r in $(seq "$ROUNDS"); do
  echo "-- round $r"
  "$BUILD/dine-floor" --port=0 --ready-file="$TMP/f$r" >/dev/null 2>&1 & PIDS+=($!)
  wait_file "$TMP/f$r"
  measure floor "$(key "$TMP/f$r" client_port)" "${PIDS[-1]}"
  stop "${PIDS[-1]}"
  for stage in coordinator router batcher full; do
    DINE_EXPERIMENT_SHORT=$stage "$BUILD/dine-node" --role=all --client-port=0 \
      --listen=127.0.0.1:0 --threads=1 --ready-file="$TMP/$stage$r" >/dev/null & PIDS+=($!)
    wait_file "$TMP/$stage$r"
    measure "role=all/$stage" "$(key "$TMP/$stage$r" client_port)" "${PIDS[-1]}"
    stop "${PIDS[-1]}"
  done
  DINE_EXPERIMENT_ONE_THREAD=1 "$BUILD/dine-node" --role=all --client-port=0 \
    --listen=127.0.0.1:0 --threads=1 --ready-file="$TMP/one$r" >/dev/null & PIDS+=($!)
  wait_file "$TMP/one$r"
  measure "role=all/one-thread" "$(key "$TMP/one$r" client_port)" "${PIDS[-1]}"
  stop "${PIDS[-1]}"
  for stage in worker full; do
    export DINE_EXPERIMENT_SHORT=$stage
    "$BUILD/dine-node" --role=coordinator --client-port=0 --listen=127.0.0.1:0 \
      --threads=1 --ready-file="$TMP/c$stage$r" >/dev/null & PIDS+=($!)
    procs=("${PIDS[-1]}")
    wait_file "$TMP/c$stage$r"
    for w in 1 2; do
      "$BUILD/dine-node" --role=worker --name=w$w --models=echo --threads=1 \
        --join=127.0.0.1:"$(key "$TMP/c$stage$r" cluster_port)" \
        --ready-file="$TMP/w$w$stage$r" >/dev/null & PIDS+=($!)
      procs+=("${PIDS[-1]}")
      wait_file "$TMP/w$w$stage$r"
    done
    unset DINE_EXPERIMENT_SHORT
    measure "3-process/$stage" "$(key "$TMP/c$stage$r" client_port)" "${procs[@]}"
    stop "${procs[@]}"
  done
done
