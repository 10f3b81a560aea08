// SPDX-License-Identifier: Apache-2.0
// Every test body is written once and instantiated for each execution space the build enables
// (the Kokkos Kernels "category" idea as GoogleTest typed tests). Test names carry the space's
// name, e.g. Rotate/OpenMP.HalfSplit.
#ifndef KOKKOSROPE_TEST_CATEGORY_HPP
#define KOKKOSROPE_TEST_CATEGORY_HPP

#include <Kokkos_Core.hpp>
#include <gtest/gtest.h>

#include <string>
#include <type_traits>

namespace KokkosRopeTest {

#if defined(KOKKOS_ENABLE_CUDA) || defined(KOKKOS_ENABLE_HIP) || defined(KOKKOS_ENABLE_SYCL)
// A device build tests the device and its host backend.
using ExecutionSpaces = ::testing::Types<Kokkos::DefaultExecutionSpace, Kokkos::DefaultHostExecutionSpace>;
#else
using ExecutionSpaces = ::testing::Types<Kokkos::DefaultExecutionSpace>;
#endif

struct SpaceName {
  template <class T>
  static std::string GetName(int) {
    return T::name();
  }
};

}  // namespace KokkosRopeTest

#define KOKKOSROPE_TYPED_TEST_SUITE(Suite) \
  TYPED_TEST_SUITE(Suite, ::KokkosRopeTest::ExecutionSpaces, ::KokkosRopeTest::SpaceName)

#endif
