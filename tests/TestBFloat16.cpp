// SPDX-License-Identifier: Apache-2.0
// KokkosRope::bfloat16 converts exactly as the hardware and PyTorch do (round to nearest even,
// NaN to 0x7fc0), checked in a kernel on every execution space against a reference that picks
// the nearer bf16 neighbour in double arithmetic, independently of the bit trick.
#include "TestCategory.hpp"

#include <KokkosRope/BFloat16.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <random>
#include <vector>

namespace {

float from_bits32(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

// The value a bf16 pattern stands for; infinity counts as 2^128 (where rounding to it starts).
double bf16_value(std::uint16_t b) {
  if ((b & 0x7fffu) == 0x7f80u) return (b & 0x8000u) ? -std::ldexp(1.0, 128) : std::ldexp(1.0, 128);
  return static_cast<double>(from_bits32(static_cast<std::uint32_t>(b) << 16));
}

std::uint16_t reference_bf16(float f) {
  if (std::isnan(f)) return 0x7fc0u;
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  const std::uint16_t lo = static_cast<std::uint16_t>(u >> 16);  // toward zero
  if ((u & 0xffffu) == 0) return lo;
  const std::uint16_t hi = static_cast<std::uint16_t>(lo + 1);   // away from zero
  const double d_lo = std::fabs(static_cast<double>(f) - bf16_value(lo));
  const double d_hi = std::fabs(bf16_value(hi) - static_cast<double>(f));
  if (d_lo != d_hi) return d_lo < d_hi ? lo : hi;
  return (lo & 1u) ? hi : lo;  // tie: the even one
}

template <class Memory>
struct Convert {
  Kokkos::View<const float*, Memory> in;
  Kokkos::View<KokkosRope::bfloat16*, Memory> out;
  Kokkos::View<float*, Memory> back;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    out(i) = KokkosRope::bfloat16(in(i));
    back(i) = static_cast<float>(out(i));
  }
};

}  // namespace

template <class Space>
class BFloat16 : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(BFloat16);

TYPED_TEST(BFloat16, RoundsToNearestEvenOnTheDevice) {
  using Memory = typename TypeParam::memory_space;
  // Every bf16 value, the midpoints between neighbours (ties), the points either side of them,
  // the float extremes, and random float bit patterns.
  std::vector<float> inputs;
  for (std::uint32_t b = 0; b < 0x10000u; ++b) {
    const std::uint32_t u = b << 16;
    inputs.push_back(from_bits32(u));
    inputs.push_back(from_bits32(u | 0x8000u));
    inputs.push_back(from_bits32(u | 0x7fffu));
    inputs.push_back(from_bits32(u | 0x8001u));
  }
  std::mt19937 rng(7);
  for (int i = 0; i < 200000; ++i) inputs.push_back(from_bits32(rng()));
  const auto n = static_cast<std::int64_t>(inputs.size());

  Kokkos::View<float*, Memory> in("in", n), back("back", n);
  Kokkos::View<KokkosRope::bfloat16*, Memory> out("out", n);
  Kokkos::deep_copy(in, Kokkos::View<const float*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(inputs.data(), n));
  const TypeParam space;
  Kokkos::parallel_for(Kokkos::RangePolicy<TypeParam, Kokkos::IndexType<std::int64_t>>(space, 0, n),
                       Convert<Memory>{in, out, back});
  space.fence();
  auto h_out = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, out);
  auto h_back = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, back);

  std::int64_t wrong = 0, not_exact = 0, nans = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const std::uint16_t want = reference_bf16(inputs[i]);
    if (h_out(i).bits != want && ++wrong <= 5)
      ADD_FAILURE() << "float bits 0x" << std::hex << [&] { std::uint32_t u; std::memcpy(&u, &inputs[i], 4); return u; }()
                    << ": got 0x" << h_out(i).bits << ", want 0x" << want;
    if (std::isnan(inputs[i])) {
      ++nans;
      continue;
    }
    // Widening back is exact: the float is the bf16 value (infinity included).
    const std::uint32_t widened = static_cast<std::uint32_t>(h_out(i).bits) << 16;
    if (std::memcmp(&widened, &h_back(i), 4) != 0) ++not_exact;
  }
  EXPECT_EQ(wrong, 0);
  EXPECT_EQ(not_exact, 0);
  EXPECT_GT(nans, 500);  // the exponent-all-ones patterns above were really tried
}

TEST(BFloat16Host, IsTwoBytesAndRoundTripsEveryValue) {
  static_assert(sizeof(KokkosRope::bfloat16) == 2);
  int mismatches = 0;
  for (std::uint32_t b = 0; b < 0x10000u; ++b) {
    const auto x = KokkosRope::bfloat16::from_bits(static_cast<std::uint16_t>(b));
    const float f = static_cast<float>(x);
    const auto y = KokkosRope::bfloat16(f);
    const bool nan = std::isnan(f);
    if (nan ? y.bits != 0x7fc0u : y != x) ++mismatches;
  }
  EXPECT_EQ(mismatches, 0);
  EXPECT_EQ(KokkosRope::bfloat16(1.0f).bits, 0x3f80u);
  EXPECT_EQ(KokkosRope::bfloat16(-2.0f).bits, 0xc000u);
  EXPECT_EQ(KokkosRope::bfloat16(INFINITY).bits, 0x7f80u);
  EXPECT_EQ(KokkosRope::bfloat16(3.4028235e38f).bits, 0x7f80u);  // FLT_MAX rounds up to infinity
}
