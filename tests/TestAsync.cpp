// SPDX-License-Identifier: Apache-2.0
// Asynchronous by default: what a device execution space does (in-kernel validation, the lanes and
// vector paths) run on the CPU backends under a Kokkos Tools probe, which fails the test if a
// source's construction, a RotateStatus or any rotate / rotate_copy call fences, reduces into the
// host or copies anything but the frequencies' upload. Then the device-side status: tokens that
// fail validation are skipped, counted and described; without a status the kernel aborts.
#include "ErrorMatchers.hpp"
#include "TestCategory.hpp"
#include "ToolsProbe.hpp"

#include <KokkosRope.hpp>
#include <KokkosRopeTesting_Fill.hpp>
#include <KokkosRopeTesting_Reference.hpp>

#include <cmath>
#include <string>
#include <vector>

namespace KokkosRopeTest {
namespace {

using KokkosRope::KernelPath;
using KokkosRope::Validation;

template <class Space>
using Tokens = Kokkos::View<float***, Kokkos::LayoutRight, typename Space::memory_space>;
template <class Space>
using Index = Kokkos::View<std::int64_t*, typename Space::memory_space>;

template <class Space, class Host>
Index<Space> to_space(const Space& space, const Host& values, const char* label) {
  Index<Space> v(std::string(label), values.size());
  auto h = Kokkos::create_mirror_view(v);
  for (std::size_t i = 0; i < values.size(); ++i) h(i) = values[i];
  Kokkos::deep_copy(space, v, h);
  return v;
}

KokkosRope::Params params(int head_dim, int rotary_dim) {
  KokkosRope::Params p;
  p.head_dim = head_dim;
  p.rotary_dim = rotary_dim;
  p.theta = 10000.0;
  return p;
}

}  // namespace

template <class Space>
class Async : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(Async);

// Every entry point, every positions kind, the device's paths and validation: no fence, no
// reduction, no copy other than the frequencies' upload into the sources' own Views.
TYPED_TEST(Async, NoEntryPointWaitsForItsInstance) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  const int T = 24, Hq = 4, Hk = 2, D = 64;
  Tokens<Space> q("q", T, Hq, D), k("k", T, Hk, D), qo("qo", T, Hq, D), ko("ko", T, Hk, D);
  Kokkos::View<float****, Kokkos::LayoutRight, Memory> q4("q4", 2, T / 2, Hq, D), k4("k4", 2, T / 2, Hk, D);
  KokkosRopeTesting::fill(space, q, 1);
  KokkosRopeTesting::fill(space, k, 2);
  const auto positions = to_space(space, std::vector<std::int64_t>(T, 5), "positions");
  const auto cu = to_space(space, std::vector<std::int64_t>{0, 10, 24}, "cu_seqlens");
  const auto offsets = to_space(space, std::vector<std::int64_t>{3, 7}, "offsets");
  space.fence();

  int calls = 0;
  {
    ToolsProbe probe;
    const KokkosRope::Table<Memory, float> table(space, params(D, D), 64);
    const KokkosRope::Table<Memory, float> hf_table(space, params(D, 32), 64,
                                                    KokkosRope::Precision::hf_compatible);
    const KokkosRope::OnTheFly<Memory> on_the_fly(space, params(D, D));
    const KokkosRope::RotateStatus<Memory> status(space);
    for (auto path : {KernelPath::automatic, KernelPath::lanes, KernelPath::vector}) {
      KokkosRope::RotateOptions options;
      options.validation = Validation::in_kernel;
      options.kernel_path = path;
      const auto packed = KokkosRope::packed(cu);
      const auto shard = KokkosRope::ContextShard(1, 2, KokkosRope::ShardLayout::dual_chunk);
      KokkosRope::rotate(space, packed, q, k, table, KokkosRope::token_positions(positions), options, status);
      KokkosRope::rotate(space, packed, q, k, on_the_fly, KokkosRope::sequence_offsets(offsets), options,
                         status);
      KokkosRope::rotate(space, packed, q, hf_table, KokkosRope::ImplicitPositions{}, options, status);
      KokkosRope::rotate(space, packed, q, k, table, KokkosRope::context_parallel(shard, offsets), options,
                         status);
      KokkosRope::rotate_copy(space, packed, q, k, qo, ko, table, KokkosRope::token_positions(positions),
                              options, status);
      KokkosRope::rotate_copy(space, KokkosRope::packed(), q, qo, on_the_fly,
                              KokkosRope::token_positions(positions), options, status);
      KokkosRope::rotate(space, KokkosRope::bshd, q4, k4, table, KokkosRope::sequence_offsets(offsets),
                         options, status);
      KokkosRope::rotate(space, KokkosRope::bshd, q4, k4, table, KokkosRope::context_parallel(shard), options,
                         status);
      calls += 8;
    }
    status.reset(space);
    const auto events = probe.events_so_far();
    EXPECT_TRUE(events.fences.empty())
        << events.fences.size() << " fence(s), the first: " << events.fences.front();
    EXPECT_TRUE(events.reductions.empty()) << "reduction: " << events.reductions.front();
    for (std::size_t i = 0; i < events.copies.size(); ++i)
      EXPECT_EQ(events.copy_targets[i], "KokkosRope::OnTheFly::inv_freq") << events.copies[i];
    int rotations = 0;
    for (const auto& [label, count] : events.kernels)
      if (label.rfind("KokkosRope::rotate", 0) == 0) rotations += count;
    EXPECT_EQ(rotations, calls);
  }
  EXPECT_TRUE(KokkosRope::RotateStatus<Memory>(space).report(space).ok());
}

// Tokens outside the source are skipped (left as they were), counted and described; the others
// are rotated as usual. Every path, positions negative and past the table.
TYPED_TEST(Async, StatusFlagsSkippedTokens) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  const int T = 12, H = 2, D = 32;
  const KokkosRope::Table<Memory, float> table(space, params(D, D), 16);
  std::vector<std::int64_t> pos(T);
  for (int t = 0; t < T; ++t) pos[t] = t;
  pos[3] = 16;   // the table's end
  pos[7] = -2;   // negative
  pos[10] = 99;  // far past it
  const auto positions = to_space(space, pos, "positions");
  for (auto path : {KernelPath::automatic, KernelPath::host_rows, KernelPath::lanes, KernelPath::vector}) {
    if (path == KernelPath::host_rows && !KokkosRope::Impl::is_host_execution_space_v<Space>) continue;
    Tokens<Space> q("q", T, H, D), q0("q0", T, H, D);
    KokkosRopeTesting::fill(space, q, 3);
    Kokkos::deep_copy(space, q0, q);
    KokkosRope::RotateStatus<Memory> status(space);
    KokkosRope::RotateOptions options;
    options.validation = Validation::in_kernel;
    options.kernel_path = path;
    KokkosRope::rotate(space, KokkosRope::packed(), q, table, KokkosRope::token_positions(positions), options,
                       status);
    const auto report = status.report(space);
    EXPECT_EQ(report.flagged_tokens, 3);
    EXPECT_EQ(report.first_token, 3);
    EXPECT_EQ(report.min_position, -2);
    EXPECT_EQ(report.max_position, 99);
    EXPECT_EQ(report.reasons, KokkosRope::position_negative | KokkosRope::position_past_source);
    KOKKOSROPE_EXPECT_INVALID(status.check(space),
                              "3 token(s) skipped (negative position, position past the cos/sin source); "
                              "first token 3, positions -2 to 99");
    auto hq = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, q);
    auto h0 = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, q0);
    for (int t = 0; t < T; ++t) {
      const bool skipped = t == 3 || t == 7 || t == 10;
      int changed = 0;
      for (int h = 0; h < H; ++h)
        for (int d = 0; d < D; ++d) changed += hq(t, h, d) != h0(t, h, d);
      if (skipped) {
        EXPECT_EQ(changed, 0) << "token " << t << " must be left as it was";
      } else if (t > 0) {
        EXPECT_GT(changed, 0) << "token " << t << " must be rotated";
      }
    }
    status.reset(space);
    EXPECT_TRUE(status.report(space).ok());
  }
}

// cu_seqlens that decrease or end short, and odd local lengths under a dual-chunk shard.
TYPED_TEST(Async, StatusFlagsMalformedSequences) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  const int T = 10, H = 1, D = 16;
  const KokkosRope::Table<Memory, float> table(space, params(D, D), 64);
  KokkosRope::RotateOptions options;
  options.validation = Validation::in_kernel;
  Tokens<Space> q("q", T, H, D);
  for (const auto& cu_values : {std::vector<std::int64_t>{0, 5, 3, 10}, std::vector<std::int64_t>{0, 3, 9}}) {
    KokkosRope::RotateStatus<Memory> status(space);
    KokkosRope::rotate(space, KokkosRope::packed(to_space(space, cu_values, "cu")), q, table,
                       KokkosRope::ImplicitPositions{}, options, status);
    const auto report = status.report(space);
    EXPECT_GT(report.flagged_tokens, 0);
    EXPECT_EQ(report.reasons, KokkosRope::malformed_cu_seqlens) << report.message();
  }
  KokkosRope::RotateStatus<Memory> status(space);
  KokkosRope::rotate(
      space, KokkosRope::packed(to_space(space, std::vector<std::int64_t>{0, 4, 7, 10}, "cu")), q, table,
      KokkosRope::context_parallel(KokkosRope::ContextShard(0, 2, KokkosRope::ShardLayout::dual_chunk)),
      options, status);
  const auto report = status.report(space);
  EXPECT_EQ(report.flagged_tokens, 6);  // the two sequences of 3 tokens
  EXPECT_EQ(report.first_token, 4);
  EXPECT_EQ(report.reasons, KokkosRope::odd_dual_chunk);
}

// Host spaces keep throwing before anything is written (Validation::automatic there).
TYPED_TEST(Async, HostSpacesStillThrowFirst) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  if constexpr (KokkosRope::Impl::is_host_execution_space_v<Space>) {
    const Space space;
    const KokkosRope::Table<Memory, float> table(space, params(16, 16), 8);
    Tokens<Space> q("q", 2, 1, 16);
    const auto positions = to_space(space, std::vector<std::int64_t>{0, 8}, "positions");
    KOKKOSROPE_EXPECT_INVALID(
        KokkosRope::rotate(space, KokkosRope::packed(), q, table, KokkosRope::token_positions(positions)),
        "position 8 is past the cos/sin source (8 positions)");
  } else {
    GTEST_SKIP() << Space::name() << " validates in the kernel (Async.StatusFlagsSkippedTokens)";
  }
}

// In-kernel validation without a status: a device-side assertion.
template <class Space>
void rotate_past_the_table_without_status() {
  using Memory = typename Space::memory_space;
  const Space space;
  const KokkosRope::Table<Memory, float> table(space, params(16, 16), 8);
  Tokens<Space> q("q", 2, 1, 16);
  const auto positions = to_space(space, std::vector<std::int64_t>{0, 9}, "positions");
  KokkosRope::RotateOptions options;
  options.validation = Validation::in_kernel;
  KokkosRope::rotate(space, KokkosRope::packed(), q, table, KokkosRope::token_positions(positions), options);
  space.fence();
}

TYPED_TEST(Async, AbortsWithoutStatus) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(rotate_past_the_table_without_status<TypeParam>(),
               "invalid position or cu_seqlens \\(pass a RotateStatus to flag instead\\)");
}

}  // namespace KokkosRopeTest
