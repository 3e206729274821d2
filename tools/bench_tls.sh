#!/usr/bin/env bash
# Mutual TLS between nodes vs plaintext (docs/benchmarks.md, "Mutual TLS"):
# two 3-process clusters (a coordinator + 2 echo workers, one scheduler
# thread each) in the same run, one plaintext and one with certificates from
# tools/mkcerts.sh; runs alternate between them (plain, tls, plain, ...) so
# that both see the same machine load. dine-bench: echo, 64-byte bodies,
# 8 connections x 32 in flight, cache off (every request crosses a node
# link). Prints one line per run and the medians, then tls/plain.
#   tools/bench_tls.sh [runs=5] [requests=200000]
set -euo pipefail
RUNS=${1:-5}
REQS=${2:-200000}
# shellcheck source=tools/common.sh
source "$(dirname "$0")/common.sh"

"$(dirname "$0")/mkcerts.sh" "$TMP/certs" coord w1 w2 >/dev/null
tls() {
  echo "--tls-cert=$TMP/certs/$1.pem" "--tls-key=$TMP/certs/$1.key" \
    "--tls-ca=$TMP/certs/ca.pem"
}

# cluster NAME TLS(0|1): sets PORT_<NAME> and PIDS_<NAME>
cluster() {
  local name=$1 use_tls=$2 extra=() cport
  [[ $use_tls == 1 ]] && read -r -a extra <<<"$(tls coord)"
  start_node "$name" --role=coordinator --client-port=0 \
    --listen=127.0.0.1:0 --threads=1 "${extra[@]}"
  local port=$PORT pids=("$PID")
  cport=$(key "$TMP/$name" cluster_port)
  for w in w1 w2; do
    [[ $use_tls == 1 ]] && read -r -a extra <<<"$(tls $w)"
    start_node "$name-$w" --role=worker --join=127.0.0.1:"$cport" \
      --name="$w" --models=echo --threads=1 "${extra[@]}"
    pids+=("$PID")
  done
  # both workers registered
  for _ in $(seq 250); do
    [[ $("$BUILD/dine-client" --connect=127.0.0.1:"$port" --op=stats |
      grep -o '"name":"w[12]"' | sort -u | wc -l) == 2 ]] && break
    sleep 0.04
  done
  eval "PORT_$name=$port"
  eval "PIDS_$name=\"${pids[*]}\""
}

cluster plain 0
cluster tls 1

REPORT='
import json, sys
d = json.load(sys.stdin)
name, f = sys.argv[1], sys.argv[2]
lat = d["latency_us"]
with open(f, "a") as out:
    out.write("%s %s\n" % (d["rps"], lat["p99"]))
print("%-6s %9.0f req/s  p50 %7.0f us  p99 %7.0f us  errors %d  lost %d" % (
    name, d["rps"], lat["p50"], lat["p99"], sum(d["errors"].values()), d["lost"]))
'
run() {
  local name=$1 port=$2
  "$BUILD/dine-bench" --connect=127.0.0.1:"$port" --model=echo \
    --connections=8 --depth=32 --requests="$REQS" --no-cache --json |
    python3 -c "$REPORT" "$name" "$TMP/res-$name"
}

for p in plain tls; do # warm-up
  port_var=PORT_$p
  "$BUILD/dine-bench" --connect=127.0.0.1:"${!port_var}" --model=echo \
    --connections=8 --depth=32 --requests=20000 --no-cache >/dev/null
done
for _ in $(seq "$RUNS"); do
  run plain "$PORT_plain"
  run tls "$PORT_tls"
done
python3 - "$TMP/res-plain" "$TMP/res-tls" <<'PY'
import statistics, sys
def med(f, i):
    return statistics.median(float(l.split()[i]) for l in open(f))
p, t = sys.argv[1:]
print(f"median  plain {med(p,0):9.0f} req/s p99 {med(p,1):7.0f} us | "
      f"tls {med(t,0):9.0f} req/s p99 {med(t,1):7.0f} us | "
      f"tls/plain {med(t,0)/med(p,0):.2f}x req/s, {med(t,1)/med(p,1):.2f}x p99")
PY
