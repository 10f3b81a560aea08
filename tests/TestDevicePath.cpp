// SPDX-License-Identifier: Apache-2.0
// The code a GPU runs, run on the CPU backends: each kernel path (RotateOptions::kernel_path)
// forced on every case of the rotation product (tensor orders incl. LayoutLeft and strided
// slices, pair styles, partial rotary, position kinds (multimodal included), in place / out of place, forward /
// backward) for 4-, 8- and 2-byte types, against the long-double host reference. Forced team
// paths launch the GPU's team shape, clamped to what the backend allows (OpenMP: teams of up to
// its pool size, so barriers and lane loops run for real). A Kokkos Tools probe counts the
// launches of each path, so the test fails if a path silently fell back to another.
#include "ErrorMatchers.hpp"
#include "RotateHarness.hpp"
#include "TestCategory.hpp"
#include "ToolsProbe.hpp"

#include <KokkosRopeTesting_Fill.hpp>

#include <cstring>
#include <iostream>

namespace KokkosRopeTest {
namespace {

using KokkosRope::KernelPath;
using KokkosRope::PairStyle;

const char* label(KernelPath path) {
  switch (path) {
    case KernelPath::host_rows:
      return "[host_rows]";
    case KernelPath::lanes:
      return "[lanes]";
    case KernelPath::vector:
      return "[vector]";
    case KernelPath::automatic:
      break;
  }
  return "[automatic]";
}

// Whether a forced path can take a case (the test's own statement of the rules Options.hpp
// documents): host_rows needs a host space and unit-stride rows; vector needs unit-stride rows
// too, and whole 16-byte units in the rotary part and in a copied tail.
template <class Space, class T>
bool path_applies(KernelPath path, LayoutKind layout, PairStyle pair, int rotary, int head_dim, bool copy) {
  if (path == KernelPath::lanes) return true;
  if (layout == LayoutKind::left) return false;
  if (path == KernelPath::host_rows) return KokkosRope::Impl::is_host_execution_space_v<Space>;
  const int P = 16 / static_cast<int>(sizeof(T));
  const int rotary_elements_per_unit = pair == PairStyle::interleaved ? P : 2 * P;
  if (rotary % rotary_elements_per_unit != 0) return false;
  return !(copy && rotary < head_dim && (head_dim - rotary) % P != 0);
}

template <class Space, class T>
void every_path_every_case() {
  using Memory = typename Space::memory_space;
  using Acc = KokkosRope::Impl::compute_t<T>;
  const Space space;
  for (auto path : {KernelPath::host_rows, KernelPath::lanes, KernelPath::vector}) {
    int ran = 0, refused = 0;
    ToolsProbe probe;
    for (auto layout :
         {LayoutKind::bshd, LayoutKind::bhsd, LayoutKind::packed, LayoutKind::strided, LayoutKind::left})
      for (auto pair : {PairStyle::half_split, PairStyle::interleaved})
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
                h.seed = 5000 + ran + refused;
                const auto params = h.params();
                const auto f = KokkosRope::compute_frequencies(params);
                KokkosRope::Table<Memory, Acc> table(space, params, h.g.table_positions);
                if (path_applies<Space, T>(path, layout, pair, rotary, h.g.head_dim, copy)) {
                  EXPECT_EQ(h.run(space, table, f.inv_freq, f.attention_factor), 0) << h.describe();
                  ++ran;
                } else {
                  KOKKOSROPE_EXPECT_INVALID(h.run(space, table, f.inv_freq, f.attention_factor),
                                            "kernel_path");
                  ++refused;
                }
              }
    const int launches = probe.launches_containing(label(path));
    std::cout << "[ device path ] " << Space::name() << " " << sizeof(T) << "-byte " << label(path) << ": "
              << ran << " cases, " << launches << " launches, " << refused << " refused as documented\n";
    EXPECT_EQ(ran + refused, 5 * 2 * 3 * 5 * 2 * 2);
    EXPECT_GE(launches, ran) << "every case must launch the forced path";
    EXPECT_GT(ran, path == KernelPath::host_rows && !KokkosRope::Impl::is_host_execution_space_v<Space> ? -1 : 100);
  }
}

}  // namespace

template <class Space>
class DevicePath : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(DevicePath);

// The AVX512-BF16 build of the tests (tests/CMakeLists.txt) runs the bf16 product only: float and
// double rows never take the bf16 instructions (impl/KokkosRope_HostSimd.hpp).
#if !defined(KOKKOSROPE_TEST_NEEDS_AVX512BF16)
TYPED_TEST(DevicePath, EveryPathFloat) {
  every_path_every_case<TypeParam, float>();
}
TYPED_TEST(DevicePath, EveryPathDouble) {
  every_path_every_case<TypeParam, double>();
}
#endif
TYPED_TEST(DevicePath, EveryPathBfloat16) {
  every_path_every_case<TypeParam, KokkosRope::bfloat16>();
}

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
    EXPECT_EQ(tail_mismatches, 0) << label(path);
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
    EXPECT_EQ(h.template run<false>(space, table, f.inv_freq, f.attention_factor), 0) << label(path) << " " << name(positions);
   }
}

// Host kernels are chosen by what the execution space is, not by what its memory is (on
// unified-memory builds the host reaches GPU memory; tests/cuda-compile checks that side).
TEST(DevicePathTraits, HostExecutionSpaces) {
  static_assert(KokkosRope::Impl::is_host_execution_space_v<Kokkos::DefaultHostExecutionSpace>);
#if defined(KOKKOS_ENABLE_CUDA) || defined(KOKKOS_ENABLE_HIP) || defined(KOKKOS_ENABLE_SYCL)
  static_assert(!KokkosRope::Impl::is_host_execution_space_v<Kokkos::DefaultExecutionSpace>);
#endif
  SUCCEED();
}

}  // namespace KokkosRopeTest
