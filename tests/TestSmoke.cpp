// SPDX-License-Identifier: Apache-2.0
// The library target end to end: a table built by a kernel, copied back to the host, checked
// against std::cos/std::sin; and the execution space the build was meant to test.
#include "TestCategory.hpp"

#include <KokkosRope.hpp>

#include <cmath>
#include <sstream>

template <class Space>
class Smoke : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(Smoke);

TYPED_TEST(Smoke, TableRoundTrip) {
  using Space = TypeParam;
  KokkosRope::Params p;
  p.head_dim = p.rotary_dim = 8;
  p.theta = 10000.0;
  const Space space;
  KokkosRope::Table<typename Space::memory_space> table(space, p, 32);
  auto cos = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), table.cos());
  auto sin = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), table.sin());
  ASSERT_EQ(cos.extent(0), 32u);
  ASSERT_EQ(cos.extent(1), 4u);
  for (int pos = 0; pos < 32; ++pos)
    for (int i = 0; i < 4; ++i) {
      const double angle = pos * std::pow(10000.0, -2.0 * i / 8.0);
      EXPECT_NEAR(cos(pos, i), std::cos(angle), 3e-7) << "pos " << pos << " pair " << i;
      EXPECT_NEAR(sin(pos, i), std::sin(angle), 3e-7) << "pos " << pos << " pair " << i;
    }
}

// ctest must show which backend ran: the preset says which one it expects.
TEST(Build, ExpectedExecutionSpace) {
  const std::string expected = KOKKOSROPE_EXPECTED_SPACES;
  if (expected.empty()) GTEST_SKIP() << "no expectation configured (KokkosRope_EXPECTED_SPACES)";
  EXPECT_EQ(std::string(Kokkos::DefaultExecutionSpace::name()), expected);
}
