#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# CUDA compile check: every public kernel of KokkosRope compiled by nvcc for Kokkos::Cuda (sm_90),
# without a GPU and without a CUDA build of Kokkos. A CUDA-configured copy of the Kokkos 5
# headers is generated from the OpenMP ones the sysroot installs; the translation units of
# tests/cuda-compile/ are compiled with it (objects only: nothing is linked or run), with nvcc
# warnings as errors (a host-only call in a kernel template is only a warning otherwise).
# `-Xptxas -v` output is kept and summarised per kernel (registers, spills, stack, shared memory),
# and so is each unit's PTX (nvcc --keep; the other intermediates are deleted): the report counts
# every kernel's global loads and stores by vector width (ld.global.v4 / .v2 / scalar, st.global
# likewise), so that a 16-byte access path shows as v4 loads and stores.
# The instances (tests/cuda-compile/instances.cpp) are backend-neutral: scripts/hip-compile-check.sh
# compiles the same file with hipcc for Kokkos::HIP.
#
#   scripts/cuda-compile-check.sh [options]            compile all instances, write the report
#   scripts/cuda-compile-check.sh --expect-failure     negative control: the deliberately broken
#                                                      unit must fail (and its fixed twin compile)
# Options:
#   --nvcc PATH            default: $CUDACXX, /usr/local/cuda/bin/nvcc, nvcc on PATH
#   --ccbin PATH           host compiler for nvcc (default: nvcc's choice, g++ on PATH)
#   --kokkos-include DIR   Kokkos 5 headers (default: /usr/include/kokkos, else the sysroot's)
#   --out DIR              scratch and artifacts (default: build/cuda-compile)
#   --report FILE          markdown report (default: perf/results/cuda-ptxas-report.md)
#   --version X.Y.Z        KokkosRope version for Version.hpp (default: from CMakeLists.txt)
#   --arch SM              default: sm_90
#   -j N                   parallel nvcc processes (default: 2)
# Exit status: 0 passed, 1 failed, 77 skipped (no nvcc or no Kokkos 5 headers; says why).
# Runs on the host (nvcc with the host's g++) or inside the sysroot with /usr/local/cuda mounted.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=$REPO/tests/cuda-compile
SKIP=77
NVCC=${CUDACXX:-}
CCBIN=""
KOKKOS_INC=""
OUT=$REPO/build/cuda-compile
REPORT=$REPO/perf/results/cuda-ptxas-report.md
VERSION=""
ARCH=sm_90
JOBS=2
MODE=check

say() { printf '[cuda-compile] %s\n' "$*"; }
fail() { printf '[cuda-compile] FAILED: %s\n' "$*" >&2; exit 1; }
skip() { printf '[cuda-compile] SKIPPED: %s\n' "$*"; exit "$SKIP"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --nvcc) NVCC=$2; shift 2 ;;
    --ccbin) CCBIN=$2; shift 2 ;;
    --kokkos-include) KOKKOS_INC=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --report) REPORT=$2; shift 2 ;;
    --version) VERSION=$2; shift 2 ;;
    --arch) ARCH=$2; shift 2 ;;
    -j) JOBS=$2; shift 2 ;;
    -j*) JOBS=${1#-j}; shift ;;
    --expect-failure) MODE=expect-failure; shift ;;
    -h|--help) sed -n '3,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument: $1 (see --help)" ;;
  esac
done

# ---- tools and headers ------------------------------------------------------------------------
if [ -z "$NVCC" ]; then
  if [ -x /usr/local/cuda/bin/nvcc ]; then NVCC=/usr/local/cuda/bin/nvcc
  else NVCC=$(command -v nvcc || true); fi
fi
[ -n "$NVCC" ] && [ -x "$NVCC" ] ||
  skip "nvcc not found (looked at \$CUDACXX, /usr/local/cuda/bin/nvcc and PATH); the CUDA compile check did not run"

kokkos5_headers() {  # a Kokkos >= 5 include folder that ships the CUDA backend's headers
  local d=$1
  [ -f "$d/KokkosCore_config.h" ] && [ -f "$d/decl/Kokkos_Declare_CUDA.hpp" ] &&
    [ -f "$d/setup/Kokkos_Setup_Cuda.hpp" ] &&
    [ "$(sed -n 's/^#define KOKKOS_VERSION_MAJOR \([0-9]*\).*/\1/p' "$d/KokkosCore_config.h")" -ge 5 ] 2>/dev/null
}
if [ -z "$KOKKOS_INC" ]; then
  for d in /usr/include/kokkos "$REPO/.sysroot/trixie/usr/include/kokkos"; do
    if kokkos5_headers "$d"; then KOKKOS_INC=$d; break; fi
  done
  [ -n "$KOKKOS_INC" ] ||
    skip "no Kokkos 5 headers with the CUDA backend (looked at /usr/include/kokkos and .sysroot/trixie/usr/include/kokkos; run scripts/dev setup)"
else
  kokkos5_headers "$KOKKOS_INC" || fail "$KOKKOS_INC is not a Kokkos >= 5 include folder with the CUDA backend headers"
fi
if [ -z "$VERSION" ]; then
  VERSION=$(sed -n 's/^project(KokkosRope VERSION \([0-9.]*\).*/\1/p' "$REPO/CMakeLists.txt")
  [ -n "$VERSION" ] || fail "no 'project(KokkosRope VERSION x.y.z' line in CMakeLists.txt"
fi

NVCC_VERSION=$("$NVCC" --version | sed -n 's/.*release \([0-9.]*\), \(V[0-9.]*\).*/\1 (\2)/p')
HOST_CXX=${CCBIN:-$(command -v g++ || true)}
[ -n "$HOST_CXX" ] || skip "no host C++ compiler for nvcc (g++ not on PATH; pass --ccbin)"
HOST_CXX_VERSION=$("$HOST_CXX" --version | head -n1)
say "nvcc $NVCC_VERSION ($NVCC), host compiler: $HOST_CXX_VERSION, Kokkos headers: $KOKKOS_INC"

# ---- the CUDA-configured copy of the Kokkos headers -------------------------------------------
mkdir -p "$OUT"
KK=$OUT/kokkos-cuda-include
GEN=$OUT/generated
rm -rf "$KK" "$GEN"
cp -r "$KOKKOS_INC" "$KK"
edit() {  # file, sed expression, the line that must exist afterwards
  sed -i "$2" "$KK/$1"
  grep -qxF "$3" "$KK/$1" || fail "could not configure $1 for CUDA (expected line '$3'); the Kokkos header layout changed"
}
edit KokkosCore_config.h 's|^/\* #undef KOKKOS_ENABLE_CUDA \*/$|#define KOKKOS_ENABLE_CUDA\n#define KOKKOS_ENABLE_DEFAULT_DEVICE_TYPE_CUDA|' \
  '#define KOKKOS_ENABLE_DEFAULT_DEVICE_TYPE_CUDA'
edit KokkosCore_config.h 's|^/\* #undef KOKKOS_ARCH_HOPPER \*/$|#define KOKKOS_ARCH_HOPPER|' '#define KOKKOS_ARCH_HOPPER'
edit KokkosCore_config.h 's|^/\* #undef KOKKOS_ARCH_HOPPER90 \*/$|#define KOKKOS_ARCH_HOPPER90|' '#define KOKKOS_ARCH_HOPPER90'
# The CUDA backend's declarations after the OpenMP ones (the other order does not compile).
edit KokkosCore_Config_DeclareBackend.hpp 's|^\(#include <decl/Kokkos_Declare_OPENMP.hpp>\)$|\1\n#include <decl/Kokkos_Declare_CUDA.hpp>|' \
  '#include <decl/Kokkos_Declare_CUDA.hpp>'
edit KokkosCore_Config_FwdBackend.hpp 's|^\(#include <fwd/Kokkos_Fwd_OPENMP.hpp>\)$|\1\n#include <fwd/Kokkos_Fwd_CUDA.hpp>|' \
  '#include <fwd/Kokkos_Fwd_CUDA.hpp>'
edit KokkosCore_Config_SetupBackend.hpp 's|^\(#define KOKKOS_SETUP_HPP_\)$|\1\n#include <setup/Kokkos_Setup_Cuda.hpp>|' \
  '#include <setup/Kokkos_Setup_Cuda.hpp>'
edit desul/atomics/Config.hpp 's|^/\* #undef DESUL_ATOMICS_ENABLE_CUDA \*/$|#define DESUL_ATOMICS_ENABLE_CUDA|' \
  '#define DESUL_ATOMICS_ENABLE_CUDA'

# include/KokkosRope/Version.hpp, as CMake's configure_file would write it.
mkdir -p "$GEN/KokkosRope"
IFS=. read -r V_MAJOR V_MINOR V_PATCH <<<"$VERSION"
sed -e "s/@PROJECT_VERSION_MAJOR@/$V_MAJOR/" -e "s/@PROJECT_VERSION_MINOR@/$V_MINOR/" \
    -e "s/@PROJECT_VERSION_PATCH@/${V_PATCH:-0}/" -e "s/@PROJECT_VERSION@/$VERSION/" \
    "$REPO/cmake/KokkosRope_Version.hpp.in" >"$GEN/KokkosRope/Version.hpp"

NVCC_FLAGS=(-x cu -std=c++20 "-arch=$ARCH" --extended-lambda --expt-relaxed-constexpr
            -Werror all-warnings -Xcompiler -fopenmp -Xptxas -v
            -I"$REPO/include" -I"$GEN" -I"$KK")
[ -z "$CCBIN" ] || NVCC_FLAGS+=(-ccbin "$CCBIN")

# compile NAME SOURCE [DEFINES...]: object, log (nvcc's and ptxas' output), exit status; for the
# instances also the PTX (ptx/NAME.ptx).
compile() {
  local name=$1 src=$2; shift 2
  local t0=$SECONDS rc=0 keep=()
  if [ "$MODE" = check ]; then
    mkdir -p "$OUT/keep/$name"
    keep=(--keep --keep-dir "$OUT/keep/$name")
  fi
  "$NVCC" "${NVCC_FLAGS[@]}" "${keep[@]}" "$@" -c "$src" -o "$OUT/obj/$name.o" >"$OUT/logs/$name.log" 2>&1 || rc=$?
  if [ ${#keep[@]} -gt 0 ]; then
    for f in "$OUT/keep/$name"/*.ptx; do [ -f "$f" ] && mv "$f" "$OUT/ptx/$name.ptx"; done
    rm -rf "$OUT/keep/$name"  # the other intermediates: about 30 MB per unit
  fi
  echo "$rc" >"$OUT/logs/$name.rc"
  printf '[cuda-compile]   %-18s %s in %3d s\n' "$name" "$([ "$rc" -eq 0 ] && echo ok || echo FAILED)" $((SECONDS - t0))
}
rm -rf "$OUT/obj" "$OUT/logs" "$OUT/keep" "$OUT/ptx"
mkdir -p "$OUT/obj" "$OUT/logs" "$OUT/ptx"

# ---- negative control -------------------------------------------------------------------------
if [ "$MODE" = expect-failure ]; then
  say "negative control: tests/cuda-compile/broken_kernel.cpp (a host-only call inside a kernel)"
  compile broken-fixed "$SRC/broken_kernel.cpp" -DKR_FIXED &
  compile broken "$SRC/broken_kernel.cpp" &
  wait
  if [ "$(cat "$OUT/logs/broken-fixed.rc")" -ne 0 ]; then
    cat "$OUT/logs/broken-fixed.log" >&2
    fail "the fixed twin (-DKR_FIXED) does not compile, so the control proves nothing"
  fi
  [ "$(cat "$OUT/logs/broken.rc")" -ne 0 ] ||
    fail "broken_kernel.cpp compiled: a host-only call inside a kernel went unnoticed"
  grep -q 'error.*calling a __host__ function.*from a __host__ __device__ function is not allowed' "$OUT/logs/broken.log" ||
    { cat "$OUT/logs/broken.log" >&2; fail "broken_kernel.cpp failed, but not with the host-call error"; }
  say "nvcc rejected the broken kernel as it must:"
  grep -E 'error|^ +[^ ].*\^?$' "$OUT/logs/broken.log" | grep -v 'detected during\|instantiation of' | head -n 6
  say "negative control: tests/cuda-compile/host_source.cpp (a host-memory table on Kokkos::Cuda)"
  compile host-source-fixed "$SRC/host_source.cpp" -DKR_FIXED &
  compile host-source "$SRC/host_source.cpp" &
  compile unified-memory "$SRC/unified_memory.cpp" &
  wait
  if [ "$(cat "$OUT/logs/host-source-fixed.rc")" -ne 0 ]; then
    cat "$OUT/logs/host-source-fixed.log" >&2
    fail "host_source.cpp -DKR_FIXED (a CudaSpace table) does not compile, so the control proves nothing"
  fi
  [ "$(cat "$OUT/logs/host-source.rc")" -ne 0 ] ||
    fail "host_source.cpp compiled: a host-memory table on Kokkos::Cuda went unnoticed"
  grep -q 'the cos/sin source (Table, OnTheFly, CosSinViews) must live in a memory space accessible' \
    "$OUT/logs/host-source.log" ||
    { cat "$OUT/logs/host-source.log" >&2; fail "host_source.cpp failed, but not with KokkosRope's message"; }
  say "nvcc rejected the host-memory table with KokkosRope's message"
  if [ "$(cat "$OUT/logs/unified-memory.rc")" -ne 0 ]; then
    cat "$OUT/logs/unified-memory.log" >&2
    fail "unified_memory.cpp: on a unified-memory build Kokkos::Cuda must still count as a device space"
  fi
  say "unified_memory.cpp compiled: Kokkos::Cuda takes the device paths on a unified-memory build"
  say "PASSED (the broken units fail with their errors; their fixed twins and the unified-memory unit compile)"
  exit 0
fi

# ---- the instances ----------------------------------------------------------------------------
UNITS=("float $SRC/instances.cpp -DKR_VALUE=0"
       "double $SRC/instances.cpp -DKR_VALUE=1"
       "half_t $SRC/instances.cpp -DKR_VALUE=2"
       "bhalf_t $SRC/instances.cpp -DKR_VALUE=3")
say "compiling ${#UNITS[@]} units for $ARCH with -j$JOBS (scratch: $OUT)"
start=$SECONDS
for unit in "${UNITS[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
  # shellcheck disable=SC2086
  compile $unit &
done
wait
failed=()
for unit in "${UNITS[@]}"; do
  name=${unit%% *}
  [ "$(cat "$OUT/logs/$name.rc")" -eq 0 ] || failed+=("$name")
done
say "compiled in $((SECONDS - start)) s"
if [ ${#failed[@]} -gt 0 ]; then
  for name in "${failed[@]}"; do
    printf '\n[cuda-compile] ---- %s (log: %s) ----\n' "$name" "$OUT/logs/$name.log" >&2
    grep -v '^ptxas info\|^    [0-9]* bytes stack frame' "$OUT/logs/$name.log" | head -n 60 >&2
  done
  fail "nvcc rejected: ${failed[*]}"
fi

# ---- ptxas artifact and report ----------------------------------------------------------------
for unit in "${UNITS[@]}"; do
  name=${unit%% *}
  sed "s|^|$name: |" "$OUT/logs/$name.log"
done >"$OUT/ptxas-v.log"
say "ptxas -v output: $OUT/ptxas-v.log; PTX: $OUT/ptx/"
ptx=()
for unit in "${UNITS[@]}"; do
  name=${unit%% *}
  [ -f "$OUT/ptx/$name.ptx" ] || fail "nvcc --keep left no PTX for $name (looked for *.ptx in its keep directory)"
  ptx+=("$OUT/ptx/$name.ptx")
done
command -v python3 >/dev/null || fail "python3 is needed for the ptxas report"
DEMANGLER=$(command -v c++filt || true)
mkdir -p "$(dirname "$REPORT")"
python3 "$SRC/ptxas_report.py" --log "$OUT/ptxas-v.log" --out "$REPORT" --copy "$OUT/cuda-ptxas-report.md" \
  --demangler "${DEMANGLER:-none}" --nvcc-version "$NVCC_VERSION" --host-compiler "$HOST_CXX_VERSION" \
  --arch "$ARCH" --flags "${NVCC_FLAGS[*]}" --repo "$REPO" --ptx "${ptx[@]}"
say "PASSED"
