#!/usr/bin/env bash
# The mutation smoke check (docs/testing.md): breaks the behaviour that the
# strongest tests claim to check, one deliberate bug at a time, and runs
# those tests against each broken build. Every mutation must be caught (a
# test fails); the script prints which tests caught each one and exits 1
# if any mutation survived or could not be applied.
#
#   tools/mutate.sh              all mutations
#   tools/mutate.sh NAME...      only these (names: see `tools/mutate.sh -l`)
#   tools/mutate.sh -c           only check that each mutation applies (its
#                                text occurs once), without building
#   ./run.sh mutate              the same, after installing dependencies
#
# It works on a copy of the tracked files of the working tree in
# $DINE_MUTATE_DIR (default build-mutate/, ignored by git), builds it once
# (through ccache when installed, so that unchanged files are not
# recompiled), then for each mutation: applies it to one file, rebuilds
# only the targets its tests need, runs its tests with ctest, and restores
# the file. The repository itself is never modified.
#
# The tests' output for each mutation is kept in $DINE_MUTATE_DIR/NAME.log.
# Set DINE_MUTATE_BASELINE=0 to skip the baseline run (the same tests on
# the unmutated copy, which must pass for a failure to mean anything).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${DINE_MUTATE_DIR:-$ROOT/build-mutate}
SRC=$WORK/src
BUILD=$SRC/build
JOBS=${DINE_MUTATE_JOBS:-2}

# -- the mutations --------------------------------------------------------
# NAME | FILE | OLD (exact, must occur once) | NEW | ctest regex | targets
# (OLD/NEW: \n is a newline.)
MUTATIONS=(
"drop-reply|actors/coordinator/coordinator_reply.cpp|             now);\n  sink.add(e->conn, std::move(r));\n}|             now);\n  if (rid % 97 != 0) // MUTATION: every 97th reply is dropped\n    sink.add(e->conn, std::move(r));\n}|answer pipelined requests exactly|dine-node dine-cluster-tests"
"late-duplicate|actors/coordinator/coordinator_reply.cpp|             now);\n  sink.add(e->conn, std::move(r));\n}|             now);\n  if (rid % 50 == 0) // MUTATION: kept, so the sweep answers it again\n    st.inflight.add(rid, *e);\n  sink.add(e->conn, std::move(r));\n}|answer pipelined requests exactly|dine-node dine-cluster-tests"
"no-redispatch|runtime/retry_policy.cpp|  if (attempts > max_retries_)|  if (true) // MUTATION: a lost batch is never re-dispatched|SIGKILL of a worker with requests in flight\|fault_01_kill_worker|dine-node dine-cluster-tests dine-chaos"
"no-cache-flush|runtime/tiered_cache.cpp|  if (pending_.empty() \|\| phase_ != disk_phase::open)\n    return pending_.empty();|  if (true) // MUTATION: the write-behind buffer never reaches LMDB\n    return pending_.empty();|survives kill -9\|memory evicts but LMDB still serves|dine-node dine-cluster-tests dine-actor-tests"
"swap-outputs|runtime/backends/synthetic.cpp|    out[i].outputs = fnv1a_outputs(in[i].inputs.data(), in[i].inputs.size());|    auto\& nb = in[(i + 1) % in.size()].inputs; // MUTATION: the neighbour's\n    out[i].outputs = fnv1a_outputs(nb.data(), nb.size());|SIGKILL of a worker with requests in flight\|fault_01_kill_worker\|fault_08_term_worker|dine-node dine-cluster-tests dine-chaos"
"skip-drain|actors/worker/worker_supervisor.cpp|      [=](drain_atom) { return self->state.inflight; },|      [=](drain_atom) { return uint64_t{0}; }, // MUTATION: no drain|SIGTERM of a worker with batches in flight\|static worker SIGTERMed\|fault_08_term_worker|dine-node dine-cluster-tests dine-chaos"
"never-readmit|runtime/outlier_detector.cpp|    m.out = false; // probing succeeded: readmit\n    --out_count_;|    // MUTATION: probing never readmits|is ejected, traffic moves, and it is readmitted|dine-node dine-cluster-tests"
"duplicate-chunk|actors/coordinator/batcher_stream.cpp|        f.streamed[k] = true;\n        out.push_back(std::move(c));|        if (!f.streamed[k]) // MUTATION: a stream's first chunk goes twice\n          out.push_back(c);\n        f.streamed[k] = true;\n        out.push_back(std::move(c));|16 concurrent streams across two worker processes\|SIGKILL of a worker mid-generation|dine-node dine-cluster-tests"
"no-worker-lost|runtime/retry_policy.cpp|  if (streamed)\n    return retry_verdict::streamed;|  if (false) // MUTATION: a started stream is retried, not ended\n    return retry_verdict::streamed;|SIGKILL of a worker mid-generation|dine-node dine-cluster-tests"
)

field() { # field LINE N: the Nth |-separated field, `\|` kept as `|`
  python3 - "$1" "$2" <<'EOF'
import re, sys
parts = re.split(r'(?<!\\)\|', sys.argv[1])
print(parts[int(sys.argv[2])].replace('\\|', '|'), end='')
EOF
}

# apply FILE OLD NEW: replaces the one occurrence of OLD in FILE.
apply() {
  python3 - "$1" "$2" "$3" <<'EOF'
import sys
path, old, new = sys.argv[1], sys.argv[2], sys.argv[3]
old = old.replace('\\n', '\n').replace('\\&', '&')
new = new.replace('\\n', '\n').replace('\\&', '&')
text = open(path).read()
n = text.count(old)
if n != 1:
    sys.exit(f"mutate: the text to replace occurs {n} times in {path}")
open(path, 'w').write(text.replace(old, new))
EOF
}

if [[ ${1:-} == -l ]]; then
  for m in "${MUTATIONS[@]}"; do
    printf '%-16s %-32s tests: %s\n' "$(field "$m" 0)" "$(field "$m" 1)" \
      "$(field "$m" 4)"
  done
  exit 0
fi

if [[ ${1:-} == -c ]]; then
  # One interpreter for all of them: fast enough to run as a unit test.
  python3 - "$ROOT" "${MUTATIONS[@]}" <<'EOF'
import re, sys
root, bad = sys.argv[1], 0
for m in sys.argv[2:]:
    name, path, old = [p.replace('\\|', '|')
                       for p in re.split(r'(?<!\\)\|', m)][:3]
    old = old.replace('\\n', '\n').replace('\\&', '&')
    n = open(f"{root}/{path}").read().count(old)
    if n == 1:
        print(f"{name}: applies to {path}")
    else:
        print(f"{name}: does NOT apply to {path}: its text occurs {n} times"
              " (update tools/mutate.sh)")
        bad += 1
if bad:
    sys.exit(f"mutate: {bad} mutation(s) do not apply")
EOF
  exit
fi

selected=("$@")
wanted() {
  ((${#selected[@]} == 0)) && return 0
  local s
  for s in "${selected[@]}"; do [[ $s == "$1" ]] && return 0; done
  return 1
}
for s in "${selected[@]}"; do
  found=0
  for m in "${MUTATIONS[@]}"; do [[ $(field "$m" 0) == "$s" ]] && found=1; done
  ((found)) || { echo "mutate: no mutation named $s (see -l)" >&2; exit 2; }
done

echo "== copying the tracked files of $ROOT to $SRC"
mkdir -p "$SRC"
(cd "$ROOT" && git ls-files -z | tar --null -T - -cf -) | tar -xf - -C "$SRC"

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  # Relative paths in the cache key: the copy hits what the main build
  # compiled (same layout below the base directory).
  export CCACHE_BASEDIR=${CCACHE_BASEDIR:-$(dirname "$ROOT")}
fi
cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release "${launcher[@]}" \
  >"$WORK/cmake.log"

# The union of the targets of the selected mutations.
declare -A all_targets=()
regexes=()
for m in "${MUTATIONS[@]}"; do
  wanted "$(field "$m" 0)" || continue
  for t in $(field "$m" 5); do all_targets[$t]=1; done
  regexes+=("$(field "$m" 4)")
done

build() { nice cmake --build "$BUILD" -j"$JOBS" --target "$@" >"$WORK/build.log" 2>&1; }

# run_tests REGEX LOG: runs the tests (their output in LOG); prints the
# names of the failed ones.
run_tests() {
  (cd "$BUILD" && ctest -R "$1" --timeout 300 --output-on-failure >"$2" 2>&1) ||
    true
  sed -n 's/^[[:space:]]*[0-9]* - \(.*\) (\(Failed\|Timeout\|Exception\|SEGFAULT\|Subprocess aborted\|Child aborted\)).*/\1/p' \
    "$2"
  if ! grep -q 'tests passed\|tests failed' "$2"; then
    echo "(ctest ran nothing: see $2)"
  fi
}

echo "== building ${!all_targets[*]}"
build "${!all_targets[@]}" || { tail -30 "$WORK/build.log"; exit 1; }

if [[ ${DINE_MUTATE_BASELINE:-1} != 0 ]]; then
  regex=$(IFS='|'; echo "${regexes[*]}")
  regex=${regex//\\|/|}
  echo "== baseline: the tests of the selected mutations on the unmutated copy"
  failed=$(run_tests "$regex" "$WORK/baseline.log")
  if [[ -n $failed ]]; then
    echo "mutate: the baseline fails, nothing can be concluded" \
      "(see $WORK/baseline.log):" >&2
    echo "$failed" >&2
    exit 1
  fi
  grep 'tests passed' "$WORK/baseline.log"
fi

survived=0
summary=()
for m in "${MUTATIONS[@]}"; do
  name=$(field "$m" 0)
  wanted "$name" || continue
  file=$(field "$m" 1)
  regex=$(field "$m" 4)
  regex=${regex//\\|/|}
  echo "== mutation $name ($file)"
  cp "$SRC/$file" "$WORK/orig"
  if ! apply "$SRC/$file" "$(field "$m" 2)" "$(field "$m" 3)"; then
    summary+=("$name: NOT APPLIED (the code changed: update tools/mutate.sh)")
    survived=$((survived + 1))
    continue
  fi
  # shellcheck disable=SC2046  # targets are words
  if ! build $(field "$m" 5); then
    summary+=("$name: does not build (see $WORK/build.log)")
    survived=$((survived + 1))
  else
    failed=$(run_tests "$regex" "$WORK/$name.log")
    if [[ -z $failed ]]; then
      summary+=("$name: SURVIVED (tests: $regex)")
      survived=$((survived + 1))
    else
      summary+=("$name: caught by $(echo "$failed" | paste -sd ';' | sed 's/;/; /g')")
    fi
  fi
  cp "$WORK/orig" "$SRC/$file"
  echo "${summary[-1]}"
done
# Leave the copy built unmutated for the next run.
build "${!all_targets[@]}" || true

echo "== summary"
printf '%s\n' "${summary[@]}"
if ((survived > 0)); then
  echo "mutate: $survived mutation(s) not caught" >&2
  exit 1
fi
echo "mutate: every mutation was caught"
