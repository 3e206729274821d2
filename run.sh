#!/usr/bin/env bash
# dine: set up, build, and run.
#   ./run.sh demo   install deps, build, start a local cluster (1 coordinator
#                   + 2 workers, a small random transformer written by
#                   dine-mkmodel), send real requests, print replies and
#                   generated text; then the 5-process pipeline cluster of
#                   conf/pipeline.ini (coordinator, worker, 2 preproc,
#                   1 postproc) answering; stop them all
#   ./run.sh test   install deps, build, run the whole test suite (ctest)
#   ./run.sh build  install deps and build only
#   ./run.sh mutate [NAME...]
#                   install deps, run the mutation smoke check
#                   (tools/mutate.sh, docs/testing.md)
#   ./run.sh fuzz [SECONDS]
#                   install deps, build the clang fuzz tree (build/fuzz,
#                   ASan + UBSan) and run every libFuzzer target for SECONDS
#                   each (default 600; docs/testing.md, fuzz section)
#   ./run.sh demo-prebuilt
#                   the demo against an existing build, without set-up (the
#                   demo's own test runs this)
set -euo pipefail
cd "$(dirname "$0")"
ROOT=$PWD
BUILD=${DINE_BUILD_DIR:-$ROOT/build}
PACKAGES=(g++ cmake make pkg-config libcaf-dev libcaf-openssl0.17 libssl-dev openssl
          libmsgpack-cxx-dev
          libboost-dev liblmdb-dev doctest-dev nlohmann-json3-dev iproute2
          libopenblas-dev prometheus-cpp-dev curl nodejs wrk chromium python3
          clang-14 libclang-rt-14-dev etcd-server etcd-client)
# npm (the HTTP tests install the OpenAI Node client with it): Debian's
# package, unless a nodejs build that bundles npm is installed already.
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

install_deps() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" \
      || missing+=("$p")
  done
  if ((${#missing[@]})); then
    echo "run.sh: installing ${missing[*]}"
    local sudo=""
    [[ $(id -u) -eq 0 ]] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
  fi
}

build() {
  cmake -S "$ROOT" -B "$BUILD" -DCMAKE_BUILD_TYPE=Release >/dev/null
  cmake --build "$BUILD" -j"$(nproc)"
}

# Reads a key of a ready file (flat JSON written by dine-node).
ready_key() { sed -n "s/.*\"$2\": *\([0-9]*\).*/\1/p" "$1"; }

wait_ready() {
  for _ in $(seq 1 500); do [[ -s $1 ]] && return 0; sleep 0.02; done
  echo "run.sh: $1 never appeared" >&2; return 1
}

# The demo's nodes and scratch directory: globals, because the EXIT trap
# that stops them runs after demo() has returned.
DEMO_TMP=""
DEMO_PIDS=()

demo_stop() {
  if ((${#DEMO_PIDS[@]})); then
    kill "${DEMO_PIDS[@]}" 2>/dev/null || true
    wait "${DEMO_PIDS[@]}" 2>/dev/null || true
  fi
  [[ -z $DEMO_TMP ]] || rm -rf "$DEMO_TMP"
}

demo() {
  DEMO_TMP=$(mktemp -d)
  local tmp=$DEMO_TMP
  trap demo_stop EXIT
  trap 'exit 1' INT TERM PIPE
  # A small random transformer (docs/models.md), instant to write and
  # to run: served as model `transformer` by the workers. The coordinator
  # gets the same flags so that it knows the model is generative
  # (docs/operations.md); only workers read the files.
  "$BUILD/dine-mkmodel" --out="$tmp/model" --dim=64 --hidden-dim=128 \
    --layers=2 --heads=4 --kv-heads=4 --vocab=512 --seq-len=128 >/dev/null
  local model=(--checkpoint="$tmp/model.bin" --tokenizer="$tmp/model.tok")
  # A fresh cache directory, so that the first request of each model is
  # run by a worker and its repeat is answered from the cache.
  "$BUILD/dine-node" --role=coordinator --client-port=0 \
    --listen=127.0.0.1:0 --cache-dir="$tmp/cache" "${model[@]}" \
    --ready-file="$tmp/coord" >"$tmp/coord.log" 2>&1 &
  DEMO_PIDS+=($!)
  wait_ready "$tmp/coord"
  local cport lport
  cport=$(ready_key "$tmp/coord" client_port)
  lport=$(ready_key "$tmp/coord" cluster_port)
  for w in 1 2; do
    "$BUILD/dine-node" --role=worker --join="127.0.0.1:$lport" \
      --name="worker-$w" --models=echo,cost,sleep "${model[@]}" \
      --ready-file="$tmp/w$w" >"$tmp/w$w.log" 2>&1 &
    DEMO_PIDS+=($!)
  done
  wait_ready "$tmp/w1"; wait_ready "$tmp/w2"
  echo "== cluster up: coordinator 127.0.0.1:$cport, 2 workers joined" \
    "(pids ${DEMO_PIDS[*]})"
  local c=("$BUILD/dine-client" "--connect=127.0.0.1:$cport")
  echo "== echo";  "${c[@]}" --model=echo --inputs='{"text":"hello dine"}'
  echo "== cost";  "${c[@]}" --model=cost --inputs='{"x":[1,2,3]}'
  echo "== sleep"; "${c[@]}" --model=sleep --inputs='"zzz"'
  echo "== cost again (answered from the cache)"
  "${c[@]}" --model=cost --inputs='{"x":[1,2,3]}'
  local gen='{"prompt":"Once upon a time","max_tokens":24}'
  echo "== transformer: a whole reply (random weights, greedy)"
  "${c[@]}" --model=transformer --inputs="$gen"
  echo "== transformer: the same request streamed (text as it arrives)"
  "${c[@]}" --model=transformer --stream --inputs="$gen"
  echo "== transformer: sampled, seeded"
  "${c[@]}" --model=transformer \
    --inputs='{"prompt":"Once upon a time","max_tokens":24,"temperature":0.9,"top_p":0.9,"seed":7}'
  echo "== 64 pipelined requests from a file"
  for i in $(seq 1 64); do echo "{\"inputs\":{\"i\":$i}}"; done >"$tmp/reqs"
  "${c[@]}" --model=echo --file="$tmp/reqs" --pipeline=32 | tail -n 3
  echo "== unknown model (an error reply)"
  "${c[@]}" --model=nope --inputs=1 || true
  echo "== models";  "${c[@]}" --op=models
  echo "== load: 8 connections x 32 in flight, 2 s, cache off"
  "$BUILD/dine-bench" --connect="127.0.0.1:$cport" --model=echo \
    --connections=8 --depth=32 --duration=2 --no-cache
  echo "== stats";   "${c[@]}" --op=stats
  demo_pipeline
  echo "== stopping"
}

# The 5-process pipeline of conf/pipeline.ini (docs/operations.md,
# "Pipelines") on free ports: coordinator, model worker, 2 preproc and 1
# postproc processes.
demo_pipeline() {
  local tmp=$DEMO_TMP conf=$ROOT/conf/pipeline.ini
  "$BUILD/dine-node" --config="$conf" --client-port=0 --listen=127.0.0.1:0 \
    --cache-dir="$tmp/p-cache" \
    --ready-file="$tmp/p-coord" >"$tmp/p-coord.log" 2>&1 &
  DEMO_PIDS+=($!)
  wait_ready "$tmp/p-coord"
  local cport lport pids=($!)
  cport=$(ready_key "$tmp/p-coord" client_port)
  lport=$(ready_key "$tmp/p-coord" cluster_port)
  for node in worker:worker-1 preproc:pre-1 preproc:pre-2 postproc:post-1; do
    "$BUILD/dine-node" --config="$conf" --role="${node%%:*}" \
      --join="127.0.0.1:$lport" --name="${node#*:}" \
      --ready-file="$tmp/p-${node#*:}" >"$tmp/p-${node#*:}.log" 2>&1 &
    DEMO_PIDS+=($!)
    pids+=($!)
  done
  for n in worker-1 pre-1 pre-2 post-1; do wait_ready "$tmp/p-$n"; done
  echo "== pipeline cluster up: coordinator 127.0.0.1:$cport, worker," \
    "2 preproc, 1 postproc (pids ${pids[*]})"
  local c=("$BUILD/dine-client" "--connect=127.0.0.1:$cport")
  echo "== classify: softmax on the worker, top-k and labels in post-1"
  "${c[@]}" --model=classify --inputs='[0.5, 2.0, 1.0]'
  echo "== clean: the prompt normalised in a preproc process"
  "${c[@]}" --model=clean --inputs='{"prompt":"  Hello\tPIPELINE  World "}'
  echo "== heavy: 1 ms of preprocessing each, 200 requests over both" \
    "preproc processes"
  "$BUILD/dine-bench" --connect="127.0.0.1:$cport" --model=heavy \
    --connections=2 --depth=8 --requests=200 --no-cache | grep -E '^(ok|errors|lost) '
  echo "== models (pool stages are models NAME@pre / NAME@post)"
  "${c[@]}" --op=models
}

case "${1:-}" in
  demo) install_deps; build; demo ;;
  demo-prebuilt) demo ;;
  test) install_deps; build; cd "$BUILD"
        ctest --output-on-failure --timeout 600 -j2 ;;
  build) install_deps; build ;;
  mutate) install_deps; shift; exec "$ROOT/tools/mutate.sh" "$@" ;;
  fuzz) install_deps; "$ROOT/tools/fuzz.sh" build "$BUILD/fuzz"
        for t in frame config checkpoint tokenizer; do
          echo "== fuzz_$t, ${2:-600} s"
          "$ROOT/tools/fuzz.sh" run "$BUILD/fuzz" "$t" "${2:-600}"
        done ;;
  *) echo "usage: $0 demo|test|build|mutate|fuzz|demo-prebuilt" >&2; exit 2 ;;
esac
