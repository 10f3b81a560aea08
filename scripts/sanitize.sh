#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The sanitizer run: configures and builds the asan preset (openmp + AddressSanitizer +
# UndefinedBehaviorSanitizer, build/asan) and runs the whole test suite under it (the CUDA
# compile check excluded: it compiles with nvcc, nothing of it runs). Any sanitizer report fails
# the test that produced it (-fno-sanitize-recover=all; LeakSanitizer on). No suppressions.
# Runs inside the sysroot: scripts/dev sanitize.
set -euo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
cmake --preset asan >/dev/null
cmake --build --preset asan
t1=$(date +%s)
ctest --preset asan
t2=$(date +%s)
echo "sanitize: build $((t1 - t0)) s, tests $((t2 - t1)) s"
