# SPDX-License-Identifier: Apache-2.0
# Finds an installed Kokkos (Kokkos_ROOT / CMAKE_PREFIX_PATH). For the cuda preset on a machine
# without one, KokkosRope_BUILD_KOKKOS=ON builds Kokkos in-tree with FetchContent: from
# FETCHCONTENT_SOURCE_DIR_KOKKOS when set (offline clusters), else the upstream release archive.
option(KokkosRope_BUILD_KOKKOS "Build Kokkos in-tree (FetchContent) instead of find_package" OFF)
if(KokkosRope_BUILD_KOKKOS)
  include(FetchContent)
  set(KokkosRope_KOKKOS_URL
      "https://github.com/kokkos/kokkos/releases/download/5.2.2/kokkos-5.2.2.tar.gz"
      CACHE STRING "Kokkos release archive used when no source directory is given")
  FetchContent_Declare(Kokkos URL ${KokkosRope_KOKKOS_URL})
  FetchContent_MakeAvailable(Kokkos)
  set(Kokkos_VERSION ${Kokkos_VERSION})
else()
  find_package(Kokkos 4.5 REQUIRED CONFIG)
endif()
