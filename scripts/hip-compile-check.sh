#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# HIP compile check: every public kernel of KokkosRope compiled by hipcc for Kokkos::HIP (gfx90a and
# gfx942), without a GPU and without a HIP build of Kokkos. The instances are those of the CUDA
# check (tests/cuda-compile/instances.cpp, backend-neutral). A HIP-configured copy of the Kokkos
# headers is generated per target (Kokkos takes one AMD architecture per build): Kokkos 4.x, whose
# minimum ROCm (5.2) Debian 13's hipcc 5.7 meets, from the Serial build scripts/dev unpacks under
# /opt/trilinos-kokkos; Kokkos 5 (ROCm 6.2 or newer) only when hipcc's HIP is that recent. Objects only:
# nothing is linked or run. -Wall -Wextra -Werror on KokkosRope's headers and the units (Kokkos'
# own headers are -isystem: their warnings are not ours to fix). hipcc's
# -Rpass-analysis=kernel-resource-usage remarks are kept and summarised per kernel and target
# (VGPRs, AGPRs, SGPRs, spills, scratch, LDS, occupancy) in a report under --out.
#
#   scripts/hip-compile-check.sh [options]            compile all instances, write the report
#   scripts/hip-compile-check.sh --expect-failure     negative control: the deliberately broken
#                                                     unit must fail (and its fixed twin compile)
# Options:
#   --hipcc PATH           default: $HIPCC, /usr/bin/hipcc, /opt/rocm/bin/hipcc, hipcc on PATH
#   --kokkos-include DIR   Kokkos headers of a build without a GPU backend (default: Kokkos 4.x at
#                          /opt/trilinos-kokkos/usr/include/kokkos, else the sysroot's; Kokkos 5 at
#                          /usr/include/kokkos when hipcc's HIP is 6.2 or newer)
#   --out DIR              scratch and artifacts (default: build/hip-compile)
#   --report FILE          markdown report (default: OUT/hip-resource-report.md)
#   --version X.Y.Z        KokkosRope version for Version.hpp (default: from CMakeLists.txt)
#   --arch "A B"           offload targets (default: "gfx90a gfx942")
#   -j N                   parallel hipcc processes (default: 2)
# Exit status: 0 passed, 1 failed, 77 skipped (no hipcc or no suitable Kokkos headers; says why).
# Runs inside the scripts/dev sysroot (Debian 13's hipcc + libamdhip64-dev) or on a ROCm host.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SRC=$REPO/tests/hip-compile
INSTANCES=$REPO/tests/cuda-compile/instances.cpp
SKIP=77
HIPCC_BIN=${HIPCC:-}
KOKKOS_INC=""
OUT=$REPO/build/hip-compile
REPORT=""
VERSION=""
ARCHS="gfx90a gfx942"
JOBS=2
MODE=check

say() { printf '[hip-compile] %s\n' "$*"; }
fail() { printf '[hip-compile] FAILED: %s\n' "$*" >&2; exit 1; }
skip() { printf '[hip-compile] SKIPPED: %s\n' "$*"; exit "$SKIP"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --hipcc) HIPCC_BIN=$2; shift 2 ;;
    --kokkos-include) KOKKOS_INC=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --report) REPORT=$2; shift 2 ;;
    --version) VERSION=$2; shift 2 ;;
    --arch) ARCHS=$2; shift 2 ;;
    -j) JOBS=$2; shift 2 ;;
    -j*) JOBS=${1#-j}; shift ;;
    --expect-failure) MODE=expect-failure; shift ;;
    -h|--help) sed -n '3,28p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) fail "unknown argument: $1 (see --help)" ;;
  esac
done
REPORT=${REPORT:-$OUT/hip-resource-report.md}

# ---- tools and headers ------------------------------------------------------------------------
if [ -z "$HIPCC_BIN" ]; then
  for c in /usr/bin/hipcc /opt/rocm/bin/hipcc; do
    if [ -x "$c" ]; then HIPCC_BIN=$c; break; fi
  done
  [ -n "$HIPCC_BIN" ] || HIPCC_BIN=$(command -v hipcc || true)
fi
[ -n "$HIPCC_BIN" ] && [ -x "$HIPCC_BIN" ] ||
  skip "hipcc not found (looked at \$HIPCC, /usr/bin/hipcc, /opt/rocm/bin/hipcc and PATH; scripts/dev setup installs it); the HIP compile check did not run"

# HIP version as major*100 + minor (hipcc --version: "HIP version: 5.7.31921-0").
HIP_VERSION_STR=$("$HIPCC_BIN" --version 2>/dev/null | sed -n 's/^HIP version: \([0-9][0-9.]*\).*/\1/p' | head -n1)
[ -n "$HIP_VERSION_STR" ] || fail "could not read the HIP version from '$HIPCC_BIN --version'"
IFS=. read -r HIP_MAJOR HIP_MINOR _ <<<"$HIP_VERSION_STR"
HIP_NUM=$((HIP_MAJOR * 100 + HIP_MINOR))
CLANG_VERSION=$("$HIPCC_BIN" --version 2>/dev/null | grep -m1 'clang version' || echo "clang ?")

kokkos_major() { sed -n 's/^#define KOKKOS_VERSION_MAJOR \([0-9]*\).*/\1/p' "$1/KokkosCore_config.h"; }
# Minimum ROCm of a Kokkos major (Kokkos' requirements: 4.x needs ROCm 5.2, 5.x ROCm 6.2).
kokkos_min_hip() { if [ "$1" -ge 5 ]; then echo 602; else echo 502; fi; }
kokkos_hip_headers() {  # a Kokkos >= 4.5 include folder without a GPU backend, with the HIP headers
  local d=$1 major
  [ -f "$d/KokkosCore_config.h" ] && [ -f "$d/decl/Kokkos_Declare_HIP.hpp" ] &&
    [ -f "$d/setup/Kokkos_Setup_HIP.hpp" ] || return 1
  major=$(kokkos_major "$d")
  [ -n "$major" ] && [ "$(sed -n 's/^#define KOKKOS_VERSION \([0-9]*\).*/\1/p' "$d/KokkosCore_config.h")" -ge 40500 ] &&
    ! grep -qE '^#define KOKKOS_ENABLE_(CUDA|HIP|SYCL|OPENMPTARGET|OPENACC)$' "$d/KokkosCore_config.h"
}
if [ -z "$KOKKOS_INC" ]; then
  candidates=(/opt/trilinos-kokkos/usr/include/kokkos "$REPO/.sysroot/trixie/opt/trilinos-kokkos/usr/include/kokkos")
  [ "$HIP_NUM" -lt 602 ] || candidates=(/usr/include/kokkos "$REPO/.sysroot/trixie/usr/include/kokkos" "${candidates[@]}")
  for d in "${candidates[@]}"; do
    if kokkos_hip_headers "$d" && [ "$HIP_NUM" -ge "$(kokkos_min_hip "$(kokkos_major "$d")")" ]; then
      KOKKOS_INC=$d; break
    fi
  done
  [ -n "$KOKKOS_INC" ] ||
    skip "no Kokkos headers whose minimum ROCm HIP $HIP_VERSION_STR meets (looked at ${candidates[*]}; run scripts/dev setup)"
else
  kokkos_hip_headers "$KOKKOS_INC" ||
    fail "$KOKKOS_INC is not a Kokkos >= 4.5 include folder without a GPU backend and with the HIP backend headers"
  min=$(kokkos_min_hip "$(kokkos_major "$KOKKOS_INC")")
  [ "$HIP_NUM" -ge "$min" ] ||
    fail "Kokkos $(kokkos_major "$KOKKOS_INC").x needs ROCm $((min / 100)).$((min % 100)) or newer; $HIPCC_BIN is HIP $HIP_VERSION_STR"
fi
KOKKOS_MAJOR=$(kokkos_major "$KOKKOS_INC")
KOKKOS_VERSION_NUM=$(sed -n 's/^#define KOKKOS_VERSION \([0-9]*\).*/\1/p' "$KOKKOS_INC/KokkosCore_config.h")
KOKKOS_VERSION_STR="$((KOKKOS_VERSION_NUM / 10000)).$((KOKKOS_VERSION_NUM / 100 % 100)).$((KOKKOS_VERSION_NUM % 100))"
if grep -qx '#define KOKKOS_ENABLE_CXX20' "$KOKKOS_INC/KokkosCore_config.h" || [ "$KOKKOS_MAJOR" -ge 5 ]; then STD=c++20
else STD=c++17; fi
if [ -z "$VERSION" ]; then
  VERSION=$(sed -n 's/^project(KokkosRope VERSION \([0-9.]*\).*/\1/p' "$REPO/CMakeLists.txt")
  [ -n "$VERSION" ] || fail "no 'project(KokkosRope VERSION x.y.z' line in CMakeLists.txt"
fi
say "hipcc $HIP_VERSION_STR ($HIPCC_BIN, $CLANG_VERSION), Kokkos $KOKKOS_VERSION_STR headers: $KOKKOS_INC, -std=$STD, targets: $ARCHS"

# ---- the HIP-configured copies of the Kokkos headers, one per target -------------------------
mkdir -p "$OUT"
GEN=$OUT/generated
rm -rf "$GEN" "$OUT"/kokkos-hip-include-*
configure_kokkos() {  # arch -> $OUT/kokkos-hip-include-ARCH
  local arch=$1 kk=$OUT/kokkos-hip-include-$1 host
  local arch_macro
  arch_macro=KOKKOS_ARCH_AMD_$(echo "$arch" | tr '[:lower:]' '[:upper:]')
  cp -r "$KOKKOS_INC" "$kk"
  edit() {  # file, sed expression, the line that must exist afterwards
    sed -i "$2" "$kk/$1"
    grep -qxF "$3" "$kk/$1" || fail "could not configure $1 for HIP (expected line '$3'); the Kokkos header layout changed"
  }
  edit KokkosCore_config.h 's|^/\* #undef KOKKOS_ENABLE_HIP \*/$|#define KOKKOS_ENABLE_HIP\n#define KOKKOS_ENABLE_DEFAULT_DEVICE_TYPE_HIP|' \
    '#define KOKKOS_ENABLE_DEFAULT_DEVICE_TYPE_HIP'
  grep -qx "/\* #undef $arch_macro \*/" "$kk/KokkosCore_config.h" ||
    fail "Kokkos $KOKKOS_VERSION_STR has no architecture macro $arch_macro for --arch $arch"
  edit KokkosCore_config.h "s|^/\* #undef $arch_macro \*/\$|#define $arch_macro|" "#define $arch_macro"
  edit KokkosCore_config.h 's|^/\* #undef KOKKOS_ARCH_AMD_GPU \*/$|#define KOKKOS_ARCH_AMD_GPU|' '#define KOKKOS_ARCH_AMD_GPU'
  # The HIP backend's declarations after the host backend's (as Kokkos' CMake orders them).
  host=$(sed -n 's|^#include <decl/Kokkos_Declare_\([A-Z]*\)\.hpp>$|\1|p' "$kk/KokkosCore_Config_DeclareBackend.hpp" | tail -n1)
  [ -n "$host" ] || fail "no host backend declared in $KOKKOS_INC/KokkosCore_Config_DeclareBackend.hpp"
  edit KokkosCore_Config_DeclareBackend.hpp "s|^\(#include <decl/Kokkos_Declare_$host.hpp>\)\$|\1\n#include <decl/Kokkos_Declare_HIP.hpp>|" \
    '#include <decl/Kokkos_Declare_HIP.hpp>'
  edit KokkosCore_Config_FwdBackend.hpp "s|^\(#include <fwd/Kokkos_Fwd_$host.hpp>\)\$|\1\n#include <fwd/Kokkos_Fwd_HIP.hpp>|" \
    '#include <fwd/Kokkos_Fwd_HIP.hpp>'
  edit KokkosCore_Config_SetupBackend.hpp 's|^\(#define KOKKOS_SETUP_HPP_\)$|\1\n#include <setup/Kokkos_Setup_HIP.hpp>|' \
    '#include <setup/Kokkos_Setup_HIP.hpp>'
  edit desul/atomics/Config.hpp 's|^/\* #undef DESUL_ATOMICS_ENABLE_HIP \*/$|#define DESUL_ATOMICS_ENABLE_HIP|' \
    '#define DESUL_ATOMICS_ENABLE_HIP'
}
for arch in $ARCHS; do configure_kokkos "$arch"; done
HOST_OPENMP=()
! grep -qx '#define KOKKOS_ENABLE_OPENMP' "$KOKKOS_INC/KokkosCore_config.h" || HOST_OPENMP=(-fopenmp)

# include/KokkosRope/Version.hpp, as CMake's configure_file would write it.
mkdir -p "$GEN/KokkosRope"
IFS=. read -r V_MAJOR V_MINOR V_PATCH <<<"$VERSION"
sed -e "s/@PROJECT_VERSION_MAJOR@/$V_MAJOR/" -e "s/@PROJECT_VERSION_MINOR@/$V_MINOR/" \
    -e "s/@PROJECT_VERSION_PATCH@/${V_PATCH:-0}/" -e "s/@PROJECT_VERSION@/$VERSION/" \
    "$REPO/cmake/KokkosRope_Version.hpp.in" >"$GEN/KokkosRope/Version.hpp"

HIP_FLAGS=(-x hip "-std=$STD" -O3 -fno-gpu-rdc -Wall -Wextra -Werror "${HOST_OPENMP[@]}"
           -Rpass-analysis=kernel-resource-usage -I"$REPO/include" -I"$GEN")

# compile NAME ARCH SOURCE [DEFINES...]: object, log (hipcc's output and remarks), exit status.
compile() {
  local name=$1 arch=$2 src=$3; shift 3
  local t0=$SECONDS rc=0
  "$HIPCC_BIN" "${HIP_FLAGS[@]}" "--offload-arch=$arch" -isystem "$OUT/kokkos-hip-include-$arch" "$@" \
    -c "$src" -o "$OUT/obj/$name.o" >"$OUT/logs/$name.log" 2>&1 || rc=$?
  echo "$rc" >"$OUT/logs/$name.rc"
  printf '[hip-compile]   %-18s %s in %3d s\n' "$name" "$([ "$rc" -eq 0 ] && echo ok || echo FAILED)" $((SECONDS - t0))
}
rm -rf "$OUT/obj" "$OUT/logs"
mkdir -p "$OUT/obj" "$OUT/logs"

# ---- negative control -------------------------------------------------------------------------
if [ "$MODE" = expect-failure ]; then
  arch=${ARCHS%% *}
  say "negative control: tests/cuda-compile/broken_kernel.cpp (a host-only call inside a kernel), $arch"
  if [ "$JOBS" -ge 2 ]; then
    compile broken-fixed "$arch" "$REPO/tests/cuda-compile/broken_kernel.cpp" -DKR_FIXED &
    compile broken "$arch" "$REPO/tests/cuda-compile/broken_kernel.cpp" &
    wait
  else
    compile broken-fixed "$arch" "$REPO/tests/cuda-compile/broken_kernel.cpp" -DKR_FIXED
    compile broken "$arch" "$REPO/tests/cuda-compile/broken_kernel.cpp"
  fi
  if [ "$(cat "$OUT/logs/broken-fixed.rc")" -ne 0 ]; then
    cat "$OUT/logs/broken-fixed.log" >&2
    fail "the fixed twin (-DKR_FIXED) does not compile, so the control proves nothing"
  fi
  [ "$(cat "$OUT/logs/broken.rc")" -ne 0 ] ||
    fail "broken_kernel.cpp compiled: a host-only call inside a kernel went unnoticed"
  grep -q "error: reference to __host__ function 'attention_scale' in __host__ __device__ function" "$OUT/logs/broken.log" ||
    { cat "$OUT/logs/broken.log" >&2; fail "broken_kernel.cpp failed, but not with the host-call error"; }
  say "hipcc rejected the broken kernel as it must:"
  grep -A2 'error:' "$OUT/logs/broken.log" | head -n 3
  say "PASSED (the broken unit fails with the host-call error; its fixed twin compiles)"
  exit 0
fi

# ---- the instances ----------------------------------------------------------------------------
UNITS=()
for arch in $ARCHS; do
  UNITS+=("float-$arch $arch $INSTANCES -DKR_VALUE=0"
          "double-$arch $arch $INSTANCES -DKR_VALUE=1"
          "half_t-$arch $arch $INSTANCES -DKR_VALUE=2"
          "bhalf_t-$arch $arch $INSTANCES -DKR_VALUE=3")
done
say "compiling ${#UNITS[@]} units with -j$JOBS (scratch: $OUT)"
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
    printf '\n[hip-compile] ---- %s (log: %s) ----\n' "$name" "$OUT/logs/$name.log" >&2
    grep -v 'remark:\|^ *[0-9]* | \|^ *| *^' "$OUT/logs/$name.log" | grep -v '^In file included from' | head -n 60 >&2
  done
  fail "hipcc rejected: ${failed[*]}"
fi

# ---- resource report --------------------------------------------------------------------------
for unit in "${UNITS[@]}"; do
  name=${unit%% *}
  grep 'remark: ' "$OUT/logs/$name.log" | sed "s|^|$name: |"
done >"$OUT/resource-usage.log"
say "kernel-resource-usage remarks: $OUT/resource-usage.log"
command -v python3 >/dev/null || fail "python3 is needed for the resource report"
DEMANGLER=$(command -v c++filt || command -v llvm-cxxfilt || true)
mkdir -p "$(dirname "$REPORT")"
python3 "$SRC/hip_report.py" --log "$OUT/resource-usage.log" --out "$REPORT" \
  --demangler "${DEMANGLER:-none}" --hipcc-version "HIP $HIP_VERSION_STR, $CLANG_VERSION" \
  --kokkos "$KOKKOS_VERSION_STR" --archs "$ARCHS" --flags "${HIP_FLAGS[*]}"
say "PASSED"
