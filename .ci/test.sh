#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Sets up, builds and runs the whole test suite — the README's test command; .ci/run calls it.
#  1. installs the Debian packages (.ci/setup.sh, idempotent);
#  2. builds with ASan + UBSan and runs the unit and integration tests under them;
#  3. builds the release configuration with warnings as errors and runs every test
#     (unit, integration, e2e against a real Prosody and ejabberd). Its ctest summary is last.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)

bash .ci/setup.sh

if [ "${CONCIERGE_SKIP_SANITIZE:-0}" != 1 ]; then
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DCONCIERGE_WERROR=ON \
        -DCONCIERGE_SANITIZE=ON -DCONCIERGE_BENCH=OFF >/dev/null
  cmake --build build-asan -j "$jobs"
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan -L 'unit|integration' -j "$jobs" --output-on-failure
fi

cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCONCIERGE_WERROR=ON >/dev/null
cmake --build build -j "$jobs"
ctest --test-dir build -j "$jobs" --output-on-failure "$@"
