#!/usr/bin/env bash
# Where the front door's CPU goes (docs/benchmarks.md): the same load as
# tools/bench_frontdoor.sh (echo, 64-byte bodies, 8 connections x 32 in
# flight, cache off) against the floor, `--role=all` and a coordinator + 2
# workers; per server thread: CPU microseconds per request (all, and the
# user-space part) and voluntary context switches per 1000 requests, from
# /proc/PID/task/TID/{stat,status} before and after each run.
#   tools/bench_threads.sh [runs=1] [requests=300000]
# A thread is named by what it waits in once the run is over: `io` (the
# middleman's multiplexer, in epoll_wait), `scheduler` (a CAF scheduler
# thread), `clock`, `detached` (an actor on its own thread: the cache).
set -euo pipefail
RUNS=${1:-1}
REQS=${2:-300000}
# shellcheck source=tools/common.sh
source "$(dirname "$0")/common.sh"

# snap NAME=PID...: "NAME/PID/TID switches ticks user_ticks" per thread
snap() {
  local np t
  for np in "$@"; do
    for t in /proc/"${np#*=}"/task/*; do
      echo "${np%=*}/${np#*=}/${t##*/} $(awk '/voluntary_ctxt_switches/ {s += $2} END {print s}' "$t/status") $(awk '{print $14 + $15, $14}' "$t/stat")"
    done
  done | sort
}

# role TID-DIR: what a thread is, from where it waits now
role() {
  local comm wchan
  comm=$(cat "$1/comm")
  wchan=$(cat "$1/wchan" 2>/dev/null || echo ?)
  case "$comm:$wchan" in
  caf.clock:*) echo clock ;;
  caf.actor:*) echo detached ;;
  *:do_epoll_wait) echo io ;;
  dine-floor:*) echo io ;;
  *) echo scheduler ;;
  esac
}

# measure SETUP PORT NAME=PID...: one run, then one line per busy thread
measure() {
  local setup=$1 port=$2; shift 2
  local hz=$HZ
  snap "$@" >"$TMP/s0"
  local rps
  rps=$("$BUILD/dine-bench" --connect=127.0.0.1:"$port" --model=echo \
    --connections=8 --depth=32 --requests="$REQS" --no-cache --json |
    python3 -c 'import json, sys; print(round(json.load(sys.stdin)["rps"]))')
  snap "$@" >"$TMP/s1"
  echo "$setup: $rps req/s"
  join "$TMP/s0" "$TMP/s1" | while read -r id s0 c0 u0 s1 c1 u1; do
    local tid=${id##*/} pid; pid=${id#*/}; pid=${pid%%/*}
    (((c1 - c0) * 1000000 / hz > REQS / 100)) || continue # idle threads
    printf "  %-12s %-10s cpu %5.2f us/req (user %5.2f)  switches %5.1f per 1k req\n" \
      "${id%%/*}" "$(role /proc/"$pid"/task/"$tid")" \
      "$(echo "($c1 - $c0) * 1000000 / $hz / $REQS" | bc -l)" \
      "$(echo "($u1 - $u0) * 1000000 / $hz / $REQS" | bc -l)" \
      "$(echo "($s1 - $s0) * 1000 / $REQS" | bc -l)"
  done
}

warm() {
  "$BUILD/dine-bench" --connect=127.0.0.1:"$1" --model=echo --connections=8 \
    --depth=32 --requests=50000 --no-cache >/dev/null
}

start_floor floor
warm "$PORT"
for _ in $(seq "$RUNS"); do measure floor "$PORT" floor="$PID"; done
stop "$PID"

start_node all --role=all --client-port=0 --listen=127.0.0.1:0 --threads=1
warm "$PORT"
for _ in $(seq "$RUNS"); do measure role=all "$PORT" node="$PID"; done
stop "$PID"

start_cluster coord
warm "$PORT"
for _ in $(seq "$RUNS"); do
  measure 3-process "$PORT" coordinator="${CLUSTER[0]}" w1="${CLUSTER[1]}" \
    w2="${CLUSTER[2]}"
done
