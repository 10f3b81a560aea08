// SPDX-License-Identifier: Apache-2.0
// 64-bit indexing end to end: a bf16 q of 2^31 + 16384 elements (4 GiB), rotated in place with a
// table of 2^21 + 16 positions in accurate mode, checked at sampled elements (around the 2^31
// boundary, the whole last token, random ones) against a long-double reference; the table is
// checked at sampled positions too. The same check on a small tensor in LayoutRight and in
// LayoutLeft (CUDA's default layout) runs with the ordinary reliability tests.
#include "TestCategory.hpp"

#include <KokkosRope.hpp>
#include <KokkosRopeTesting_Models.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

namespace {

constexpr int kHeads = 8, kDim = 128, kHalf = kDim / 2;
constexpr std::int64_t kSeq = (std::int64_t(1) << 21) + 16;
constexpr std::int64_t kElements = kSeq * kHeads * kDim;  // 2^31 + 16384
static_assert(kElements > (std::int64_t(1) << 31));

// The initial value of element i, a function of i alone (float, exactly representable in bf16).
KOKKOS_INLINE_FUNCTION float initial(std::int64_t i) {
  std::uint64_t z = static_cast<std::uint64_t>(i) * 0x9e3779b97f4a7c15ull;
  z ^= z >> 29;
  return static_cast<float>(static_cast<int>(z & 0xffu) - 128) / 128.0f;  // 8 significant bits
}

// Element i of the tensor is its row-major index ((s * kHeads + h) * kDim + d) in [1, seq, kHeads,
// kDim], whatever the View's layout: it is written and read through q(0, s, h, d), never through
// q.data() (whose order is the layout's: LayoutLeft, CUDA's default, is not row-major).
template <class View>
struct Fill {
  View q;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t s) const {
    for (int h = 0; h < kHeads; ++h)
      for (int d = 0; d < kDim; ++d)
        q(0, s, h, d) = KokkosRope::bfloat16(initial((s * kHeads + h) * kDim + d));
  }
};

template <class View, class Index, class Out>
struct Gather {
  View q;
  Index index;
  Out out;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t j) const {
    const std::int64_t e = index(j);
    out(j) = static_cast<float>(q(0, e / (kHeads * kDim), (e / kDim) % kHeads, e % kDim));
  }
};

// Rotates a bf16 q [1, seq, kHeads, kDim] of layout `Layout` in place with an accurate table of
// `seq` positions and checks, against long double, the elements +-64 around row-major index
// `pivot`, the whole last token and `random_samples` random ones, and sampled table rows.
template <class Space, class Layout>
void rotate_and_check(const std::int64_t seq, const std::int64_t pivot, const int random_samples) {
  using Memory = typename Space::memory_space;
  const Space space;
  const std::int64_t elements = seq * kHeads * kDim;
  KokkosRope::Params p = KokkosRopeTesting::llama31();
  p.head_dim = p.rotary_dim = kDim;
  const KokkosRope::Frequencies f = KokkosRope::compute_frequencies(p);

  KokkosRope::Table<Memory, float> table(space, p, seq, KokkosRope::Precision::accurate);
  Kokkos::View<KokkosRope::bfloat16****, Layout, Memory> q(
      Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "q"), 1, seq, kHeads, kDim);
  ASSERT_EQ(static_cast<std::int64_t>(q.size()), elements);
  Kokkos::parallel_for(Kokkos::RangePolicy<Space, Kokkos::IndexType<std::int64_t>>(space, 0, seq),
                       Fill<decltype(q)>{q});
  KokkosRope::rotate(space, KokkosRope::bshd, q, table);

  // Samples: +-64 elements around the pivot, the whole last token, random elements.
  std::vector<std::int64_t> samples;
  for (std::int64_t i = pivot - 64; i < pivot + 64; ++i) samples.push_back(i);
  for (std::int64_t i = elements - kHeads * kDim; i < elements; ++i) samples.push_back(i);
  std::mt19937_64 rng(2026);
  std::uniform_int_distribution<std::int64_t> any(0, elements - 1);
  for (int j = 0; j < random_samples; ++j) samples.push_back(any(rng));
  const auto n = static_cast<std::int64_t>(samples.size());
  Kokkos::View<std::int64_t*, Memory> index("index", n);
  Kokkos::View<float*, Memory> got("got", n);
  Kokkos::deep_copy(space, index, Kokkos::View<const std::int64_t*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(samples.data(), n));
  Kokkos::parallel_for(Kokkos::RangePolicy<Space, Kokkos::IndexType<std::int64_t>>(space, 0, n),
                       Gather<decltype(q), decltype(index), decltype(got)>{q, index, got});
  auto h_got = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, got);

  // Sampled rows of the table itself, against long double (max abs error, accurate mode).
  std::vector<std::int64_t> rows;
  for (std::int64_t r : {std::int64_t(0), std::int64_t(1), std::int64_t(131071), std::int64_t(131072),
                         (std::int64_t(1) << 20) + 3, seq - 1})
    if (r < seq) rows.push_back(r);
  for (int j = 0; j < 64; ++j) rows.push_back(any(rng) % seq);
  auto h_cos = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, table.cos());
  auto h_sin = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, table.sin());
  double table_err = 0;
  for (auto r : rows)
    for (int i = 0; i < kHalf; ++i) {
      const long double angle = static_cast<long double>(r) * static_cast<long double>(f.inv_freq[i]);
      table_err = std::max({table_err, static_cast<double>(std::fabs(h_cos(r, i) - std::cos(angle) * f.attention_factor)),
                            static_cast<double>(std::fabs(h_sin(r, i) - std::sin(angle) * f.attention_factor))});
    }
  EXPECT_LT(table_err, 3e-7) << "table of " << seq << " positions, accurate mode";

  std::int64_t bad = 0;
  double worst = 0;
  for (std::int64_t j = 0; j < n; ++j) {
    const std::int64_t e = samples[j];
    const std::int64_t token = e / (kHeads * kDim);
    const int d = static_cast<int>(e % kDim);
    const std::int64_t row = e - d;
    const int pair = d % kHalf;
    const long double x1 = initial(row + pair), x2 = initial(row + pair + kHalf);
    const long double angle = static_cast<long double>(token) * static_cast<long double>(f.inv_freq[pair]);
    const long double c = std::cos(angle) * f.attention_factor, s = std::sin(angle) * f.attention_factor;
    const long double want = d < kHalf ? x1 * c - x2 * s : x2 * c + x1 * s;
    // One bf16 ulp at the result (the float result rounded once) plus the table's error.
    const double tol = std::ldexp(1.0, std::ilogb(std::max(std::fabs(static_cast<double>(want)), 1e-3)) - 7) + 1e-6;
    const double err = std::fabs(static_cast<double>(h_got(j) - want));
    worst = std::max(worst, err / tol);
    if (err > tol && ++bad <= 5)
      ADD_FAILURE() << "element " << e << " (token " << token << ", d " << d << "): got " << h_got(j) << ", want "
                    << static_cast<double>(want);
  }
  EXPECT_EQ(bad, 0) << "of " << n << " sampled elements";
  ::testing::Test::RecordProperty("elements", std::to_string(elements));
  ::testing::Test::RecordProperty("worst_error_over_tolerance", std::to_string(worst));
  std::printf("rotated %lld bf16 elements (%.2f GiB) in place; %lld samples, worst error %.3f x tolerance; "
              "table of %lld positions max error %.3g\n",
              static_cast<long long>(elements), elements * 2.0 / (1 << 30), static_cast<long long>(n), worst,
              static_cast<long long>(seq), table_err);
}

}  // namespace

template <class Space>
class Large : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(Large);

// Row-major (LayoutRight) stated, as a framework's contiguous [b, s, h, d] tensor is, on every
// backend; the test itself is layout-independent (SampledRotation below runs it on LayoutLeft).
TYPED_TEST(Large, RotatesMoreThan2To31Bfloat16ElementsInPlace) {
  rotate_and_check<TypeParam, Kokkos::LayoutRight>(kSeq, std::int64_t(1) << 31, 100000);
}

// The same check on a small tensor (4 Mi elements), in both layouts: LayoutLeft is what a View
// without a layout gets on CUDA, so this runs the CUDA default on every backend. Not "Large" in
// its name: it runs with the ordinary reliability tests (ctest -L reliability -LE large).
template <class Space>
class SampledRotation : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(SampledRotation);

TYPED_TEST(SampledRotation, Bfloat16GridLayoutRight) {
  constexpr std::int64_t seq = 4096 + 16;
  rotate_and_check<TypeParam, Kokkos::LayoutRight>(seq, seq * kHeads * kDim / 2, 20000);
}
TYPED_TEST(SampledRotation, Bfloat16GridLayoutLeft) {
  constexpr std::int64_t seq = 4096 + 16;
  rotate_and_check<TypeParam, Kokkos::LayoutLeft>(seq, seq * kHeads * kDim / 2, 20000);
}
