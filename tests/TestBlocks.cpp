// SPDX-License-Identifier: Apache-2.0
// The device-callable building blocks, used from a user's own kernel, give exactly what the
// library's fused kernel gives.
#include "TestCategory.hpp"

#include <KokkosRope.hpp>

#include <random>

using namespace KokkosRope;

namespace {

// A "user" kernel: per token, rotate every head with the table row of its position.
template <class PairTag, class X, class C>
struct UserSerialKernel {
  X x;
  C cos, sin;
  Direction direction;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t t) const {
    for (int h = 0; h < int(x.extent(1)); ++h) {
      auto head = Kokkos::subview(x, t, h, Kokkos::ALL);
      SerialRotate<PairTag>::invoke(head, Kokkos::subview(cos, t, Kokkos::ALL), Kokkos::subview(sin, t, Kokkos::ALL), direction);
    }
  }
};

template <class PairTag, class X, class C>
struct UserTeamKernel {
  X x;
  C cos, sin;
  Direction direction;
  template <class Member>
  KOKKOS_INLINE_FUNCTION void operator()(const Member& m) const {
    const int t = m.league_rank();
    for (int h = 0; h < int(x.extent(1)); ++h) {
      auto head = Kokkos::subview(x, t, h, Kokkos::ALL);
      TeamVectorRotate<PairTag>::invoke(m, head, Kokkos::subview(cos, t, Kokkos::ALL), Kokkos::subview(sin, t, Kokkos::ALL), direction);
      m.team_barrier();
    }
  }
};

}  // namespace

template <class Space>
class Blocks : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(Blocks);

TYPED_TEST(Blocks, SerialAndTeamMatchTheFusedKernel) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  for (auto style : {PairStyle::half_split, PairStyle::interleaved})
    for (auto direction : {Direction::forward, Direction::backward}) {
      Params p;
      p.head_dim = 80;
      p.rotary_dim = 64;
      p.theta = 10000.0;
      p.pair_style = style;
      const int tokens = 33, heads = 3;
      Table<Memory> table(space, p, tokens);
      Kokkos::View<float***, Memory> ref("ref", tokens, heads, 80), serial("serial", tokens, heads, 80),
          team("team", tokens, heads, 80);
      {
        auto h = Kokkos::create_mirror_view(ref);
        std::mt19937 rng(11);
        std::uniform_real_distribution<float> u(-1, 1);
        for (std::size_t i = 0; i < h.span(); ++i) h.data()[i] = u(rng);
        Kokkos::deep_copy(ref, h);
        Kokkos::deep_copy(serial, h);
        Kokkos::deep_copy(team, h);
      }
      RotateOptions options;
      options.direction = direction;
      rotate(space, packed(), ref, table, ImplicitPositions{}, options);
      auto run = [&](auto tag) {
        using PairTag = decltype(tag);
        using Cos = Kokkos::View<const float**, Kokkos::LayoutRight, Memory>;
        UserSerialKernel<PairTag, decltype(serial), Cos> k{serial, table.cos(), table.sin(), direction};
        Kokkos::parallel_for("KokkosRopeTest::user_serial", Kokkos::RangePolicy<Space, Kokkos::IndexType<std::int64_t>>(space, 0, tokens), k);
        UserTeamKernel<PairTag, decltype(team), Cos> kt{team, table.cos(), table.sin(), direction};
        Kokkos::parallel_for("KokkosRopeTest::user_team", Kokkos::TeamPolicy<Space>(space, tokens, Kokkos::AUTO), kt);
      };
      if (style == PairStyle::half_split) run(HalfSplit{});
      else run(Interleaved{});
      auto a = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), ref);
      auto b = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), serial);
      auto c = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), team);
      for (std::size_t i = 0; i < a.span(); ++i) {
        ASSERT_EQ(a.data()[i], b.data()[i]) << "serial block, element " << i;
        ASSERT_EQ(a.data()[i], c.data()[i]) << "team block, element " << i;
      }
    }
}
