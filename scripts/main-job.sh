#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# The main job (scripts/dev run, inside the sysroot, after building build/openmp and
# build/serial-kk): the benchmark suite in quick mode on the OpenMP build with a summary table,
# then the backend cross-check (OpenMP against Serial) when the kokkos-rope tool is built.
# Exits non-zero when the benchmark fails (a variant that does not verify) or the cross-check
# finds a difference.
set -uo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# An empty OMP_NUM_THREADS (as scripts/dev exec passes it) makes libgomp warn: drop it.
[ -n "${OMP_NUM_THREADS:-}" ] || unset OMP_NUM_THREADS
cd "$REPO"
status=0

# ---- benchmark (quick) -----------------------------------------------------------------------
# The build directories (overridable for testing the script against other builds).
OMP_BUILD=${KOKKOSROPE_OPENMP_BUILD:-build/openmp}
SER_BUILD=${KOKKOSROPE_SERIAL_BUILD:-build/serial-kk}
BIN=$OMP_BUILD/bin/kokkos-rope-bench
OUT=$OMP_BUILD/perf-main-job.json
LOG=$OMP_BUILD/perf-main-job.log
if [ -x "$BIN" ]; then
  echo "== benchmark: $BIN --quick (log: $LOG)"
  start=$(date +%s)
  if OMP_PROC_BIND=${OMP_PROC_BIND:-false} timeout 600 "$BIN" --quick --benchmark_out="$OUT" \
       --benchmark_out_format=json >"$LOG" 2>&1; then
    echo "   done in $(( $(date +%s) - start )) s; every variant verified against the reference"
    python3 perf/report.py summary "$OUT" || status=1
  else
    echo "benchmark: FAILED (exit code above); last lines of $LOG:" >&2
    tail -n 30 "$LOG" >&2
    status=1
  fi
else
  echo "benchmark: not built ($BIN)" >&2
  status=1
fi

# ---- backend cross-check ---------------------------------------------------------------------
echo
echo "== backend cross-check (OpenMP vs Serial)"
TOOL_OMP=$OMP_BUILD/bin/kokkos-rope
TOOL_SER=$SER_BUILD/bin/kokkos-rope
if [ -x "$TOOL_OMP" ] && [ -x "$TOOL_SER" ]; then
  DIR=$(mktemp -d "${TMPDIR:-/tmp}/kokkosrope-crosscheck.XXXXXX")
  if "$TOOL_OMP" crosscheck --dump "$DIR/openmp" && "$TOOL_SER" crosscheck --dump "$DIR/serial-kk" \
     && "$TOOL_SER" crosscheck --against "$DIR/openmp"; then
    echo "crosscheck: OpenMP (Kokkos 5) and Serial (Kokkos 4.5) agree"
  else
    echo "crosscheck: FAILED" >&2
    status=1
  fi
  rm -rf "$DIR"
else
  echo "crosscheck: not built ($TOOL_OMP / $TOOL_SER missing)"
fi

exit $status
