#!/usr/bin/env bash
# Server CPU per request at the front door, and where it goes
# (docs/benchmarks.md): a dine-node --role=all (one scheduler thread), the
# bench_frontdoor.sh load (echo, 64-byte bodies, 8 connections x 32 in
# flight, cache off), and `perf stat -e task-clock` on the node for the
# measured requests: prints req/s and the node's CPU µs per request. With
# RECORD=1 it also samples the node (`perf record -g`) and prints the top
# symbols. Compare two builds interleaved:
#   for b in OLD NEW OLD NEW; do DINE_BUILD_DIR=$b/build tools/profile_frontdoor.sh; done
#   tools/profile_frontdoor.sh [requests=300000]
set -euo pipefail
REQS=${1:-300000}
# shellcheck source=tools/common.sh
source "$(dirname "$0")/common.sh"

start_node all --role=all --client-port=0 --listen=127.0.0.1:0 --threads=1
bench() {
  "$BUILD/dine-bench" --connect=127.0.0.1:"$PORT" --model=echo --connections=8 \
    --depth=32 --requests="$1" --no-cache --json
}
bench 50000 >/dev/null # warm-up
if [[ ${RECORD:-0} == 1 ]]; then
  perf record -F 1999 -g -o "$TMP/perf.data" -p "$PID" 2>/dev/null &
else
  perf stat -e task-clock,context-switches -x, -o "$TMP/stat" -p "$PID" &
fi
PERF=$!
sleep 0.3
out=$(bench "$REQS")
kill -INT "$PERF"
wait "$PERF" || true
if [[ ${RECORD:-0} == 1 ]]; then
  echo "$out" | python3 -c 'import json,sys; print("%.0f req/s" % json.load(sys.stdin)["rps"])'
  perf report -i "$TMP/perf.data" --no-children --sort symbol --stdio 2>/dev/null |
    grep -E '^ +[0-9]' | sed 's/  *-  .*//; s/ *$//' | head -"${TOP:-40}"
else
  python3 - "$out" "$TMP/stat" "$REQS" <<'PY'
import json, sys
d = json.loads(sys.argv[1])
stat = {l.split(",")[2]: float(l.split(",")[0]) for l in open(sys.argv[2])
        if l.count(",") > 2 and l.split(",")[0].replace(".", "").isdigit()}
reqs = int(sys.argv[3])
print(f'{d["rps"]:>9.0f} req/s  node cpu {stat["task-clock"] * 1000 / reqs:5.2f} us/req  '
      f'context switches {stat["context-switches"] / reqs:5.3f} /req')
PY
fi
