#!/usr/bin/env bash
# Batching benchmark (docs/benchmarks.md): the `cost` model at 2 ms fixed +
# 0.05 ms per item on ONE worker process behind a coordinator; throughput
# and p99 at concurrency 1, 8, 32, 128 with batching off (max-batch-size 1)
# and on (max-batch-size 32, max-delay 2 ms), then a max-delay sweep at
# concurrency 128 for the throughput/p99 plot. Writes JSON lines to
# $OUT (default build/bench_batching.jsonl).
#   tools/bench_batching.sh [seconds per point=5]
set -euo pipefail
SECS=${1:-5}
# shellcheck source=tools/common.sh
source "$(dirname "$0")/common.sh"
OUT=${OUT:-$BUILD/bench_batching.jsonl}
: >"$OUT"

# start MAXBATCH DELAY_US: a coordinator + one cost worker; sets PORT
start() {
  local model=(--model.cost.fixed-us=2000 --model.cost.per-item-us=50
    --model.cost.max-batch-size="$1" --model.cost.max-delay-us="$2")
  rm -f "$TMP"/c "$TMP"/w
  start_node c --role=coordinator --client-port=0 --listen=127.0.0.1:0 \
    --threads=1 --cache=off "${model[@]}"
  local port=$PORT
  start_node w --role=worker --join=127.0.0.1:"$(key "$TMP/c" cluster_port)" \
    --models=cost --name=w1 --capacity=2 "${model[@]}"
  PORT=$port
}
stop_all() { stop "${PIDS[@]}"; PIDS=(); }

# point LABEL MAXBATCH DELAY CONNS DEPTH
point() {
  local out
  out=$("$BUILD/dine-bench" --connect=127.0.0.1:"$PORT" --model=cost \
    --connections="$4" --depth="$5" --duration="$SECS" --no-cache \
    --key-spread=1000000 --json)
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
  read -r label mb delay <<<"$mode"
  start "$mb" "$delay"
  for c in "1 1" "8 1" "8 4" "8 16"; do
    read -r conns depth <<<"$c"
    point "$label" "$mb" "$delay" "$conns" "$depth"
  done
  stop_all
done
for delay in 0 500 1000 2000 4000 8000; do
  start 32 "$delay"
  point sweep 32 "$delay" 8 16
  point sweep 32 "$delay" 4 4
  stop_all
done
