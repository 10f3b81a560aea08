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
# With --targets, every translation unit of every target of the project that uses KokkosRope (the
# tests, the tool, the benchmark, the examples: the list CMake writes, see
# tests/cuda-compile/CMakeLists.txt) is compiled the same way, with its target's include
# directories and definitions, so that what only a real CUDA build (nvcc for every source) would
# reject is caught here too: an extended lambda nvcc refuses (one in a constructor, as once in the
# benchmark), a host-only call in code a kernel instantiates. That pass runs nvcc's device front end
# only (-ptx -fdevice-syntax-only: preprocessing and cicc's parse and instantiation, no NVVM, no
# ptxas, no host compile), about a fifth of a full `nvcc -c` per unit; it catches both classes
# (cuda.compile.broken proves it on tests/cuda-compile/lambda_in_constructor.cpp and broken_kernel.cpp).
#
#   scripts/cuda-compile-check.sh [options]            compile all instances, write the report
#   scripts/cuda-compile-check.sh --targets FILE       compile every source the targets' list names
#   scripts/cuda-compile-check.sh --expect-failure     negative controls: the deliberately broken
#                                                      units must fail (and their fixed twins compile)
# Options:
#   --nvcc PATH            default: $CUDACXX, /usr/local/cuda/bin/nvcc, nvcc on PATH
#   --ccbin PATH           host compiler for nvcc (default: nvcc's choice, g++ on PATH)
#   --kokkos-include DIR   Kokkos 5 headers (default: /usr/include/kokkos, else the sysroot's)
#   --out DIR              scratch and artifacts (default: build/cuda-compile)
#   --report FILE          markdown report (default: perf/results/cuda-ptxas-report.md)
#   --version X.Y.Z        KokkosRope version for Version.hpp (default: from CMakeLists.txt)
#   --arch SM              default: sm_90
#   -j N                   parallel nvcc processes (default: 2)
#   --build-dir DIR        with --targets: the CMake build directory (its include directories, like
#                          the repository's, are passed with -I, all others with -isystem)
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
TARGETS=""
BUILD_DIR=""

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
    --targets) TARGETS=$2; MODE=targets; shift 2 ;;
    --build-dir) BUILD_DIR=$2; shift 2 ;;
    -h|--help) sed -n '3,40p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
# The targets' pass (and its negative controls): the same language, architecture and warnings as
# errors, the device front end only. Include directories come per unit.
FRONTEND_FLAGS=(-x cu -std=c++20 "-arch=$ARCH" --extended-lambda --expt-relaxed-constexpr
                -Werror all-warnings -Xcompiler -fopenmp -ptx -fdevice-syntax-only)
[ -z "$CCBIN" ] || FRONTEND_FLAGS+=(-ccbin "$CCBIN")

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
# frontend NAME SOURCE [ARGS...]: nvcc's device front end over one unit (FRONTEND_FLAGS); log and
# exit status as compile's.
frontend() {
  local name=$1 src=$2; shift 2
  local t0=$SECONDS rc=0 label=${FE_LABEL:-$name}
  "$NVCC" "${FRONTEND_FLAGS[@]}" "$@" "$src" -o "$OUT/obj/$name.ptx" >"$OUT/logs/$name.log" 2>&1 || rc=$?
  rm -f "$OUT/obj/$name.ptx"
  echo "$rc" >"$OUT/logs/$name.rc"
  echo $((SECONDS - t0)) >"$OUT/logs/$name.time"
  printf '[cuda-compile]   %-52s %s in %3d s\n' "$label" "$([ "$rc" -eq 0 ] && echo ok || echo FAILED)" $((SECONDS - t0))
}
rm -rf "$OUT/obj" "$OUT/logs" "$OUT/keep" "$OUT/ptx" "$OUT/units"
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
  # The targets' pass compiles with the device front end only: it must still reject both classes.
  say "negative control, targets' mode (${FRONTEND_FLAGS[*]}):"
  say "  tests/cuda-compile/lambda_in_constructor.cpp (an extended lambda inside a constructor)"
  say "  tests/cuda-compile/broken_kernel.cpp (a host-only call inside a kernel)"
  FE_INC=(-I"$REPO/include" -I"$GEN" -I"$KK")
  frontend lambda-ctor-fixed "$SRC/lambda_in_constructor.cpp" "${FE_INC[@]}" -DKR_FIXED &
  frontend lambda-ctor "$SRC/lambda_in_constructor.cpp" "${FE_INC[@]}" &
  wait
  frontend frontend-broken-fixed "$SRC/broken_kernel.cpp" "${FE_INC[@]}" -DKR_FIXED &
  frontend frontend-broken "$SRC/broken_kernel.cpp" "${FE_INC[@]}" &
  wait
  for name in lambda-ctor-fixed frontend-broken-fixed; do
    if [ "$(cat "$OUT/logs/$name.rc")" -ne 0 ]; then
      cat "$OUT/logs/$name.log" >&2
      fail "$name (-DKR_FIXED) does not compile in the targets' mode, so the control proves nothing"
    fi
  done
  [ "$(cat "$OUT/logs/lambda-ctor.rc")" -ne 0 ] ||
    fail "lambda_in_constructor.cpp compiled in the targets' mode: an extended lambda in a constructor went unnoticed"
  grep -q 'error.*enclosing parent function.*for an extended __host__ __device__ lambda' "$OUT/logs/lambda-ctor.log" ||
    { cat "$OUT/logs/lambda-ctor.log" >&2; fail "lambda_in_constructor.cpp failed, but not with the extended-lambda error"; }
  say "nvcc's front end rejected the lambda in a constructor as it must:"
  grep 'error' "$OUT/logs/lambda-ctor.log" | head -n 2
  [ "$(cat "$OUT/logs/frontend-broken.rc")" -ne 0 ] ||
    fail "broken_kernel.cpp compiled in the targets' mode: a host-only call inside a kernel went unnoticed"
  grep -q 'error.*calling a __host__ function.*from a __host__ __device__ function is not allowed' "$OUT/logs/frontend-broken.log" ||
    { cat "$OUT/logs/frontend-broken.log" >&2; fail "broken_kernel.cpp failed in the targets' mode, but not with the host-call error"; }
  say "nvcc's front end rejected the host-only call in a kernel as it must"
  say "PASSED (the broken units fail with their errors; their fixed twins and the unified-memory unit compile)"
  exit 0
fi

# ---- the targets' sources ----------------------------------------------------------------------
# Sources left out, by glob on the path relative to the build directory or else the repository,
# with the reason the check prints; KEEP overrides. The header self-containment units (one per
# public header, tests/CMakeLists.txt) instantiate nothing, and the umbrella header's unit includes
# every public header: that one is compiled, the other 30-odd (a third of the pass's time) are not.
declare -A EXCLUDE=(
  ["tests/header_check/*"]="header self-containment units: a header alone instantiates no kernel, and tests/header_check/KokkosRope_hpp.cpp (compiled) includes every public header"
)
KEEP=("tests/header_check/KokkosRope_hpp.cpp")
declare -A EXCLUDED=()   # reason -> the units it leaves out
excluded() {  # excluded REL: the reason when REL is left out (status 0), else status 1
  local pat keep
  for keep in "${KEEP[@]}"; do [ "$1" != "$keep" ] || return 1; done
  for pat in "${!EXCLUDE[@]}"; do
    # shellcheck disable=SC2053  # a glob on purpose
    if [[ $1 == $pat ]]; then printf '%s' "${EXCLUDE[$pat]}"; return 0; fi
  done
  return 1
}
if [ "$MODE" = targets ]; then
  [ -f "$TARGETS" ] || fail "no targets' list at $TARGETS (CMake writes it at generate time: reconfigure the build)"
  [ -z "$BUILD_DIR" ] || BUILD_DIR=$(cd "$BUILD_DIR" && pwd)
  mkdir -p "$OUT/units"
  declare -A SEEN=()       # source -> the target whose flags compile it
  NAMES=()                 # unit names (for the logs), in the list's order
  LABELS=()                # their sources, relative to the build or the repository
  T_NAME="" T_DIR="" T_SRCS=() T_INCS=() T_DEFS=()
  ntargets=0 nskipped=0
  flush_target() {  # the units of the target read so far
    [ -n "$T_NAME" ] || return 0
    ntargets=$((ntargets + 1))
    local args=() inc src abs rel name why
    declare -A have=()
    for inc in "${T_INCS[@]}"; do
      [ -n "$inc" ] || continue
      [ -z "${have[$inc]:-}" ] || continue
      have[$inc]=1
      # The OpenMP Kokkos headers: replaced by their CUDA-configured copy. The compiler's own
      # folders: implicit (naming them would break #include_next).
      [ -f "$inc/KokkosCore_config.h" ] && continue
      case "$inc" in /usr/include|/usr/local/include) continue ;; esac
      case "$inc/" in
        "$REPO"/*) args+=("-I$inc") ;;
        *) if [ -n "$BUILD_DIR" ] && [[ "$inc/" == "$BUILD_DIR"/* ]]; then args+=("-I$inc"); else args+=(-isystem "$inc"); fi ;;
      esac
    done
    args+=("-I$GEN" "-I$KK")
    for inc in "${T_DEFS[@]}"; do [ -z "$inc" ] || args+=("-D$inc"); done
    for src in "${T_SRCS[@]}"; do
      case "$src" in *.cpp|*.cc|*.cxx|*.cu|*.C) ;; *) continue ;; esac
      case "$src" in /*) abs=$src ;; *) abs=$T_DIR/$src ;; esac
      [ -z "${SEEN[$abs]:-}" ] || continue
      SEEN[$abs]=$T_NAME
      rel=$abs
      [ -z "$BUILD_DIR" ] || rel=${rel#"$BUILD_DIR"/}
      rel=${rel#"$REPO"/}
      if why=$(excluded "$rel"); then
        EXCLUDED[$why]+=" ${rel##*/}"
        continue
      fi
      name=${rel//\//__}
      printf '%s\n' "$abs" "${args[@]}" >"$OUT/units/$name.args"
      NAMES+=("$name")
      LABELS+=("$rel")
    done
  }
  while IFS= read -r line || [ -n "$line" ]; do
    key=${line%% *}
    val=""
    [ "$key" = "$line" ] || val=${line#* }
    case "$key" in
      '#'*|'') ;;
      skip-target) say "not covered: target ${val%% *}: ${val#* }"; nskipped=$((nskipped + 1)) ;;
      target) flush_target; T_NAME=$val T_DIR="" T_SRCS=() T_INCS=() T_DEFS=() ;;
      dir) T_DIR=$val ;;
      src) T_SRCS+=("$val") ;;
      inc) T_INCS+=("$val") ;;
      def) T_DEFS+=("$val") ;;
      *) fail "unexpected line in $TARGETS: $line" ;;
    esac
  done <"$TARGETS"
  flush_target
  [ ${#NAMES[@]} -gt 0 ] || fail "the targets' list $TARGETS names no source"
  for why in "${!EXCLUDED[@]}"; do
    # shellcheck disable=SC2086  # the names, one word each
    set -- ${EXCLUDED[$why]}
    say "not compiled ($# units): $why:$(printf ' %s' "$@")"
  done
  say "compiling ${#NAMES[@]} units of $ntargets targets for $ARCH with -j$JOBS, device front end only (scratch: $OUT)"
  start=$SECONDS
  for i in "${!NAMES[@]}"; do
    while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do wait -n || true; done
    name=${NAMES[$i]}
    mapfile -t args <"$OUT/units/$name.args"
    FE_LABEL=${LABELS[$i]} frontend "$name" "${args[0]}" "${args[@]:1}" &
  done
  wait
  failed=()
  for name in "${NAMES[@]}"; do
    [ "$(cat "$OUT/logs/$name.rc")" -eq 0 ] || failed+=("$name")
  done
  say "compiled ${#NAMES[@]} units in $((SECONDS - start)) s; slowest:"
  for i in "${!NAMES[@]}"; do printf '%5d s  %s\n' "$(cat "$OUT/logs/${NAMES[$i]}.time")" "${LABELS[$i]}"; done |
    sort -rn | head -n 5 | sed 's/^/[cuda-compile]   /'
  if [ ${#failed[@]} -gt 0 ]; then
    for name in "${failed[@]}"; do
      printf '\n[cuda-compile] ---- %s (log: %s; source and flags: %s) ----\n' "$(head -n1 "$OUT/units/$name.args")" \
        "$OUT/logs/$name.log" "$OUT/units/$name.args" >&2
      head -n 60 "$OUT/logs/$name.log" >&2
    done
    fail "nvcc rejected ${#failed[@]} of ${#NAMES[@]} units: ${failed[*]//__//}"
  fi
  say "PASSED"
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
