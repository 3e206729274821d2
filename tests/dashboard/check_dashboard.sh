#!/usr/bin/env bash
# The browser test of the dashboard (docs/dashboard.md): a coordinator with
# --http-port and two workers, load from dine-bench and one error, then
# headless Chromium (tests/dashboard/cdp_check.py) loads the page from the
# node's HTTP port, waits for the charts and checks that it shows both
# workers and a non-zero request count. The screenshot is left as a test
# artifact in the build dir (dashboard.png). The coordinator needs API keys:
# the page must ask for the admin key and use it (docs/dashboard.md).
#   check_dashboard.sh BUILD_DIR
set -uo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
pids=()
cleanup() {
  ((${#pids[@]})) && kill "${pids[@]}" 2>/dev/null
  ((${#pids[@]})) && wait "${pids[@]}" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
fail() {
  echo "check_dashboard: $*"
  for f in "$tmp"/*.log; do [[ -f $f ]] && { echo "--- $f"; tail -20 "$f"; }; done
  exit 1
}
wait_ready() { # FILE
  for _ in $(seq 300); do [[ -s $1 ]] && return 0; sleep 0.1; done
  fail "no ready file $1 after 30 s"
}
ready_key() { # FILE KEY
  python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"
}
command -v chromium >/dev/null || fail "chromium is not installed (run.sh installs it)"

key=adm-dashboard-4f6a8c0e2b4d6f8a
printf 'admin %s\n' "$key" >"$tmp/keys"
export DINE_API_KEY=$key # dine-client and dine-bench send it
"$build/dine-node" --role=coordinator --client-port=0 --listen=127.0.0.1:0 \
  --http-port=0 --heartbeat-interval-ms=100 --ready-file="$tmp/coord" \
  --api-keys-file="$tmp/keys" \
  >"$tmp/coord.log" 2>&1 &
pids+=($!)
wait_ready "$tmp/coord"
cport=$(ready_key "$tmp/coord" client_port)
lport=$(ready_key "$tmp/coord" cluster_port)
hport=$(ready_key "$tmp/coord" http_port) || fail "the ready file has no http_port"
for w in w1 w2; do
  "$build/dine-node" --role=worker --join="127.0.0.1:$lport" --name=$w \
    --models=echo,cost --heartbeat-interval-ms=100 --ready-file="$tmp/$w" \
    >"$tmp/$w.log" 2>&1 &
  pids+=($!)
done
wait_ready "$tmp/w1"
wait_ready "$tmp/w2"
for _ in $(seq 100); do
  "$build/dine-client" --connect="127.0.0.1:$cport" --op=health 2>/dev/null |
    grep -q '"workers":2' && break
  sleep 0.1
done
# Load on two models for the whole check (the page polls every 1.5 s and
# its series leave the current second out), and one error to list.
bench=(--connect="127.0.0.1:$cport" --connections=2 --depth=8 --duration=40
  --no-cache --rate=300)
"$build/dine-bench" "${bench[@]}" --model=echo >"$tmp/bench-echo.log" 2>&1 &
pids+=($!)
"$build/dine-bench" "${bench[@]}" --model=cost --rate=100 >"$tmp/bench-cost.log" 2>&1 &
pids+=($!)
"$build/dine-client" --connect="127.0.0.1:$cport" --model=nosuch \
  --inputs='{"x":1}' >"$tmp/error.log" 2>&1
sleep 2
python3 "$here/cdp_check.py" "http://127.0.0.1:$hport/" "$build/dashboard.png" \
  --workers=w1,w2 --timeout=90 --key="$key" || fail "the page check failed"
# The page's numbers are the node's: the stats it served count requests.
python3 - "http://127.0.0.1:$hport/api/stats" "$key" <<'PY' ||
import json, sys, urllib.request
req = urllib.request.Request(sys.argv[1], headers={"Authorization": "Bearer " + sys.argv[2]})
s = json.load(urllib.request.urlopen(req, timeout=10))
assert s["requests"]["accepted"] > 0, s["requests"]
names = sorted(m["model"] for m in s["models"])
assert names == ["cost", "echo"], names
assert any(e["code"] == "unknown_model" for e in s["recent_errors"]), s["recent_errors"]
PY
  fail "GET /api/stats lacks the dashboard's fields"
echo "check_dashboard: ok (screenshot $build/dashboard.png)"
