// SPDX-License-Identifier: Apache-2.0
// Non-finite inputs pass through as IEEE arithmetic: each output is what x1*c - x2*s (resp.
// x2*c + x1*s) gives in float with the table's cos/sin, NaN where that is NaN (inf * 0 at
// position 0 included), the same infinity where that is infinite; finite pairs of the same head
// are untouched by their non-finite neighbours. Nothing traps or is clamped.
#include "TestCategory.hpp"

#include <KokkosRope.hpp>

#include <cmath>
#include <cstdint>
#include <limits>

template <class Space>
class NonFinite : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(NonFinite);

namespace {

template <class T, class Space>
void check_non_finite(KokkosRope::PairStyle pair) {
  using Memory = typename Space::memory_space;
  const Space space;
  constexpr int S = 4, H = 2, D = 16, half = D / 2;
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  KokkosRope::Params p;
  p.head_dim = p.rotary_dim = D;
  p.pair_style = pair;
  KokkosRope::Table<Memory, float> table(space, p, S);
  Kokkos::View<T***, Memory> q("q", S, H, D);  // packed, one sequence: positions 0..S-1
  auto h_q = Kokkos::create_mirror_view(q);
  for (int s = 0; s < S; ++s)
    for (int h = 0; h < H; ++h)
      for (int d = 0; d < D; ++d) h_q(s, h, d) = T(0.25f * static_cast<float>((d % 5) - 2) + 0.125f * h);
  // Special values in head 0 of every token, at pair members of both halves.
  for (int s = 0; s < S; ++s) {
    h_q(s, 0, 0) = T(nan);
    h_q(s, 0, 3) = T(inf);
    h_q(s, 0, 5) = T(-inf);
    h_q(s, 0, 6) = T(inf);
    h_q(s, 0, pair == KokkosRope::PairStyle::half_split ? 6 + half : 7) = T(-inf);  // inf paired with -inf
    h_q(s, 0, 2) = T(1e30f);
  }
  auto h_in = Kokkos::create_mirror(q);
  Kokkos::deep_copy(h_in, h_q);
  Kokkos::deep_copy(q, h_q);
  KokkosRope::rotate(space, KokkosRope::packed(), q, table);
  Kokkos::deep_copy(h_q, q);
  auto h_cos = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, table.cos());
  auto h_sin = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, table.sin());

  int nan_outputs = 0, inf_outputs = 0, mismatches = 0;
  for (int s = 0; s < S; ++s)
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < half; ++i) {
        const int i1 = pair == KokkosRope::PairStyle::half_split ? i : 2 * i;
        const int i2 = pair == KokkosRope::PairStyle::half_split ? i + half : 2 * i + 1;
        const float a = static_cast<float>(h_in(s, h, i1)), b = static_cast<float>(h_in(s, h, i2));
        const float c = h_cos(s, i), sn = h_sin(s, i);
        const float want[2] = {static_cast<float>(T(a * c - b * sn)), static_cast<float>(T(b * c + a * sn))};
        const float got[2] = {static_cast<float>(h_q(s, h, i1)), static_cast<float>(h_q(s, h, i2))};
        for (int j = 0; j < 2; ++j) {
          bool ok;
          if (std::isnan(want[j])) {
            ok = std::isnan(got[j]);
            ++nan_outputs;
          } else if (std::isinf(want[j])) {
            ok = got[j] == want[j];
            ++inf_outputs;
          } else {
            ok = std::isfinite(got[j]) && std::fabs(got[j] - want[j]) <= 1e-2f * std::max(1.0f, std::fabs(want[j]));
          }
          if (!ok && ++mismatches <= 5)
            ADD_FAILURE() << "token " << s << " head " << h << " pair " << i << " output " << j << ": got " << got[j]
                          << ", IEEE gives " << want[j];
        }
      }
  EXPECT_EQ(mismatches, 0);
  EXPECT_GT(nan_outputs, 2 * S);  // the NaN pair, inf paired with -inf, inf * 0 at position 0
  EXPECT_GT(inf_outputs, S);
}

}  // namespace

TYPED_TEST(NonFinite, FloatPassesThroughAsIeee) {
  check_non_finite<float, TypeParam>(KokkosRope::PairStyle::half_split);
  check_non_finite<float, TypeParam>(KokkosRope::PairStyle::interleaved);
}
TYPED_TEST(NonFinite, Bfloat16PassesThroughAsIeee) {
  check_non_finite<KokkosRope::bfloat16, TypeParam>(KokkosRope::PairStyle::half_split);
  check_non_finite<KokkosRope::bfloat16, TypeParam>(KokkosRope::PairStyle::interleaved);
}
