#!/usr/bin/env bash
# The libFuzzer targets (docs/testing.md, fuzz section).
#   tools/fuzz.sh build DIR              configure and build the clang fuzz
#                                        tree (ASan + UBSan) in DIR
#   tools/fuzz.sh run DIR NAME SECONDS   run target NAME for SECONDS on its
#                                        seed corpus; fails on any crash,
#                                        leak, UBSan report or timeout
#   tools/fuzz.sh seeds DIR              rewrite tests/fuzz/corpus/ from the
#                                        fuzz tree's fuzz_seeds and conf/
# New inputs found by `run` go to a scratch directory, never into the repo;
# a crash leaves its input in DIR/artifacts/NAME/.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=$ROOT/tests/fuzz/corpus
CXX_FUZZ=${CXX_FUZZ:-clang++-14}

cmd=${1:-}
dir=${2:-}
[[ -n $cmd && -n $dir ]] || { sed -n 2,11p "$0"; exit 2; }

case $cmd in
build)
  launcher=()
  if command -v ccache >/dev/null; then
    launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
  fi
  cmake -S "$ROOT" -B "$dir" -DDINE_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER="$CXX_FUZZ" "${launcher[@]}" >/dev/null
  nice cmake --build "$dir" -j"${FUZZ_JOBS:-2}"
  ;;
run)
  name=$3
  secs=$4
  bin=$dir/tests/fuzz/fuzz_$name
  [[ -x $bin ]] || { echo "fuzz.sh: $bin not built" >&2; exit 1; }
  scratch=$(mktemp -d)
  trap 'rm -rf "$scratch"' EXIT
  mkdir -p "$dir/artifacts/$name"
  # -rss_limit_mb: no input may make a parser use more than 1 GiB;
  # -timeout: nor run longer than 10 s. Leak detection is on (LSan).
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=0 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$bin" -max_total_time="$secs" -rss_limit_mb=1024 -timeout=10 \
    -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$dir/artifacts/$name/" \
    "$scratch" "$CORPUS/$name"
  ;;
seeds)
  for t in frame config checkpoint tokenizer; do
    rm -rf "${CORPUS:?}/$t"
    mkdir -p "$CORPUS/$t"
  done
  "$dir/tests/fuzz/fuzz_seeds" "$CORPUS"
  for f in "$ROOT"/conf/*.ini; do
    cp "$f" "$CORPUS/config/$(basename "$f")"
  done
  ;;
*)
  sed -n 2,11p "$0"
  exit 2
  ;;
esac
