#!/usr/bin/env bash
# Runs the README's demo (`run.sh demo` without its set-up step) against
# the build under test and checks what a user would see: replies from the
# workers, a cached repeat, generated text (whole and streamed), 64 pipelined
# replies, an error reply, a load run without errors or lost requests, the
# 5-process pipeline cluster of conf/pipeline.ini answering (classify, clean,
# 200 heavy requests), exit status 0, and no node left running.
#   check_demo.sh RUN_SH BUILD_DIR
set -uo pipefail
run_sh=$1
export DINE_BUILD_DIR=$2
out=$(mktemp)
trap 'rm -f "$out"' EXIT
fail() { echo "check_demo: $*"; echo "--- demo output:"; cat "$out"; exit 1; }

"$run_sh" demo-prebuilt >"$out" 2>&1
status=$?
((status == 0)) || fail "run.sh demo-prebuilt exited with status $status"

expect() { grep -qE -- "$1" "$out" || fail "no line matches: $1"; }
expect '^== cluster up: coordinator 127\.0\.0\.1:[0-9]+, 2 workers joined'
expect '"outputs":\{"text":"hello dine"\},"cached":false,"worker":"worker-[12]"'
expect '"outputs":\{"fnv1a":[0-9]+\},"cached":true'
# The transformer generates: 24 tokens whole, the same text streamed (its
# chunks' text on one line before the done frame), and a seeded sample.
expect '"outputs":\{"text":"[^"]+","tokens":\[[0-9,]+\],"finish_reason":"length","usage":\{"prompt_tokens":[0-9]+,"completion_tokens":24\}\},"cached":false,"worker":"worker-[12]"'
expect '"done":true,"outputs":\{"finish_reason":"length","usage":\{"prompt_tokens":[0-9]+,"completion_tokens":24\}\}'
whole=$(sed -n '/^== transformer: a whole reply/{n;s/^{"id":1,"ok":true,"outputs":{"text":"\([^"]*\)".*/\1/p}' "$out")
streamed=$(sed -n '/^== transformer: the same request streamed/{n;p}' "$out")
[[ -n $whole && $whole == "$streamed" ]] ||
  fail "streamed text '$streamed' differs from the whole reply '$whole'"
expect '"outputs":\{"text":"[^"]*","tokens":\[[0-9,]+\],"finish_reason":"(stop|length)"'
expect '^\{"sent":64,"ok":64,"errors":\{\}\}'
expect '"error":\{"code":"unknown_model"'
expect '^errors +0$'
expect '^lost +0$'
# The 5-process pipeline (conf/pipeline.ini).
expect '^== pipeline cluster up: coordinator 127\.0\.0\.1:[0-9]+, worker, 2 preproc, 1 postproc'
expect '"outputs":\{"top":\[\{"index":1,"score":[0-9.e-]+,"label":"dog"\},\{"index":2,"score":[0-9.e-]+,"label":"bird"\}\]\},"cached":false,"worker":"worker-1"'
expect '"outputs":\{"prompt":"hello pipeline world"\},"cached":false,"worker":"worker-1"'
expect '^ok +200$'
expect '^== stopping$'

# Every node the demo started is gone once it has exited.
pids=$(sed -n 's/^== \(pipeline \)\{0,1\}cluster up:.*(pids \(.*\))$/\2/p' "$out")
[[ -n $pids ]] || fail "the demo did not print its node pids"
for pid in $pids; do
  if kill -0 "$pid" 2>/dev/null &&
    grep -q dine-node "/proc/$pid/cmdline" 2>/dev/null; then
    kill "$pid"
    fail "node $pid is still running after the demo exited"
  fi
done
echo "check_demo: ok (nodes $pids stopped)"
