#!/usr/bin/env bash
# Latency under load (issue 14, docs/benchmarks.md "Latency under load"):
# for the epoll floor (dine-floor), dine-node --role=all and a coordinator +
# 2 worker processes, first the closed-loop peak (8 connections x 32 in
# flight), then open loop (Poisson arrivals, dine-bench --rate) at 10, 30,
# 50 and 70 % of that peak, all in the same run: echo, 64-byte bodies,
# 8 connections, cache off. Each row: p50/p90/p99/p99.9 of the client's
# latency (from the scheduled send), server CPU (all server processes, % of
# one core, /proc/PID/stat) and, for dine-node, the p50/p99 of the replies'
# own `timings.total` (--stages). Writes a CSV and an SVG of p99 against
# offered load (tools/plot_latency.py).
#   tools/bench_latency.sh [csv=docs/bench/latency.csv] [svg=docs/bench/latency_p99.svg]
# DURATION=S seconds per open-loop point (default 5), PEAK_REQUESTS=N
# requests of the closed-loop run (default 300000), LOADS="10 30 50 70",
# SETUPS="floor all cluster", DINE_BUILD_DIR=DIR (common.sh).
set -euo pipefail
HERE=$(dirname "$0")
CSV=${1:-$HERE/../docs/bench/latency.csv}
SVG=${2:-$HERE/../docs/bench/latency_p99.svg}
DURATION=${DURATION:-5}
PEAK_REQUESTS=${PEAK_REQUESTS:-300000}
LOADS=${LOADS:-10 30 50 70}
SETUPS=${SETUPS:-floor all cluster}
# shellcheck source=tools/common.sh
source "$HERE/common.sh"

echo "setup,load_pct,offered_rps,rps,p50_us,p90_us,p99_us,p999_us,server_cpu_pct,server_total_p50_us,server_total_p99_us,lost,errors" >"$TMP/csv"

# point SETUP LOAD_PCT RATE PORT PID...: one dine-bench run (RATE 0: closed
# loop), appends a CSV row, prints it and sets RPS
point() {
  local setup=$1 load=$2 rate=$3 port=$4; shift 4
  local args=(--connect=127.0.0.1:"$port" --model=echo --connections=8
              --no-cache --json --stages)
  if [[ $rate == 0 ]]; then
    args+=(--depth=32 --requests="$PEAK_REQUESTS")
  else
    args+=(--rate="$rate" --duration="$DURATION")
  fi
  local t0 c0 out c1 t1
  t0=$(date +%s.%N); c0=$(ticks "$@")
  out=$("$BUILD/dine-bench" "${args[@]}" || true)
  c1=$(ticks "$@"); t1=$(date +%s.%N)
  RPS=$(python3 - "$setup" "$load" "$rate" "$out" "$c0" "$c1" "$t0" "$t1" "$HZ" "$TMP/csv" <<'PY'
import json, sys
setup, load, rate, out, c0, c1, t0, t1, hz, csv = sys.argv[1:]
d = json.loads(out)
cpu = (int(c1) - int(c0)) / int(hz) / (float(t1) - float(t0)) * 100
lat = d["latency_us"]
st = d.get("server_stages_us", {}).get("total", {})
if not st.get("p99"):  # dine-floor's replies carry no timings
    st = {}
errors = sum(d["errors"].values())
codes = " ".join(f"{k}={v}" for k, v in d["errors"].items())
row = [setup, load, rate, d["rps"], lat["p50"], lat["p90"], lat["p99"],
       lat["p999"], round(cpu), st.get("p50", ""), st.get("p99", ""),
       d["lost"], codes or 0]
with open(csv, "a") as f:
    f.write(",".join(str(x) for x in row) + "\n")
print(f'{setup:10s} {load:>6s} offered {float(rate):>8.0f}  {d["rps"]:>8.0f} req/s  '
      f'p50 {lat["p50"]:8.0f}  p90 {lat["p90"]:8.0f}  p99 {lat["p99"]:8.0f}  '
      f'p99.9 {lat["p999"]:8.0f} us  server cpu {cpu:4.0f} %  '
      f'server total p50/p99 {st.get("p50", "-")}/{st.get("p99", "-")} us  '
      f'lost {d["lost"]} errors {errors} {codes}', file=sys.stderr)
print(int(d["rps"]))
PY
)
}

# sweep SETUP PORT PID...: the closed-loop peak, then the open-loop points
sweep() {
  local setup=$1 port=$2; shift 2
  "$BUILD/dine-bench" --connect=127.0.0.1:"$port" --model=echo --connections=8 \
    --depth=32 --requests=50000 --no-cache >/dev/null # warm-up
  point "$setup" closed 0 "$port" "$@"
  local peak=$RPS load
  for load in $LOADS; do
    point "$setup" "$load" $((peak * load / 100)) "$port" "$@"
  done
}

if [[ " $SETUPS " == *" floor "* ]]; then
  start_floor floor
  sweep floor "$PORT" "$PID"
  stop "$PID"
fi

if [[ " $SETUPS " == *" all "* ]]; then
  start_node all --role=all --client-port=0 --listen=127.0.0.1:0 --threads=1
  sweep role=all "$PORT" "$PID"
  stop "$PID"
fi

if [[ " $SETUPS " == *" cluster "* ]]; then
  start_cluster coord
  sweep 3-process "$PORT" "${CLUSTER[@]}"
  stop "${CLUSTER[@]}"
fi

mkdir -p "$(dirname "$CSV")"
cp "$TMP/csv" "$CSV"
python3 "$HERE/plot_latency.py" "$CSV" "$SVG"
echo "wrote $CSV and $SVG" >&2
