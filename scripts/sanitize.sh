#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The sanitizer run: configures and builds the asan preset (openmp + AddressSanitizer +
# UndefinedBehaviorSanitizer, build/asan) and runs the whole test suite under it but the CUDA and
# HIP compile checks (they compile with nvcc / hipcc, nothing of them runs) and the one test of
# label `large` (a 4 GiB tensor rotated in place, about 75 s under ASan; both plain presets run
# it). To keep the CI under an hour it builds one rotation product per element size (half_t and
# bhalf_t rows are indexed as bfloat16 rows are), no header check, and not the AVX512-BF16 copy of
# the tests (those loops run unsanitized in the openmp preset). Any sanitizer report fails the test that
# produced it (-fno-sanitize-recover=all; LeakSanitizer on). The one suppression list is the MPI
# example's, for leaks inside Open MPI's own libraries (examples/context_parallel/main.cpp).
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
