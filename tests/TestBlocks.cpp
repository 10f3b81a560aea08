// SPDX-License-Identifier: Apache-2.0
// The device-callable building blocks, used from a user's own kernel, give exactly what the
// library's fused kernel gives.
#include "TestCategory.hpp"

#include <KokkosRope.hpp>

#include <cmath>
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

// A "user" cache-append kernel: per token, each kv head normalised (optionally), rotated and
// stored into the token's slot of an NHD cache, by the store blocks.
template <class PairTag, bool Team, class X, class Cache, class C, class Slots, class Norm>
struct UserStoreKernel {
  X k;
  Cache cache;
  C cos, sin;
  Slots slots;
  Norm norm;
  float scale;
  template <class Member>
  KOKKOS_INLINE_FUNCTION void operator()(const Member& m) const {
    const int t = m.league_rank();
    const int block_size = int(cache.extent(1));
    for (int h = 0; h < int(k.extent(1)); ++h) {
      const auto row = Kokkos::subview(cache, slots(t) / block_size, slots(t) % block_size, h, Kokkos::ALL);
      const auto x = Kokkos::subview(k, t, h, Kokkos::ALL);
      const auto c = Kokkos::subview(cos, t, Kokkos::ALL);
      const auto s = Kokkos::subview(sin, t, Kokkos::ALL);
      if constexpr (Team) {
        TeamVectorRotateAndStore<PairTag>::invoke(m, x, row, c, s, norm, scale);
        m.team_barrier();
      } else {
        Kokkos::single(Kokkos::PerTeam(m), [&] { SerialRotateAndStore<PairTag>::invoke(x, row, c, s, norm, scale); });
      }
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

// The store blocks give what rotate_and_cache writes into the cache: bitwise without a norm,
// within a unit of the cache's type with one (the team block sums the squares in another order).
TYPED_TEST(Blocks, StoreBlocksMatchRotateAndCache) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  const int tokens = 9, heads = 2, dim = 80, blocks = 4, block_size = 4;
  for (auto style : {PairStyle::half_split, PairStyle::interleaved})
    for (bool with_norm : {false, true}) {
      Params p;
      p.head_dim = dim;
      p.rotary_dim = 64;
      p.theta = 10000.0;
      p.pair_style = style;
      Table<Memory> table(space, p, tokens);
      Kokkos::View<bfloat16***, Memory> k("k", tokens, heads, dim), q("q", tokens, 1, dim);
      Kokkos::View<float8_e4m3****, Memory> fused("fused", blocks, block_size, heads, dim),
          serial("serial", blocks, block_size, heads, dim), team("team", blocks, block_size, heads, dim),
          v_cache("v", blocks, block_size, heads, dim);
      Kokkos::View<int*, Memory> slots("slots", tokens);
      Kokkos::View<float*, Memory> w("w", dim);
      {
        std::mt19937 rng(12);
        std::uniform_real_distribution<float> u(-1, 1);
        auto h = Kokkos::create_mirror_view(k);
        for (std::size_t i = 0; i < h.span(); ++i) h.data()[i] = bfloat16(u(rng));
        Kokkos::deep_copy(k, h);
        auto s = Kokkos::create_mirror_view(slots);
        for (int t = 0; t < tokens; ++t) s(t) = (5 * t + 2) % (blocks * block_size);
        Kokkos::deep_copy(slots, s);
        auto wh = Kokkos::create_mirror_view(w);
        for (int d = 0; d < dim; ++d) wh(d) = 1.5f + u(rng) / 2;
        Kokkos::deep_copy(w, wh);
      }
      const float scale = 0.25f;
      using Cos = Kokkos::View<const float**, Kokkos::LayoutRight, Memory>;
      const auto run = [&](auto tag, const auto& norm) {
        using PairTag = decltype(tag);
        using N = std::decay_t<decltype(norm)>;
        UserStoreKernel<PairTag, false, decltype(k), decltype(serial), Cos, decltype(slots), N> ks{
            k, serial, table.cos(), table.sin(), slots, norm, scale};
        Kokkos::parallel_for("KokkosRopeTest::user_store_serial", Kokkos::TeamPolicy<Space>(space, tokens, 1), ks);
        UserStoreKernel<PairTag, true, decltype(k), decltype(team), Cos, decltype(slots), N> kt{
            k, team, table.cos(), table.sin(), slots, norm, scale};
        Kokkos::parallel_for("KokkosRopeTest::user_store_team", Kokkos::TeamPolicy<Space>(space, tokens, Kokkos::AUTO), kt);
      };
      const auto cache = paged_kv_cache(cache_nhd, fused, v_cache, scale, 1.0f);
      if (with_norm) {
        rotate_and_cache(space, packed(), qk_norm(w, w, 1e-6f, NormWeight::offset_one), q, k, k, cache,
                         slot_mapping(slots), table);
        const HeadNorm<decltype(w)> norm{w, 1e-6f, NormWeight::offset_one};
        if (style == PairStyle::half_split) run(HalfSplit{}, norm);
        else run(Interleaved{}, norm);
      } else {
        rotate_and_cache(space, packed(), q, k, k, cache, slot_mapping(slots), table);
        if (style == PairStyle::half_split) run(HalfSplit{}, NoHeadNorm{});
        else run(Interleaved{}, NoHeadNorm{});
      }
      auto a = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), fused);
      auto b = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), serial);
      auto c = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), team);
      int written = 0;
      for (std::size_t i = 0; i < a.span(); ++i) {
        written += a.data()[i].bits != 0;
        const float fa = float(a.data()[i]), fb = float(b.data()[i]), fc = float(c.data()[i]);
        if (!with_norm) {
          ASSERT_EQ(a.data()[i].bits, b.data()[i].bits) << "serial block, element " << i;
          ASSERT_EQ(a.data()[i].bits, c.data()[i].bits) << "team block, element " << i;
        } else {
          ASSERT_LE(std::abs(fa - fb), 0.07f * std::abs(fa) + 0x1p-9f) << "serial block, element " << i;
          ASSERT_LE(std::abs(fa - fc), 0.07f * std::abs(fa) + 0x1p-9f) << "team block, element " << i;
        }
      }
      EXPECT_GT(written, tokens * heads * dim / 2) << "the fused kernel wrote too little to compare";
    }
}
