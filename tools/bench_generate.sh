#!/usr/bin/env bash
# Generation throughput of the `transformer` model against llama.cpp's
# llama-server on the same weights and cores (docs/benchmarks.md,
# "Transformer generation vs llama.cpp").
#   tools/bench_generate.sh [ROUNDS]
# Environment: CONC="1 4 16" (concurrent generations), MAX_TOKENS=128,
# PER_CONN=2 (generations per connection and run), STREAM=1 (dine streams;
# empty: whole replies, whose "ttft" is then the whole generation),
# DINE_THREADS=1 (model key
# `threads` of dine's sessions), LLAMA_DIR (cache of
# tools/build_llama_server.sh, which builds it when missing), SETUPS="llama
# all cluster". Per round and concurrency, interleaved: llama-server (-t 2,
# 16 slots), `--role=all`, and a coordinator + 2 worker processes; prints
# one line each: output tokens/s, time to first token p50/p99.
# The checkpoint: dine-mkmodel at the stories15M shape (dim 288, hidden
# 768, 6 layers, 6 heads, 6 KV heads, vocab 32000, seq_len 256), greedy;
# llama-server bans the byte tokens 3..258 (a random model emits bytes that
# are not UTF-8) and ignores EOS; dine counts the tokens it generated.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/common.sh
ROUNDS=${1:-1}
CONC=${CONC:-"1 4 16"}
MAX_TOKENS=${MAX_TOKENS:-128}
PER_CONN=${PER_CONN:-2}
STREAM=${STREAM-1}
DINE_THREADS=${DINE_THREADS:-1}
SETUPS=${SETUPS:-"llama all cluster"}
LLAMA_BIN=$(tools/build_llama_server.sh "${LLAMA_DIR:-$HOME/.cache/dine-llama}")
export LD_LIBRARY_PATH=$LLAMA_BIN${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}

M=$TMP/m
"$BUILD/dine-mkmodel" --out="$M" --dim=288 --hidden-dim=768 --layers=6 \
  --heads=6 --kv-heads=6 --vocab=32000 --seq-len=256 >/dev/null
"$LLAMA_BIN/llama-convert-llama2c-to-ggml" --copy-vocab-from-model "$M.tok" \
  --llama2c-model "$M.bin" --llama2c-output-model "$M.gguf" >/dev/null 2>&1
MODEL=(--checkpoint="$M.bin" --tokenizer="$M.tok"
       --model.transformer.threads="$DINE_THREADS")

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start_llama() {
  LPORT=$(free_port)
  "$LLAMA_BIN/llama-server" -m "$M.gguf" --override-kv \
    llama.context_length=int:256 -c 4096 -np 16 -t 2 --host 127.0.0.1 \
    --port "$LPORT" >"$TMP/llama.log" 2>&1 &
  LPID=$!
  PIDS+=("$LPID")
  for _ in $(seq 300); do
    curl -sf "127.0.0.1:$LPORT/health" >/dev/null 2>&1 && return
    sleep 0.1
  done
  echo "llama-server did not start" >&2; exit 1
}

# bench_dine NAME PORT C: dine-bench in generation mode
bench_dine() {
  local out
  # Warm-up: the first request waits for the session to map and pack the
  # weights.
  "$BUILD/dine-bench" --connect="127.0.0.1:$2" --model=transformer \
    --max-tokens=4 --connections=1 --requests=1 --timeout=60 >/dev/null
  out=$("$BUILD/dine-bench" --connect="127.0.0.1:$2" --model=transformer \
    --max-tokens="$MAX_TOKENS" --prompt="Once upon a time" \
    --connections="$3" --requests=$(($3 * PER_CONN)) --timeout=300 \
    ${STREAM:+--stream} --json) || {
    echo "$1 c=$3: dine-bench failed (exit $?): $out"
    return 0
  }
  python3 -c '
import json, sys
j = json.loads(sys.argv[3])
print("%-8s c=%3s  %8.1f tok/s  ttft p50 %d us p99 %d us  "
      "itl p50 %d us p99 %d us  errors %s" % (
    sys.argv[1], sys.argv[2], j["output_tokens_per_s"], j["ttft_us"]["p50"],
    j["ttft_us"]["p99"], j["itl_us"]["p50"], j["itl_us"]["p99"],
    j["errors"]))' "$1" "$3" "$out"
}

bench_llama() {
  python3 tools/llama_load.py --port "$LPORT" --concurrency "$1" \
    --requests=$(($1 * PER_CONN)) --max-tokens "$MAX_TOKENS" --ban-bytes |
    python3 -c '
import json, sys
j = json.loads(sys.stdin.read())
print("llama    c=%3d  %8.1f tok/s  ttft p50 %d us p99 %d us  "
      "itl p50 %d us p99 %d us  errors %s" % (
    j["concurrency"], j["tokens_per_s"], j["ttft_ms_p50"] * 1000,
    j["ttft_ms_p99"] * 1000, j["tpot_ms_p50"] * 1000, j["tpot_ms_p99"] * 1000,
    j["errors"]))'
}

for round in $(seq "$ROUNDS"); do
  echo "== round $round"
  for c in $CONC; do
    for s in $SETUPS; do
      case $s in
      llama) start_llama; bench_llama "$c"; stop "$LPID" ;;
      all)
        start_node all --role=all --client-port=0 "${MODEL[@]}"
        bench_dine all "$PORT" "$c"; stop "$PID" ;;
      cluster)
        start_node coord --role=coordinator --client-port=0 \
          --listen=127.0.0.1:0 "${MODEL[@]}"
        local_c=$PID cport=$PORT
        lport=$(key "$TMP/coord" cluster_port)
        start_node w1 --role=worker --join="127.0.0.1:$lport" --name=w1 \
          --models=transformer "${MODEL[@]}"
        w1=$PID
        start_node w2 --role=worker --join="127.0.0.1:$lport" --name=w2 \
          --models=transformer "${MODEL[@]}"
        w2=$PID
        sleep 0.5 # both registered
        bench_dine cluster "$cport" "$c"; stop "$w1" "$w2" "$local_c" ;;
      esac
    done
  done
done
