// SPDX-License-Identifier: Apache-2.0
// The product of tensor orders (5: bshd, bhsd, packed, a strided slice of a fused QKV buffer,
// bshd in LayoutLeft) x pair styles (2) x rotary_dim {head_dim, head_dim / 2, head_dim / 4} x
// position sources (5: implicit, offsets, per token, multimodal sectioned and interleaved) x {in
// place, out of place} x {forward, backward}, for one value type per translation unit
// (TestRotate_<type>.cpp), against the plain host reference, on every kernel path
// (RotateOptions::kernel_path: automatic, then host_rows, lanes and vector forced): the code a GPU
// runs is run here on the CPU backends, its team shape clamped to what the backend allows. A
// forced path either rotates the case (and a Kokkos Tools probe sees that path's kernel launch) or
// is refused with the reason the documentation gives. Tolerances (see RotateHarness.hpp): double
// 1e-13, float 1e-6 (cos/sin within 2.5e-7, |x| <= 1), half and bfloat16 one ulp of the type at
// the reference value (float arithmetic rounded once).
#include "ErrorMatchers.hpp"
#include "TestCategory.hpp"
#include "RotateHarness.hpp"
#include "ToolsProbe.hpp"

namespace KokkosRopeTest {

/// Whether a forced path can take a case (the test's own statement of the rules Options.hpp
/// documents): host_rows needs a host space and unit-stride rows; vector needs unit-stride rows
/// too, and whole 16-byte units in the rotary part and in a copied tail.
template <class Space, class T>
bool path_applies(KokkosRope::KernelPath path, LayoutKind layout, KokkosRope::PairStyle pair, int rotary,
                  int head_dim, bool copy) {
  using KokkosRope::KernelPath;
  if (path == KernelPath::automatic || path == KernelPath::lanes) return true;
  if (layout == LayoutKind::left) return false;
  if (path == KernelPath::host_rows) return KokkosRope::Impl::is_host_execution_space_v<Space>;
  const int P = 16 / static_cast<int>(sizeof(T));
  const int rotary_elements_per_unit = pair == KokkosRope::PairStyle::interleaved ? P : 2 * P;
  if (rotary % rotary_elements_per_unit != 0) return false;
  return !(copy && rotary < head_dim && (head_dim - rotary) % P != 0);
}

template <class Space, class T>
void rotate_product() {
  using KokkosRope::KernelPath;
  using Memory = typename Space::memory_space;
  using Acc = KokkosRope::Impl::compute_t<T>;
  const Space space;
  std::uint64_t seed = 1000;
  for (auto path : {KernelPath::automatic, KernelPath::host_rows, KernelPath::lanes, KernelPath::vector}) {
    ToolsProbe probe;
    for (auto layout : {LayoutKind::bshd, LayoutKind::bhsd, LayoutKind::packed, LayoutKind::strided, LayoutKind::left})
      for (auto pair : {KokkosRope::PairStyle::half_split, KokkosRope::PairStyle::interleaved})
        for (int rotary : {32, 16, 8})
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
                h.kernel_path = path;
                h.seed = seed++;
                const auto params = h.params();
                const auto f = KokkosRope::compute_frequencies(params);
                KokkosRope::Table<Memory, Acc> table(space, params, h.g.table_positions);
                if (!path_applies<Space, T>(path, layout, pair, rotary, h.g.head_dim, copy)) {
                  KOKKOSROPE_EXPECT_INVALID(h.run(space, table, f.inv_freq, f.attention_factor), "kernel_path");
                  continue;
                }
                const int launched = probe.launches_containing(path_label(path));
                EXPECT_EQ(h.run(space, table, f.inv_freq, f.attention_factor), 0) << h.describe();
                if (path != KernelPath::automatic) {  // a path that fell back to another passes the comparison
                  EXPECT_GT(probe.launches_containing(path_label(path)), launched)
                      << h.describe() << ": no launch of the forced path " << path_label(path);
                }
              }
  }
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
