#!/usr/bin/env bash
# Front-door benchmark (docs/benchmarks.md): the epoll floor, dine-node
# --role=all, and a coordinator + 2 worker processes, each driven by the same
# dine-bench run: echo, 64-byte bodies, 8 connections x 32 in flight,
# cache off (so every request reaches a worker). Prints one line per run and
# the median per setup, with server CPU (all server processes, % of one
# core) from /proc/PID/stat.
#   tools/bench_frontdoor.sh [runs=5] [requests=500000]
# DEPTH=N sets the requests in flight per connection (default 32).
set -euo pipefail
BUILD=${DINE_BUILD_DIR:-$(dirname "$0")/../build}
RUNS=${1:-5}
REQS=${2:-500000}
DEPTH=${DEPTH:-32}
TMP=$(mktemp -d)
PIDS=()
cleanup() { kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
HZ=$(getconf CLK_TCK)

wait_file() { for _ in $(seq 500); do [[ -s $1 ]] && return; sleep 0.02; done; echo "no $1" >&2; exit 1; }
key() { sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p" "$1"; }
ticks() { local t=0; for p in "$@"; do t=$((t + $(awk '{print $14+$15}' /proc/"$p"/stat))); done; echo $t; }

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
    python3 - "$name" "$out" "$c0" "$c1" "$t0" "$t1" "$HZ" <<'PY'
import json, sys
name, out, c0, c1, t0, t1, hz = sys.argv[1:]
d = json.loads(out)
cpu = (int(c1) - int(c0)) / int(hz) / (float(t1) - float(t0)) * 100
lat = d["latency_us"]
print(f'{name:12s} {d["rps"]:>10.0f} req/s  p50 {lat["p50"]:7.0f} us  p99 {lat["p99"]:7.0f} us  '
      f'server cpu {cpu:5.0f} %  client cpu {d.get("client_cpu_pct", 0):4.0f} %  '
      f'errors {sum(d["errors"].values())}  lost {d["lost"]}')
PY
  done
}

"$BUILD/dine-floor" --port=0 --ready-file="$TMP/floor" >/dev/null & PIDS+=($!)
wait_file "$TMP/floor"
run floor "$(key "$TMP/floor" client_port)" "${PIDS[-1]}"
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

"$BUILD/dine-node" --role=all --client-port=0 --listen=127.0.0.1:0 \
  --threads=1 --ready-file="$TMP/all" >/dev/null & PIDS+=($!)
wait_file "$TMP/all"
run role=all "$(key "$TMP/all" client_port)" "${PIDS[-1]}"
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

"$BUILD/dine-node" --role=coordinator --client-port=0 --listen=127.0.0.1:0 \
  --threads=1 --ready-file="$TMP/coord" >/dev/null & PIDS+=($!)
CPID=$!
wait_file "$TMP/coord"
for w in 1 2; do
  "$BUILD/dine-node" --role=worker --join=127.0.0.1:"$(key "$TMP/coord" cluster_port)" \
    --name=w$w --models=echo --threads=1 --ready-file="$TMP/w$w" >/dev/null & PIDS+=($!)
done
wait_file "$TMP/w1"; wait_file "$TMP/w2"
run 3-process "$(key "$TMP/coord" client_port)" "$CPID" "$(key "$TMP/w1" pid)" "$(key "$TMP/w2" pid)"
