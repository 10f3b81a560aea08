#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the libFuzzer targets of tests/fuzz with clang (build/fuzz) and runs each for SECONDS
# (default 60) from its seed corpus. Prints the executions run per target; exits non-zero when a
# target crashes, leaks, hits undefined behaviour or times out (the input is saved under
# build/fuzz/artifacts/<target>/; fix it and copy it to tests/fuzz/regressions/<target>/).
# Runs inside the sysroot: scripts/dev fuzz [SECONDS].
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
[[ "$seconds" =~ ^[0-9]+$ ]] && [ "$seconds" -gt 0 ] || { echo "usage: scripts/fuzz.sh [SECONDS > 0]" >&2; exit 2; }
build=build/fuzz

CXX=${FUZZ_CXX:-clang++} cmake -S tests/fuzz -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=None >/dev/null
cmake --build "$build"

status=0
summary=()
for target in config npy; do
  work="$build/corpus/$target"      # new inputs go here, never into the committed seeds
  artifacts="$build/artifacts/$target/"
  mkdir -p "$work" "$artifacts"
  seeds=(tests/fuzz/corpus/$target tests/fuzz/regressions/$target)
  [ "$target" = config ] && seeds+=(tests/data/configs)
  log="$build/fuzz_$target.log"
  echo "=== fuzz_$target: ${seconds} s from ${seeds[*]}"
  rc=0
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build/fuzz_$target" "$work" "${seeds[@]}" -max_total_time="$seconds" -timeout=10 \
      -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix="$artifacts" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n1)
  tail -n 4 "$log" | grep -v '^stat::' || true
  if [ "$rc" -ne 0 ]; then
    echo "fuzz_$target: FAILED (exit $rc); log $log, input(s) in $artifacts:" >&2
    grep -m5 -E 'ERROR|runtime error|Test unit written' "$log" >&2 || true
    status=1
  fi
  summary+=("fuzz_$target: ${execs:-?} executions in ${seconds} s, corpus $(ls "$work" | wc -l) new + seeds, exit $rc")
done
echo "=== fuzz summary"
printf '%s\n' "${summary[@]}"
exit "$status"
