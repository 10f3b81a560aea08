# SPDX-License-Identifier: Apache-2.0
# Kokkos Kernels, looked up where it is used (examples/long_context, tests/cli), never by the
# library itself:
#   include(KokkosRopeFindKokkosKernels)   # ${PROJECT_SOURCE_DIR}/cmake is on CMAKE_MODULE_PATH
#   kokkosrope_find_kokkoskernels()        # sets KokkosRope_HAS_KOKKOSKERNELS in the caller
# The cache option KokkosRope_ENABLE_KOKKOSKERNELS decides: OFF never looks, AUTO uses Kokkos
# Kernels when found, ON requires it (the configure fails without it). Idempotent: each call runs
# find_package in the caller's directory (so that KokkosKernels::all_libs is visible there; the
# second lookup reads the cached KokkosKernels_DIR), and the status message is printed once.
include_guard(GLOBAL)

function(kokkosrope_find_kokkoskernels)
  set(_kr_has OFF)
  if(NOT KokkosRope_ENABLE_KOKKOSKERNELS STREQUAL "OFF")
    if(KokkosRope_ENABLE_KOKKOSKERNELS STREQUAL "ON")
      find_package(KokkosKernels REQUIRED CONFIG)
    else()
      find_package(KokkosKernels CONFIG QUIET)
    endif()
    if(KokkosKernels_FOUND)
      set(_kr_has ON)
    endif()
  endif()
  get_property(_kr_said GLOBAL PROPERTY KokkosRope_KOKKOSKERNELS_REPORTED SET)
  if(NOT _kr_said)
    set_property(GLOBAL PROPERTY KokkosRope_KOKKOSKERNELS_REPORTED ON)
    if(_kr_has)
      # Some installs (Trilinos packages) ship no version file: KokkosKernels_VERSION is empty.
      message(STATUS "KokkosRope: Kokkos Kernels found: ${KokkosKernels_DIR} ${KokkosKernels_VERSION}")
    else()
      message(STATUS "KokkosRope: no Kokkos Kernels (KokkosRope_ENABLE_KOKKOSKERNELS="
                     "${KokkosRope_ENABLE_KOKKOSKERNELS}): examples/long_context not built")
    endif()
  endif()
  set(KokkosRope_HAS_KOKKOSKERNELS ${_kr_has} PARENT_SCOPE)
endfunction()
