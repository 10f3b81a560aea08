// SPDX-License-Identifier: Apache-2.0
// The product of layouts (4) x pair styles (2) x rotary_dim {head_dim, head_dim / 4} x position
// sources (5: implicit, offsets, per token, multimodal sectioned and interleaved) x {in place,
// out of place} x {forward, backward}, for one value type per
// translation unit (TestRotate_<type>.cpp), against the plain host reference. Tolerances (see
// RotateHarness.hpp): double 1e-13, float 1e-6 (cos/sin within 2.5e-7, |x| <= 1), half and
// bfloat16 one ulp of the type at the reference value (float arithmetic rounded once).
#include "TestCategory.hpp"
#include "RotateHarness.hpp"

namespace KokkosRopeTest {

template <class Space, class T>
void rotate_product() {
  using Memory = typename Space::memory_space;
  using Acc = KokkosRope::Impl::compute_t<T>;
  const Space space;
  int cases = 0;
  for (auto layout : {LayoutKind::bshd, LayoutKind::bhsd, LayoutKind::packed, LayoutKind::strided})
    for (auto pair : {KokkosRope::PairStyle::half_split, KokkosRope::PairStyle::interleaved})
      for (int rotary : {32, 8})
        for (auto positions : {PositionKind::implicit, PositionKind::offsets, PositionKind::tokens,
                               PositionKind::mrope_sectioned, PositionKind::mrope_interleaved})
          for (bool copy : {false, true})
            for (auto direction : {KokkosRope::Direction::forward, KokkosRope::Direction::backward}) {
              RotateHarness<Space, T> h;
              h.g.rotary_dim = rotary;
              h.layout = layout;
              h.pair_style = pair;
              h.position_kind = positions;
              h.out_of_place = copy;
              h.direction = direction;
              h.seed = 1000 + cases;
              const auto params = h.params();
              const auto f = KokkosRope::compute_frequencies(params);
              KokkosRope::Table<Memory, Acc> table(space, params, h.g.table_positions);
              EXPECT_EQ(h.run(space, table, f.inv_freq, f.attention_factor), 0) << h.describe();
              ++cases;
            }
  EXPECT_EQ(cases, 4 * 2 * 2 * 5 * 2 * 2);
}

// The other cos/sin sources on one layout: on the fly (accurate) and the caller's own Views.
template <class Space, class T>
void rotate_sources() {
  using Memory = typename Space::memory_space;
  const Space space;
  for (auto pair : {KokkosRope::PairStyle::half_split, KokkosRope::PairStyle::interleaved})
    for (auto positions : {PositionKind::implicit, PositionKind::tokens, PositionKind::mrope_interleaved}) {
      RotateHarness<Space, T> h;
      h.layout = LayoutKind::bshd;
      h.pair_style = pair;
      h.position_kind = positions;
      h.g.rotary_dim = 16;
      auto params = h.params();
      KokkosRope::YarnScaling yarn;  // a non-trivial attention factor must be folded in
      yarn.factor = 8.0;
      yarn.original_max_position_embeddings = 64;
      params.scaling = yarn;
      const auto f = KokkosRope::compute_frequencies(params);
      KokkosRope::OnTheFly<Memory> on_the_fly(space, params, KokkosRope::Precision::accurate);
      EXPECT_EQ(h.template run<false>(space, on_the_fly, f.inv_freq, f.attention_factor), 0) << "on the fly " << h.describe();
      // The caller's Views: the library's table contents copied into plain double Views.
      KokkosRope::Table<Memory, double> table(space, params, h.g.table_positions);
      Kokkos::View<double**, Memory> c("c", table.num_positions(), 8), s("s", table.num_positions(), 8);
      Kokkos::deep_copy(space, c, table.cos());
      Kokkos::deep_copy(space, s, table.sin());
      KokkosRope::CosSinViews<decltype(c)> views(c, s, pair);
      EXPECT_EQ(h.template run<false>(space, views, f.inv_freq, f.attention_factor), 0) << "views " << h.describe();
    }
}

}  // namespace KokkosRopeTest

#define KOKKOSROPE_ROTATE_TESTS(Suite, Type)                                                   \
  template <class Space>                                                                      \
  class Suite : public ::testing::Test {};                                                    \
  KOKKOSROPE_TYPED_TEST_SUITE(Suite);                                                         \
  TYPED_TEST(Suite, Product) { KokkosRopeTest::rotate_product<TypeParam, Type>(); }           \
  TYPED_TEST(Suite, Sources) { KokkosRopeTest::rotate_sources<TypeParam, Type>(); }
