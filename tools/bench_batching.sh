#!/usr/bin/env bash
# Batching benchmark (docs/benchmarks.md): the `cost` model at 2 ms fixed +
# 0.05 ms per item on ONE worker process behind a coordinator; throughput
# and p99 at concurrency 1, 8, 32, 128 with batching off (max-batch-size 1)
# and on (max-batch-size 32, max-delay 2 ms), then a max-delay sweep at
# concurrency 128 for the throughput/p99 plot. Writes JSON lines to
# $OUT (default build/bench_batching.jsonl).
#   tools/bench_batching.sh [seconds per point=5]
set -euo pipefail
BUILD=${DINE_BUILD_DIR:-$(dirname "$0")/../build}
SECS=${1:-5}
OUT=${OUT:-$BUILD/bench_batching.jsonl}
TMP=$(mktemp -d)
PIDS=()
cleanup() { kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
: >"$OUT"
wait_file() { for _ in $(seq 500); do [[ -s $1 ]] && return; sleep 0.02; done; echo "no $1" >&2; exit 1; }
key() { sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p" "$1"; }

# start MAXBATCH DELAY_US: a coordinator + one cost worker; sets PORT
start() {
  local model="--model.cost.fixed-us=2000 --model.cost.per-item-us=50
    --model.cost.max-batch-size=$1 --model.cost.max-delay-us=$2"
  rm -f "$TMP"/c "$TMP"/w
  "$BUILD/dine-node" --role=coordinator --client-port=0 --listen=127.0.0.1:0 \
    --threads=1 --cache=off $model --ready-file="$TMP/c" >/dev/null & PIDS+=($!)
  wait_file "$TMP/c"
  "$BUILD/dine-node" --role=worker --join=127.0.0.1:"$(key "$TMP/c" cluster_port)" \
    --models=cost --name=w1 --capacity=2 $model --ready-file="$TMP/w" >/dev/null & PIDS+=($!)
  wait_file "$TMP/w"
  PORT=$(key "$TMP/c" client_port)
}
stop() { kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; PIDS=(); }

# point LABEL MAXBATCH DELAY CONNS DEPTH
point() {
  local out
  out=$("$BUILD/dine-bench" --connect=127.0.0.1:$PORT --model=cost \
    --connections=$4 --depth=$5 --duration=$SECS --no-cache --key-spread=1000000 --json)
  python3 - "$1" "$2" "$3" "$(( $4 * $5 ))" "$out" <<'PY' | tee -a "$OUT"
import json, sys
label, mb, delay, conc, out = sys.argv[1:]
d = json.loads(out)
print(json.dumps({"label": label, "max_batch": int(mb), "delay_us": int(delay),
                  "concurrency": int(conc), "rps": round(d["rps"], 1),
                  "p50_us": d["latency_us"]["p50"], "p99_us": d["latency_us"]["p99"],
                  "errors": sum(d["errors"].values()), "lost": d["lost"]}))
PY
}

for mode in "off 1 0" "on 32 2000"; do
  set -- $mode
  start "$2" "$3"
  for c in "1 1" "8 1" "8 4" "8 16"; do point "$1" "$2" "$3" $c; done
  stop
done
for delay in 0 500 1000 2000 4000 8000; do
  start 32 "$delay"
  point sweep 32 "$delay" 8 16
  point sweep 32 "$delay" 4 4
  stop
done
