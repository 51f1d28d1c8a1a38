#!/bin/sh
# Time picotag against ONNX Runtime and PyTorch on ResNet-18 and ResNet-50
# (224 x 224, batch 1, 1 and 2 threads). Installs what it needs (Debian
# packages with apt-get, onnxruntime-node with npm), builds picotag in
# build-peers/ (Release), builds the networks into build-peers/peers/,
# checks that picotag and ONNX Runtime int8 compute the same network, then
# times every engine and prints the tables. Options go to peers.py, e.g.
#     bench/peers/run.sh --depths 18 --runs 10
# Not part of CI: it takes minutes and needs npm.
set -eu

repo=$(cd "$(dirname "$0")/../.." && pwd)
cd "$repo"

# Help first: everything below installs packages and builds.
case "${1:-}" in
    -h|--help) PYTHONPATH="$repo/train:$repo/bench/peers" exec /usr/bin/python3 bench/peers/peers.py --help ;;
esac

scripts/install-deps.sh
missing=""
dpkg-query -W -f='${Status}' python3-onnx 2>/dev/null | grep -q "install ok installed" || missing="python3-onnx"
# Any Node.js with npm will do; Debian's packages only where there is none.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
if [ -n "$missing" ]; then
    sudo_command=""
    [ "$(id -u)" -eq 0 ] || sudo_command=sudo
    $sudo_command apt-get update -q
    # shellcheck disable=SC2086
    DEBIAN_FRONTEND=noninteractive $sudo_command apt-get install -y -q --no-install-recommends $missing
fi

# The CPU binaries are inside the npm package, so its download step is skipped.
if [ ! -d bench/peers/node_modules/onnxruntime-node ]; then
    (cd bench/peers && ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund)
fi

cmake -S . -B build-peers -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build-peers -j2 --target picotag_peer_bench

PYTHONPATH="$repo/train:$repo/bench/peers" exec /usr/bin/python3 bench/peers/peers.py --build build-peers "$@"
