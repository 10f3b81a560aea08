// SPDX-License-Identifier: Apache-2.0
#include <Kokkos_Core.hpp>
#include <gtest/gtest.h>

#include <cstdio>

int main(int argc, char* argv[]) {
  ::testing::InitGoogleTest(&argc, argv);
#if defined(KOKKOSROPE_TEST_NEEDS_AVX512BF16)
  // Built for AVX512-BF16: on another CPU, say so instead of dying on an illegal instruction.
  if (!::testing::GTEST_FLAG(list_tests) && !__builtin_cpu_supports("avx512bf16")) {
    std::printf("[  SKIPPED ] this CPU lacks AVX512-BF16, which this test executable is built for\n");
    return 0;
  }
#endif
  Kokkos::ScopeGuard guard(argc, argv);
  return RUN_ALL_TESTS();
}
