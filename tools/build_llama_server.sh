#!/usr/bin/env bash
# Builds llama.cpp's llama-server and llama-convert-llama2c-to-ggml, the peer
# the transformer benchmark compares against (docs/benchmarks.md), into a
# cache directory outside the repository. llama.cpp's source ships inside
# the npm package node-llama-cpp as a git bundle; nothing else is fetched.
#   tools/build_llama_server.sh [CACHE_DIR]   (default ~/.cache/dine-llama)
# Prints the directory holding the two binaries. About 11 minutes on 2 cores.
set -euo pipefail
CACHE=${1:-${DINE_LLAMA_DIR:-$HOME/.cache/dine-llama}}
VERSION=${NODE_LLAMA_CPP_VERSION:-3.22.1}
mkdir -p "$CACHE"
cd "$CACHE"
bin=$CACHE/src/build/bin
if [[ -x $bin/llama-server && -x $bin/llama-convert-llama2c-to-ggml ]]; then
  echo "$bin"; exit 0
fi
for p in git cmake g++ npm; do
  command -v "$p" >/dev/null || { echo "build_llama_server: needs $p" >&2; exit 2; }
done
if [[ ! -d src ]]; then
  tarball=$(npm pack "node-llama-cpp@$VERSION" --silent 2>/dev/null | tail -n 1)
  tar -xzf "$tarball" package/llama/gitRelease.bundle
  git -c advice.detachedHead=false clone -q package/llama/gitRelease.bundle src
  rm -rf package "$tarball"
fi
cmake -S src -B src/build -DCMAKE_BUILD_TYPE=Release -DLLAMA_BUILD_UI=OFF \
  -DLLAMA_USE_PREBUILT_UI=OFF -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF \
  -DLLAMA_BUILD_TESTS=OFF >/dev/null
cmake --build src/build -j"$(nproc)" --target llama-server \
  llama-convert-llama2c-to-ggml >/dev/null
echo "$bin"
