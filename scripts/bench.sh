#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The benchmark suite of a built preset: runs build/PRESET/bin/kokkos-rope-bench, writes
# perf/results/<machine>-<date>.json (the preset's name is appended for presets other than
# openmp), prints the summary table and redraws the PNG plots next to the JSON.
#
#   bash scripts/bench.sh [PRESET] [kokkos-rope-bench arguments...]
#   e.g. bash scripts/bench.sh openmp --quick
#        bash scripts/bench.sh openmp --benchmark_filter='prefill/llama3.1-8b/.*'
# Environment: KOKKOSROPE_MACHINE names the machine (default: short host name + core count);
# KOKKOSROPE_BUILD_DIR overrides the build directory (default: build/PRESET).
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# An empty OMP_NUM_THREADS (as scripts/dev exec passes it) makes libgomp warn: drop it.
[ -n "${OMP_NUM_THREADS:-}" ] || unset OMP_NUM_THREADS
PRESET=${1:-openmp}
[ $# -gt 0 ] && shift
BUILD=${KOKKOSROPE_BUILD_DIR:-$REPO/build/$PRESET}
BIN=$BUILD/bin/kokkos-rope-bench
if [ ! -x "$BIN" ]; then
  echo "bench.sh: $BIN is not built; build the preset first (scripts/dev build $PRESET)" >&2
  exit 1
fi
command -v python3 >/dev/null || { echo "bench.sh: python3 is needed for the summary and plots" >&2; exit 1; }

MACHINE=${KOKKOSROPE_MACHINE:-$(hostname -s 2>/dev/null || echo host)-$(nproc)c}
STEM=$MACHINE-$(date +%Y-%m-%d)
[ "$PRESET" = openmp ] || STEM=$STEM-$PRESET
mkdir -p "$REPO/perf/results"
OUT=$REPO/perf/results/$STEM.json
LOG=$BUILD/bench-$STEM.log

echo "bench.sh: $BIN $* -> $OUT (log: $LOG)"
rc=0
OMP_PROC_BIND=${OMP_PROC_BIND:-false} "$BIN" --benchmark_out="$OUT.tmp" --benchmark_out_format=json \
  --benchmark_counters_tabular=false "$@" 2>&1 | tee "$LOG" || rc=$?
if [ "$rc" -ne 0 ] || [ ! -s "$OUT.tmp" ]; then
  echo "bench.sh: the benchmark FAILED (exit $rc); see $LOG" >&2
  [ -s "$OUT.tmp" ] && mv "$OUT.tmp" "$OUT.failed.json"
  exit 1
fi
mv "$OUT.tmp" "$OUT"
echo
python3 "$REPO/perf/report.py" summary "$OUT"
python3 "$REPO/perf/report.py" plot "$OUT"
