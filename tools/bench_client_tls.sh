#!/usr/bin/env bash
# TLS on the client port vs plaintext (docs/benchmarks.md, "Client-port
# TLS"): two `--role=all` nodes (echo, one local worker) in the same run, one
# plaintext and one with `--client-tls` and certificates from
# tools/mkcerts.sh; runs alternate between them (plain, tls, plain, ...) so
# that both see the same machine load. dine-bench: echo, 64-byte bodies,
# 8 connections x 32 in flight, cache off; against the TLS node with
# `--ca=ca.pem --tls-name=coord`. Prints one line per run and the medians,
# then tls/plain.
#   tools/bench_client_tls.sh [runs=5] [requests=200000]
set -euo pipefail
RUNS=${1:-5}
REQS=${2:-200000}
# shellcheck source=tools/common.sh
source "$(dirname "$0")/common.sh"

"$(dirname "$0")/mkcerts.sh" "$TMP/certs" coord >/dev/null
C=$TMP/certs
start_node plain --role=all --client-port=0 --models=echo
PORT_plain=$PORT
start_node tls --role=all --client-port=0 --models=echo --client-tls \
  --tls-cert="$C/coord.pem" --tls-key="$C/coord.key" --tls-ca="$C/ca.pem"
PORT_tls=$PORT
TLS_ARGS=(--ca="$C/ca.pem" --tls-name=coord)

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
bench() { # NAME REQUESTS [extra dine-bench args]
  local name=$1 n=$2 port_var=PORT_$1 extra=()
  [[ $name == tls ]] && extra=("${TLS_ARGS[@]}")
  "$BUILD/dine-bench" --connect=127.0.0.1:"${!port_var}" --model=echo \
    --connections=8 --depth=32 --requests="$n" --no-cache "${extra[@]}" \
    "${@:3}"
}

for p in plain tls; do # warm-up
  bench $p 20000 >/dev/null
done
for _ in $(seq "$RUNS"); do
  for p in plain tls; do
    bench $p "$REQS" --json | python3 -c "$REPORT" $p "$TMP/res-$p"
  done
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
