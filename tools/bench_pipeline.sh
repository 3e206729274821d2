#!/usr/bin/env bash
# Pipeline benchmark (docs/benchmarks.md, "Disaggregated preprocessing"): a
# model with heavy preprocessing (`normalize cost-us=COST` per item) before a
# `cost` model (fixed-us=200, per-item-us=20), served two ways by the same
# dine-bench run (4 connections x 8 in flight, cache off):
#   colocated     coordinator + model worker; the step runs in the model's
#                 session, before the model (`normalize@worker`)
#   disaggregated coordinator + model worker + one preproc process
#                 (`normalize@pool`)
# Prints per run: req/s, p50, p99, and the CPU of each process (% of one
# core, from /proc/PID/stat) with the model worker's share of the servers'
# CPU.
#   tools/bench_pipeline.sh [runs=3] [requests=20000] [cost-us=1000]
# DINE_BUILD_DIR=DIR: the build whose binaries run (common.sh). Each
# process has 1 scheduler thread (THREADS=N changes it).
set -euo pipefail
RUNS=${1:-3}
REQS=${2:-20000}
COST=${3:-1000}
THREADS=${THREADS:-1}
# shellcheck source=tools/common.sh
source "$(dirname "$0")/common.sh"

model_args() {
  echo "--models=heavy --model.heavy.backend=cost --model.heavy.fixed-us=200"
  echo "--model.heavy.per-item-us=20 --model.heavy.max-batch-size=16"
  echo "--heartbeat-interval-ms=250 --threads=$THREADS"
}

# run NAME PORT COORD WORKER [PREPROC]
run() {
  local name=$1 port=$2; shift 2
  "$BUILD/dine-bench" --connect=127.0.0.1:"$port" --model=heavy --connections=4 \
    --depth=8 --requests=2000 --no-cache >/dev/null # warm-up
  for _ in $(seq "$RUNS"); do
    local t0 out c=() p
    t0=$(date +%s.%N)
    for p in "$@"; do c+=("$(ticks "$p")"); done
    out=$("$BUILD/dine-bench" --connect=127.0.0.1:"$port" --model=heavy \
      --connections=4 --depth=8 --requests="$REQS" --no-cache --json)
    local t1 c1=()
    for p in "$@"; do c1+=("$(ticks "$p")"); done
    t1=$(date +%s.%N)
    python3 - "$name" "$out" "$t0" "$t1" "$HZ" "${c[*]}" "${c1[*]}" <<'PY'
import json, sys
name, out, t0, t1, hz = sys.argv[1:6]
c0 = [int(x) for x in sys.argv[6].split()]
c1 = [int(x) for x in sys.argv[7].split()]
d = json.loads(out)
secs = float(t1) - float(t0)
cpu = [(b - a) / int(hz) / secs * 100 for a, b in zip(c0, c1)]
names = ["coord", "worker", "preproc"]
lat = d["latency_us"]
share = cpu[1] / sum(cpu) * 100 if sum(cpu) > 0 else 0
procs = "  ".join(f"{n} {c:4.0f} %" for n, c in zip(names, cpu))
print(f'{name:13s} {d["rps"]:>7.0f} req/s  p50 {lat["p50"]:7.0f} us  p99 {lat["p99"]:7.0f} us  '
      f'cpu: {procs}  worker share {share:3.0f} %  errors {sum(d["errors"].values())}  lost {d["lost"]}'
      + (f'  {d["errors"]}' if d["errors"] else ''))
PY
  done
}

read -r -a MODEL <<<"$(model_args | tr '\n' ' ')"

start_coord() {
  start_node "$1" --role=coordinator --client-port=0 --listen=127.0.0.1:0 \
    "${MODEL[@]}" "$2"
  COORD=$PID
  CPORT=$PORT
  JOIN=--join=127.0.0.1:$(key "$TMP/$1" cluster_port)
}

# Co-located: the step runs on the model worker.
PRE="--model.heavy.preproc=normalize@worker cost-us=$COST"
start_coord co "$PRE"
start_node co-w --role=worker "$JOIN" --name=w "${MODEL[@]}" "$PRE"
W=$PID
sleep 1
run colocated "$CPORT" "$COORD" "$W"
stop "$W" "$COORD"

# Disaggregated: the step runs in a preproc process.
PRE="--model.heavy.preproc=normalize@pool cost-us=$COST"
start_coord dis "$PRE"
start_node dis-w --role=worker "$JOIN" --name=w "${MODEL[@]}" "$PRE"
W=$PID
start_node dis-p --role=preproc "$JOIN" --name=p "${MODEL[@]}" "$PRE"
P=$PID
sleep 1
run disaggregated "$CPORT" "$COORD" "$W" "$P"
