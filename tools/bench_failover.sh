#!/usr/bin/env bash
# Failover time on etcd (docs/benchmarks.md, "Coordinator failover"): a
# local one-member etcd; per run a cluster of its own (--cluster=rN): a
# leader, a standby and one echo worker following the leader. The leader is
# SIGKILLed; the time measured is from the kill to the first ok reply that
# dine-client (--connect=leader,standby, failing over) gets, i.e. lease
# expiry + the standby's poll + campaign + the worker re-registering.
# Prints one line per run, then p50/p99.
#   tools/bench_failover.sh [runs=20] [ttl_s=2] [poll_ms=100]
set -euo pipefail
RUNS=${1:-20}
TTL=${2:-2}
POLL=${3:-100}
# shellcheck source=tools/common.sh
source "$(dirname "$0")/common.sh"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
EP=$(free_port)
PP=$(free_port)
etcd --data-dir "$TMP/etcd" --listen-client-urls "http://127.0.0.1:$EP" \
  --advertise-client-urls "http://127.0.0.1:$EP" \
  --listen-peer-urls "http://127.0.0.1:$PP" \
  --initial-advertise-peer-urls "http://127.0.0.1:$PP" \
  --initial-cluster "default=http://127.0.0.1:$PP" --log-level=warn \
  >"$TMP/etcd.log" 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do
  curl -sf -XPOST "127.0.0.1:$EP/v3/kv/range" -d '{"key":"eA=="}' >/dev/null && break
  sleep 0.05
done

CLIENT=$BUILD/dine-client
leads() { "$CLIENT" --connect="127.0.0.1:$1" --op=health --timeout=1 2>/dev/null | grep -q '"leader":true'; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }

times=()
for run in $(seq "$RUNS"); do
  ha=(--role=coordinator --client-port=0 --listen=127.0.0.1:0 --threads=1
      --etcd="127.0.0.1:$EP" --cluster="r$run" --etcd-lease-ttl="$TTL"
      --etcd-poll-ms="$POLL" --heartbeat-interval-ms=100
      --connection-timeout-ms=1000)
  start_node "c1-$run" "${ha[@]}" --name=c1
  C1=$PID P1=$PORT
  for _ in $(seq 200); do leads "$P1" && break; sleep 0.05; done
  start_node "c2-$run" "${ha[@]}" --name=c2
  C2=$PID P2=$PORT
  start_node "w-$run" --role=worker --etcd="127.0.0.1:$EP" --cluster="r$run" \
    --etcd-poll-ms="$POLL" --models=echo --threads=1 --reconnect-max-ms=200 \
    --heartbeat-interval-ms=100 --connection-timeout-ms=1000 --name=w
  W=$PID
  kill -9 "$C1"
  t0=$(now_ms)
  until "$CLIENT" --connect="127.0.0.1:$P1,127.0.0.1:$P2" --model=echo \
      --inputs='{"x":1}' --no-cache --timeout=1 >/dev/null 2>&1; do :; done
  t1=$(now_ms)
  times+=($((t1 - t0)))
  echo "run $run: failover ${times[-1]} ms"
  stop "$C2" "$W"
  wait "$C1" 2>/dev/null || true
done
printf '%s\n' "${times[@]}" | sort -n | awk -v ttl="$TTL" -v poll="$POLL" '
  { t[NR] = $1 }
  END {
    p50 = t[int((NR + 1) / 2)]; i99 = int(NR * 0.99 + 0.999); if (i99 < 1) i99 = 1
    printf "failover (kill -> first ok reply), %d runs, lease TTL %d s, poll %d ms: p50 %d ms, p99 %d ms, max %d ms\n", NR, ttl, poll, p50, t[i99], t[NR]
  }'
