#!/usr/bin/env bash
# HTTP front door benchmark (docs/benchmarks.md, "HTTP front door"): one
# dine-node --role=all, in the same run
#  1. POST /v1/infer/echo with keep-alive, driven by wrk (Lua script for the
#     POST body), against the same echo request through the msgpack wire
#     protocol driven by dine-bench: same connections x 1 in flight (wrk
#     keeps one request in flight per connection), cache off; req/s,
#     p50/p99 and server CPU per request (/proc/PID/stat);
#  2. streamed generation of a small random transformer: inter-token
#     latency through SSE (tools/sse_itl.py) against the wire's stream
#     (dine-bench --stream), one generation at a time.
#   tools/bench_http.sh [runs=3] [seconds=10] [connections=8]
# DINE_BUILD_DIR=DIR the build whose binaries run (common.sh).
set -euo pipefail
RUNS=${1:-3}
SECS=${2:-10}
CONNS=${3:-8}
TOKENS=${TOKENS:-64}
GENS=${GENS:-20}
# shellcheck source=tools/common.sh
source "$(dirname "$0")/common.sh"
HERE=$(cd "$(dirname "$0")" && pwd)

"$BUILD/dine-mkmodel" --out="$TMP/m" --dim=288 --hidden-dim=768 --layers=6 \
  --heads=6 --kv-heads=6 --vocab=4096 --seq-len=256 >/dev/null
"$BUILD/dine-node" --role=all --client-port=0 --http-port=0 --models=echo \
  --checkpoint="$TMP/m.bin" --tokenizer="$TMP/m.tok" \
  --ready-file="$TMP/ready.json" >"$TMP/node.log" 2>&1 &
NODE=$!
PIDS+=("$NODE")
wait_file "$TMP/ready.json"
WIRE=$(key "$TMP/ready.json" client_port)
HTTP=$(key "$TMP/ready.json" http_port)

cat >"$TMP/post.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"inputs":{"text":"0123456789012345678901234567890123456789"},"cache":false}'
wrk.headers["Content-Type"] = "application/json"
LUA

# cpu_per_req C0 C1 REQUESTS: server CPU microseconds per request
cpu_per_req() { python3 -c "print(f'{($2 - $1) / $HZ * 1e6 / $3:.1f}')" "" "$@"; }

echo "== echo, $CONNS connections x 1 in flight, ${SECS}s per run, cache off"
wrk -t1 -c"$CONNS" -d2s -s "$TMP/post.lua" "http://127.0.0.1:$HTTP/v1/infer/echo" >/dev/null
"$BUILD/dine-bench" --connect=127.0.0.1:"$WIRE" --model=echo \
  --connections="$CONNS" --depth=1 --requests=20000 --no-cache >/dev/null
for i in $(seq "$RUNS"); do
  c0=$(ticks "$NODE")
  out=$(wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -s "$TMP/post.lua" \
    "http://127.0.0.1:$HTTP/v1/infer/echo")
  c1=$(ticks "$NODE")
  python3 - "$out" "$c0" "$c1" "$HZ" <<'PY'
import re, sys
out, c0, c1, hz = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
n = int(re.search(r"(\d+) requests in", out).group(1))
rps = float(re.search(r"Requests/sec:\s*([\d.]+)", out).group(1))
def lat(p):
    m = re.search(p + r"%\s+([\d.]+)(us|ms|s)", out)
    v, u = float(m.group(1)), m.group(2)
    return v * {"us": 1, "ms": 1e3, "s": 1e6}[u]
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
print(f"http  {rps:>9.0f} req/s  p50 {lat('50'):6.0f} us  p99 {lat('99'):6.0f} us  "
      f"server cpu {(c1 - c0) / hz * 1e6 / n:6.1f} us/req  non-2xx {bad.group(1) if bad else 0}")
PY
  c0=$(ticks "$NODE")
  out=$("$BUILD/dine-bench" --connect=127.0.0.1:"$WIRE" --model=echo \
    --connections="$CONNS" --depth=1 --duration="$SECS" --no-cache --json 2>/dev/null)
  c1=$(ticks "$NODE")
  python3 - "$out" "$c0" "$c1" "$HZ" <<'PY'
import json, sys
d = json.loads(sys.argv[1]); c0, c1, hz = int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
n = d["ok"] if "ok" in d else d["requests"]
lat = d["latency_us"]
print(f"wire  {d['rps']:>9.0f} req/s  p50 {lat['p50']:6.0f} us  p99 {lat['p99']:6.0f} us  "
      f"server cpu {(c1 - c0) / hz * 1e6 / n:6.1f} us/req  errors {sum(d['errors'].values())}")
PY
done

echo "== streamed generation, $TOKENS tokens, $GENS generations one at a time"
for i in $(seq "$RUNS"); do
  python3 "$HERE/sse_itl.py" "$HTTP" "$TOKENS" "$GENS"
  out=$("$BUILD/dine-bench" --connect=127.0.0.1:"$WIRE" --model=transformer \
    --connections=1 --max-tokens="$TOKENS" --stream --requests="$GENS" --json 2>/dev/null)
  python3 - "$out" <<'PY'
import json, sys
itl = json.loads(sys.argv[1])["itl_us"]
print(f"wire  inter-token p50 {itl['p50']:7.0f} us  p99 {itl['p99']:7.0f} us")
PY
done
