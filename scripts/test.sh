#!/usr/bin/env bash
# Installs the dependencies, builds picotag three ways (gcc with -Werror,
# clang with -Werror, gcc with AddressSanitizer and UndefinedBehaviorSanitizer)
# and runs the C tests under each build. Then it runs the thread tests under
# ThreadSanitizer (clang) and the engine and kernel tests of an aarch64 cross
# build under qemu. Last come the Python tests, which compare the C engine
# with the Python integer reference.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

jobs=$(nproc)
python=/usr/bin/python3

echo "== gcc build"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPICOTAG_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build --output-on-failure -j "$jobs"

echo "== clang build"
CC=clang cmake -S . -B build-clang -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPICOTAG_WERROR=ON >/dev/null
cmake --build build-clang -j "$jobs"
ctest --test-dir build-clang --output-on-failure -j "$jobs"

echo "== sanitizer build (ASan + UBSan)"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DPICOTAG_SANITIZE=ON >/dev/null
cmake --build build-asan -j "$jobs"
ctest --test-dir build-asan --output-on-failure -j "$jobs"

echo "== ThreadSanitizer build of the thread pool and threaded runner tests"
CC=clang cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPICOTAG_SANITIZE_THREAD=ON >/dev/null
cmake --build build-tsan -j "$jobs" --target test_thread_pool test_runner_threads test_runner_profile
ctest --test-dir build-tsan --output-on-failure -j "$jobs" -R '^test_(thread_pool|runner_threads|runner_profile)$'

echo "== aarch64 cross build, tests under qemu"
cmake -S . -B build-aarch64 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPICOTAG_WERROR=ON -DPICOTAG_ENGINE_ONLY=ON \
  -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake >/dev/null
cmake --build build-aarch64 -j "$jobs"
ctest --test-dir build-aarch64 --output-on-failure -j "$jobs"

echo "== Python tests (training, export, integer reference, C engine cross-checks)"
PICOTAG_LIB="$PWD/build/libpicotag.so" PICOTAG_ASAN_TOOL="$PWD/build-asan/src/tools/picotag" \
  PYTHONPATH=train "$python" -m pytest train/tests -q -p no:cacheprovider
