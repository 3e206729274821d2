#!/usr/bin/env bash
# The official OpenAI Node client (npm `openai`) against a real dine-node
# serving a small random transformer over HTTP (docs/http.md), with an API
# key file: the client sends its key as `Authorization: Bearer` (docs/
# security.md, "HTTP front door"). Installs the
# package into $DINE_NPM_DIR (default ~/.cache/dine-npm, outside the repo)
# if it is missing. Stops the node it started.
#   check_openai.sh BUILD_DIR
set -euo pipefail
build=$1
here=$(cd "$(dirname "$0")" && pwd)
npm_dir=${DINE_NPM_DIR:-$HOME/.cache/dine-npm}
if [[ ! -f $npm_dir/node_modules/openai/package.json ]]; then
  mkdir -p "$npm_dir"
  npm install --silent --no-audit --no-fund --prefix "$npm_dir" openai@4
fi
tmp=$(mktemp -d)
pid=
cleanup() {
  [[ -n $pid ]] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT
"$build/dine-mkmodel" --out="$tmp/m" --dim=64 --hidden-dim=128 --layers=2 \
  --heads=4 --kv-heads=2 --vocab=512 --seq-len=128 >/dev/null
key=usr-openai-3c5e7a9b1d2f4a6c
printf 'user %s\n' "$key" >"$tmp/keys"
"$build/dine-node" --role=all --client-port=0 --http-port=0 --models=echo \
  --checkpoint="$tmp/m.bin" --tokenizer="$tmp/m.tok" --api-keys-file="$tmp/keys" \
  --ready-file="$tmp/ready.json" >"$tmp/node.log" 2>&1 &
pid=$!
for _ in $(seq 300); do
  [[ -s $tmp/ready.json ]] && break
  sleep 0.1
done
[[ -s $tmp/ready.json ]] || { cat "$tmp/node.log"; exit 1; }
port=$(sed -n 's/.*"http_port": \([0-9]*\).*/\1/p' "$tmp/ready.json")
OPENAI_MODULE=$npm_dir/node_modules/openai \
  node "$here/openai_client.cjs" "http://127.0.0.1:$port/v1" "$key" ||
  { echo "--- node log:"; cat "$tmp/node.log"; exit 1; }
