// SPDX-License-Identifier: Apache-2.0
// The serving kernels (RotateAndCache.hpp) against the composition of the unfused operations
// (KvCacheHarness.hpp): every cache element type (fp32, fp16, bf16, fp8 e4m3 / e5m2 with scales,
// mixed) with every block order, slot scheme, kernel path and QK norm; the in-kernel check of a
// slot past the cache, and the checks before the kernel on calls of few and of many tokens (a
// host space runs the first on the calling thread, the second as a reduction).
// TestKvCacheLayouts.cpp covers the layouts, positions and sources.
#include "TestCategory.hpp"

#include "ErrorMatchers.hpp"
#include "KvCacheHarness.hpp"

#include <KokkosRopeTesting_Fill.hpp>

using namespace KokkosRope;
using namespace KokkosRopeTest;

namespace {

// The element-type product: packed(cu_seqlens), token positions, a table; every block order,
// slot scheme, kernel path and norm, with pair style, rotary and q in place or copied cycled.
template <class Space, class T, class C>
void cache_product(float k_scale = 1, float v_scale = 1) {
  const auto paths = cache_kernel_paths<Space>();
  int n = 0, failures = 0;
  for (auto slots : {SlotKind::mapping, SlotKind::table})
    for (bool hnd : {false, true})
      for (auto path : paths)
        for (auto norm : {NormKind::none, NormKind::scale, NormKind::offset_one}) {
          CacheHarness<Space, T, C, false> h;
          h.k_scale = k_scale;
          h.v_scale = v_scale;
          h.c.layout = LayoutKind::packed_cu;
          h.c.positions = PosKind::tokens;
          h.c.slots = slots;
          h.c.hnd = hnd;
          h.c.path = path;
          h.c.norm = norm;
          h.c.pair = n % 2 ? PairStyle::interleaved : PairStyle::half_split;
          h.c.rotary_dim = n % 3 == 1 ? 32 : 64;
          h.c.copy_q = n % 5 >= 3;
          ++n;
          failures += h.run();
        }
  EXPECT_EQ(failures, 0);
  ::testing::Test::RecordProperty("cases", n);
}

// A table of `positions` positions for heads of `dim` dims, all rotated, theta 10000.
template <class Space>
Table<typename Space::memory_space> small_table(const Space& space, int dim, std::int64_t positions) {
  Params p;
  p.head_dim = p.rotary_dim = dim;
  p.theta = 10000.0;
  return Table<typename Space::memory_space>(space, p, positions);
}

}  // namespace

template <class Space>
class KvCache : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(KvCache);

TYPED_TEST(KvCache, Float) {
  cache_product<TypeParam, float, float>();
}
TYPED_TEST(KvCache, Bfloat16) {
  cache_product<TypeParam, bfloat16, bfloat16>();
}
TYPED_TEST(KvCache, Half) {
  cache_product<TypeParam, Kokkos::Experimental::half_t, Kokkos::Experimental::half_t>();
}
TYPED_TEST(KvCache, Bfloat16ToFloat) {
  cache_product<TypeParam, bfloat16, float>();
}
TYPED_TEST(KvCache, Bfloat16ToE4m3) {
  cache_product<TypeParam, bfloat16, float8_e4m3>(0.0625f, 0.03125f);
}
TYPED_TEST(KvCache, Bfloat16ToE5m2) {
  cache_product<TypeParam, bfloat16, float8_e5m2>(0.5f, 2.0f);
}
TYPED_TEST(KvCache, FloatToE4m3) {
  cache_product<TypeParam, float, float8_e4m3>(1.0f, 0.25f);
}
TYPED_TEST(KvCache, HalfToE4m3) {
  cache_product<TypeParam, Kokkos::Experimental::half_t, float8_e4m3>(0.125f, 1.0f);
}

// A slot past the cache, on the default in-kernel path: the token is flagged and skipped (its q
// not rotated, nothing cached), every other token done; before the kernel, nothing is written.
TYPED_TEST(KvCache, SlotPastTheCacheIsFlagged) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  const auto table = small_table(space, 64, 16);
  Kokkos::View<float***, Memory> q("q", 4, 2, 64), k("k", 4, 1, 64), v("v", 4, 1, 64), q0("q0", 4, 2, 64);
  KokkosRopeTesting::fill(space, q, 1);
  KokkosRopeTesting::fill(space, k, 2);
  KokkosRopeTesting::fill(space, v, 3);
  Kokkos::deep_copy(space, q0, q);
  Kokkos::View<float****, Memory> kc("kc", 2, 4, 1, 64), vc("vc", 2, 4, 1, 64);
  Kokkos::View<int*, Memory> slots("slots", 4);
  auto s_h = Kokkos::create_mirror_view(slots);
  s_h(0) = 1;
  s_h(1) = 8;  // 2 blocks of 4: slot 8 is one past the cache
  s_h(2) = -1;
  s_h(3) = 7;
  Kokkos::deep_copy(space, slots, s_h);
  RotateStatus<Memory> status(space);
  RotateOptions in_kernel;
  in_kernel.validation = Validation::in_kernel;
  rotate_and_cache(space, packed(), q, k, v, paged_kv_cache(cache_nhd, kc, vc), slot_mapping(slots), table,
                   ImplicitPositions{}, in_kernel, status);
  const RotateReport report = status.report(space);
  EXPECT_EQ(report.flagged_tokens, 1);
  EXPECT_EQ(report.first_token, 1);
  EXPECT_EQ(report.reasons, unsigned(slot_past_cache));
  auto q_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, q);
  auto q0_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, q0);
  auto kc_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, kc);
  auto v_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, v);
  auto vc_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, vc);
  for (int d = 0; d < 64; ++d) {
    EXPECT_EQ(q_h(1, 0, d), q0_h(1, 0, d)) << "the flagged token's q was rotated";
    EXPECT_EQ(vc_h(0, 1, 0, d), v_h(0, 0, d)) << "token 0's v is not in slot 1";
    EXPECT_EQ(vc_h(1, 3, 0, d), v_h(3, 0, d)) << "token 3's v is not in slot 7";
  }
  EXPECT_NE(q_h(2, 0, 1), q0_h(2, 0, 1)) << "the padding token's q was not rotated";
  int written = 0;
  for (int b = 0; b < 2; ++b)
    for (int o = 0; o < 4; ++o) written += kc_h(b, o, 0, 0) != 0.0f;
  EXPECT_EQ(written, 2) << "only slots 1 and 7 may be written";

  if constexpr (Kokkos::SpaceAccessibility<Space, Kokkos::HostSpace>::accessible) {
    Kokkos::deep_copy(space, q, q0);
    Kokkos::View<float****, Memory> kc2("kc2", 2, 4, 1, 64), vc2("vc2", 2, 4, 1, 64);
    bool thrown = false;
    try {
      rotate_and_cache(space, packed(), q, k, v, paged_kv_cache(cache_nhd, kc2, vc2), slot_mapping(slots),
                       table);
    } catch (const InvalidArgument&) {
      thrown = true;
    }
    EXPECT_TRUE(thrown);
    space.fence();
    auto q2 = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, q);
    auto kc2_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, kc2);
    for (int d = 0; d < 64; ++d) {
      EXPECT_EQ(q2(0, 0, d), q0_h(0, 0, d)) << "q written before the check";
      EXPECT_EQ(kc2_h(0, 1, 0, d), 0.0f) << "the cache written before the check";
    }
  }
}

// Validation::before_kernel on calls below and above host_serial_check_limit tokens (a loop on
// the calling thread, or a parallel reduction): the first token with a slot past the cache is
// named, the largest position past the table reported, and nothing is written.
TYPED_TEST(KvCache, ChecksBeforeTheKernelFindTheFirstBadToken) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  const auto table = small_table(space, 8, 64);
  RotateOptions eager;
  eager.validation = Validation::before_kernel;
  constexpr std::int64_t limit = KokkosRope::Impl::host_serial_check_limit;
  for (const std::int64_t tokens : {std::int64_t(100), limit + 900}) {
    SCOPED_TRACE("tokens " + std::to_string(tokens));
    Kokkos::View<float***, Memory> q("q", tokens, 1, 8), k("k", tokens, 1, 8), v("v", tokens, 1, 8);
    KokkosRopeTesting::fill(space, k, 2);
    KokkosRopeTesting::fill(space, v, 3);
    Kokkos::View<float****, Memory> kc("kc", tokens / 4 + 1, 4, 1, 8), vc("vc", tokens / 4 + 1, 4, 1, 8);
    const std::int64_t capacity = 4 * (tokens / 4 + 1);
    Kokkos::View<std::int64_t*, Memory> slots("slots", tokens), positions("positions", tokens);
    auto s_h = Kokkos::create_mirror_view(slots);
    auto p_h = Kokkos::create_mirror_view(positions);
    for (std::int64_t t = 0; t < tokens; ++t) {
      s_h(t) = t;
      p_h(t) = t % 64;
    }
    const std::int64_t first_bad = tokens - 37, second_bad = tokens - 5;
    s_h(second_bad) = capacity + 3;
    s_h(first_bad) = capacity;
    Kokkos::deep_copy(space, slots, s_h);
    Kokkos::deep_copy(space, positions, p_h);
    KOKKOSROPE_EXPECT_INVALID(rotate_and_cache(space, packed(), q, k, v, paged_kv_cache(cache_nhd, kc, vc),
                                               slot_mapping(slots), table, token_positions(positions), eager),
                              "slot_mapping: token " + std::to_string(first_bad) + " has slot " +
                                  std::to_string(capacity) + ", past the cache's " +
                                  std::to_string(capacity) + " slots");
    p_h(tokens - 50) = 70;
    p_h(tokens - 60) = 66;
    s_h(first_bad) = first_bad;
    s_h(second_bad) = second_bad;
    Kokkos::deep_copy(space, slots, s_h);
    Kokkos::deep_copy(space, positions, p_h);
    KOKKOSROPE_EXPECT_INVALID(rotate_and_cache(space, packed(), q, k, v, paged_kv_cache(cache_nhd, kc, vc),
                                               slot_mapping(slots), table, token_positions(positions), eager),
                              "position 70 is past the cos/sin source (64 positions)");
    space.fence();
    auto kc_h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, kc);
    int written = 0;
    for (std::size_t e = 0; e < kc_h.span(); ++e) written += kc_h.data()[e] != 0.0f;
    EXPECT_EQ(written, 0) << "the cache was written before the checks failed";
  }
}
