// SPDX-License-Identifier: Apache-2.0
// The code a GPU runs, run on the CPU backends, in the cases the rotation product
// (TestRotate.hpp, every kernel path forced) does not reach: tails of q and k decided per tensor,
// rotary dimensions whose cos/sin do not fit a team's scratch, and which spaces count as host
// spaces for the path choice.
#include "RotateHarness.hpp"
#include "TestCategory.hpp"
#include "ToolsProbe.hpp"

#include <KokkosRopeTesting_Fill.hpp>

namespace KokkosRopeTest {

using KokkosRope::KernelPath;
using KokkosRope::PairStyle;

template <class Space>
class DevicePath : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(DevicePath);

// The serving pattern: q rotated in place while k goes to another View (the cache). k_out's
// unrotated tail must be k_in's, whatever q does (it was decided from q alone).
TYPED_TEST(DevicePath, EachTensorCopiesItsOwnTail) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  using View = Kokkos::View<float****, Kokkos::LayoutRight, Memory>;
  const Space space;
  const int B = 2, S = 3, Hq = 4, Hk = 2, D = 32, R = 16;
  KokkosRope::Params p;
  p.head_dim = D;
  p.rotary_dim = R;
  p.theta = 10000.0;
  KokkosRope::Table<Memory, float> table(space, p, 16);
  for (auto path : {KernelPath::automatic, KernelPath::host_rows, KernelPath::lanes, KernelPath::vector}) {
    if (path == KernelPath::host_rows && !KokkosRope::Impl::is_host_execution_space_v<Space>) continue;
    View q("q", B, S, Hq, D), k("k", B, S, Hk, D), k_out("k_out", B, S, Hk, D);
    KokkosRopeTesting::fill(space, q, 1);
    KokkosRopeTesting::fill(space, k, 2);
    Kokkos::deep_copy(space, k_out, -7.0f);  // a value the tail must not keep
    KokkosRope::RotateOptions options;
    options.kernel_path = path;
    KokkosRope::rotate_copy(space, KokkosRope::bshd, q, k, q, k_out, table, KokkosRope::ImplicitPositions{},
                            options);
    auto hk = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, k);
    auto hko = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, k_out);
    int tail_mismatches = 0;
    for (int b = 0; b < B; ++b)
      for (int s = 0; s < S; ++s)
        for (int h = 0; h < Hk; ++h)
          for (int d = R; d < D; ++d) tail_mismatches += hko(b, s, h, d) != hk(b, s, h, d);
    EXPECT_EQ(tail_mismatches, 0) << path_label(path);
  }
}

// Rotary dimensions whose cos/sin exceed a team's scratch (OpenMP and Serial allow 32 KiB per
// team, a GPU about 48 KiB): every path still rotates correctly (teams stage fewer tokens, or
// none, and evaluate cos/sin per lane).
TYPED_TEST(DevicePath, RotaryTooLargeForTeamScratch) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  for (auto path : {KernelPath::automatic, KernelPath::host_rows, KernelPath::lanes, KernelPath::vector})
   for (auto positions : {PositionKind::tokens, PositionKind::mrope_sectioned}) {
    if (path == KernelPath::host_rows && !KokkosRope::Impl::is_host_execution_space_v<Space>) continue;
    RotateHarness<Space, double> h;
    h.g.batch = 1;
    h.g.seq = 2;
    h.g.q_heads = 1;
    h.g.k_heads = 1;
    h.g.head_dim = h.g.rotary_dim = 8192;  // 4096 pairs: 64 KiB of double cos/sin per token
    h.g.table_positions = 4;
    h.layout = LayoutKind::bshd;
    h.pair_style = PairStyle::half_split;
    h.position_kind = positions;
    h.kernel_path = path;
    const auto params = h.params();
    const auto f = KokkosRope::compute_frequencies(params);
    KokkosRope::Table<Memory, double> table(space, params, h.g.table_positions);
    EXPECT_EQ(h.template run<false>(space, table, f.inv_freq, f.attention_factor), 0) << path_label(path) << " " << name(positions);
   }
}

// Host kernels are chosen by what the execution space is, not by what its memory is (on
// unified-memory builds the host reaches GPU memory; tests/cuda-compile checks that side).
static_assert(KokkosRope::Impl::is_host_execution_space_v<Kokkos::DefaultHostExecutionSpace>);
#if defined(KOKKOS_ENABLE_CUDA) || defined(KOKKOS_ENABLE_HIP) || defined(KOKKOS_ENABLE_SYCL)
static_assert(!KokkosRope::Impl::is_host_execution_space_v<Kokkos::DefaultExecutionSpace>);
#endif

// The automatic path of a unit-stride tensor: host_rows on a host space, a team path on a device.
// A choice made from the memory space, or a host space sent to the team paths, changes the
// launch the probe sees.
TYPED_TEST(DevicePath, AutomaticPathFollowsTheExecutionSpace) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  KokkosRope::Params p;
  p.head_dim = p.rotary_dim = 32;
  KokkosRope::Table<Memory, float> table(space, p, 8);
  Kokkos::View<float****, Kokkos::LayoutRight, Memory> q("q", 1, 4, 2, 32);
  KokkosRopeTesting::fill(space, q, 3);
  ToolsProbe probe;
  KokkosRope::rotate(space, KokkosRope::bshd, q, table);
  space.fence();
  const bool host = KokkosRope::Impl::is_host_execution_space_v<Space>;
  EXPECT_EQ(probe.launches_containing("KokkosRope::rotate[host_rows]"), host ? 1 : 0) << Space::name();
  EXPECT_EQ(probe.launches_containing("KokkosRope::rotate[vector]"), host ? 0 : 1) << Space::name();
}

}  // namespace KokkosRopeTest
