// SPDX-License-Identifier: Apache-2.0
// The library target end to end: a table built by a kernel, copied back to the host, checked
// against std::cos/std::sin; and the execution space the build was meant to test.
#include "TestCategory.hpp"

#include <KokkosRope.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <type_traits>
#include <vector>

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

// The list builder of TestCategory.hpp: disabled backends dropped, a space named twice (the default
// space is also a host backend in a host-only build) kept once, the order kept.
namespace category_check {
namespace I = KokkosRopeTest::Impl;
static_assert(std::is_same_v<I::Unique<I::SpaceList<>, int, I::Absent, long, int, char>::type,
                             I::SpaceList<int, long, char>>);
}  // namespace category_check

namespace {

/// "Cuda;OpenMP" or "Cuda,OpenMP" -> {"Cuda", "OpenMP"} (blanks and empty items dropped).
std::vector<std::string> split_spaces(const std::string& list) {
  std::vector<std::string> out;
  std::string item;
  for (const char c : list + ';') {
    if (c == ';' || c == ',') {
      if (!item.empty()) out.push_back(item);
      item.clear();
    } else if (c != ' ') {
      item += c;
    }
  }
  return out;
}

/// What the Kokkos configuration macros say the build must run on: a device backend enabled ->
/// that device is the default space, then the enabled host backends (the order of Kokkos' own
/// choice of the default). Used when the build system passed no expectation at all.
std::vector<std::string> spaces_from_kokkos_macros() {
  std::vector<std::string> out;
#if defined(KOKKOS_ENABLE_CUDA)
  out.push_back("Cuda");
#elif defined(KOKKOS_ENABLE_HIP)
  out.push_back("HIP");
#elif defined(KOKKOS_ENABLE_SYCL)
  out.push_back("SYCL");
#endif
#if defined(KOKKOS_ENABLE_OPENMP)
  out.push_back("OpenMP");
#endif
#if defined(KOKKOS_ENABLE_THREADS)
  out.push_back("Threads");
#endif
#if defined(KOKKOS_ENABLE_SERIAL)
  out.push_back("Serial");
#endif
  return out;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ";") + x;
  return s;
}

}  // namespace

// ctest must show which backends ran, and fail where they are not the ones the build was meant
// to test. The expectation (KokkosRope_EXPECTED_SPACES, tests/CMakeLists.txt) comes from the
// preset (openmp: OpenMP, serial-kk: Serial, cuda: Cuda) or, when none is set, from the backends
// of the Kokkos package CMake found; failing both, from the Kokkos macros. Never skipped.
// Its first entry is the default execution space; every entry must be among the spaces the
// typed tests ran on (tests/TestCategory.hpp), e.g. Cuda;OpenMP in a CUDA + OpenMP build.
TEST(Build, ExpectedExecutionSpace) {
  std::vector<std::string> expected = split_spaces(KOKKOSROPE_EXPECTED_SPACES);
  std::string source = KOKKOSROPE_EXPECTED_SPACES_SOURCE;
  if (expected.empty()) {
    expected = spaces_from_kokkos_macros();
    source = "the Kokkos configuration macros";
  }
  const std::string default_space = Kokkos::DefaultExecutionSpace::name();
  const std::vector<std::string> tested = KokkosRopeTest::execution_space_names();
  std::printf("default execution space %s; typed tests run on %s; expected %s (from %s)\n",
              default_space.c_str(), join(tested).c_str(), join(expected).c_str(), source.c_str());
  RecordProperty("default_execution_space", default_space);
  RecordProperty("typed_test_spaces", join(tested));
  RecordProperty("expected_spaces", join(expected));
  ASSERT_FALSE(expected.empty()) << "no execution space expected, and the Kokkos macros name none";
  EXPECT_EQ(default_space, expected.front())
      << "the default execution space is not the expected " << expected.front() << " (expected "
      << join(expected) << ", from " << source << ")";
  for (const auto& space : expected)
    EXPECT_TRUE(std::find(tested.begin(), tested.end(), space) != tested.end())
        << "the typed tests did not run on " << space << ": they ran on " << join(tested) << " (expected "
        << join(expected) << ", from " << source << ")";
}
