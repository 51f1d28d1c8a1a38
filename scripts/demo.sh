#!/usr/bin/env bash
# Tags the sample photos that Debian's darknet package ships (dog, eagle,
# giraffe, horses, kite, person, scream) with the bundled model.
# Installs the build dependencies, builds picotag, fetches the darknet
# package through apt and unpacks only its photos (installing it would pull
# in OpenCV), then runs `picotag tag` on them. Extra arguments are passed to
# `picotag tag`, e.g. `scripts/demo.sh --lang ko` or `scripts/demo.sh --json`.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j "$(nproc)" --target picotag_command >/dev/null

photos=build/demo-photos
if ! ls "$photos"/*.jpg >/dev/null 2>&1; then
  mkdir -p "$photos"
  download=$(mktemp -d)
  if ! (cd "$download" && apt-get download -q darknet >/dev/null 2>&1); then
    if [ "$(id -u)" -eq 0 ]; then apt-get update -q >/dev/null; else sudo apt-get update -q >/dev/null; fi
    (cd "$download" && apt-get download -q darknet >/dev/null)
  fi
  dpkg-deb -x "$download"/darknet_*.deb "$download/unpacked"
  cp "$download"/unpacked/usr/share/darknet/data/*.jpg "$photos/"
  rm -rf "$download"
fi

exec build/src/tools/picotag tag --no-catalog --model models/default.ptm "$@" "$photos"/*.jpg
