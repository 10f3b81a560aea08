// SPDX-License-Identifier: Apache-2.0
// Properties of the rotation on every backend: norms kept per pair, q_m . k_n depends only on
// m - n, backward o forward = identity, in place == out of place, GQA == per-head application,
// edge cases (decode at the table's end, empty batch, one head, head_dim 64..256, odd heads),
// and every bad shape or position rejected before the kernel runs, with nothing written.
#include "TestCategory.hpp"
#include "RotateHarness.hpp"
#include "ErrorMatchers.hpp"

#include <KokkosRope.hpp>
#include <KokkosRopeTesting_Fill.hpp>
#include <KokkosRopeTesting_Models.hpp>

#include <random>

using namespace KokkosRope;

namespace {

// Deterministic values in [-1, 1) on the test's instance.
template <class View>
void fill_random(const View& v, std::uint64_t seed) {
  KokkosRopeTesting::fill(typename View::execution_space(), v, seed);
}

template <class View>
auto to_host(const View& v) {
  return Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), v);
}

// Llama 3.1's rotary embedding at another head size.
Params llama(int head_dim, PairStyle style = PairStyle::half_split) {
  Params p = KokkosRopeTesting::llama31(style);
  p.head_dim = p.rotary_dim = head_dim;
  return p;
}

// A float table of llama(head_dim) with `positions` rows.
template <class Space>
Table<typename Space::memory_space> llama_table(const Space& space, int head_dim, std::int64_t positions) {
  return Table<typename Space::memory_space>(space, llama(head_dim), positions);
}

}  // namespace

template <class Space>
class RotateProperties : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(RotateProperties);

TYPED_TEST(RotateProperties, NormsPreservedPerPair) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  for (auto style : {PairStyle::half_split, PairStyle::interleaved}) {
    const auto p = llama(128, style);
    Table<Memory, double> table(space, p, 4096);
    Kokkos::View<double****, Memory> q("q", 2, 64, 4, 128), q0("q0", 2, 64, 4, 128);
    fill_random(q, 7);
    Kokkos::deep_copy(q0, q);
    Kokkos::View<std::int64_t*, Memory> off("off", 2);  // q0 is a separate View: a true copy
    Kokkos::deep_copy(off, 4000);
    rotate(space, bshd, q, table, sequence_offsets(off));
    auto a = to_host(q0), b = to_host(q);
    for (int s = 0; s < 64; ++s)
      for (int i = 0; i < 64; ++i) {
        const int i1 = style == PairStyle::half_split ? i : 2 * i, i2 = style == PairStyle::half_split ? i + 64 : 2 * i + 1;
        const double before = a(1, s, 3, i1) * a(1, s, 3, i1) + a(1, s, 3, i2) * a(1, s, 3, i2);
        const double after = b(1, s, 3, i1) * b(1, s, 3, i1) + b(1, s, 3, i2) * b(1, s, 3, i2);
        EXPECT_NEAR(after, before, 1e-14);
      }
  }
}

// The property that makes RoPE relative: <R_m q, R_n k> = <R_{m+t} q, R_{n+t} k>.
TYPED_TEST(RotateProperties, DotProductDependsOnlyOnDistance) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  const auto p = llama(128);
  Table<Memory, double> table(space, p, 140000);
  const std::int64_t shifts[] = {0, 1, 17, 4096, 8191, 65536, 131000};
  const int n = sizeof(shifts) / sizeof(shifts[0]);
  // Token j of both tensors: q at position m + shift_j, k at n + shift_j, same vectors.
  Kokkos::View<double***, Memory> q("q", n, 1, 128), k("k", n, 1, 128);
  Kokkos::View<std::int64_t*, Memory> qpos("qpos", n), kpos("kpos", n);
  auto hq = Kokkos::create_mirror_view(q), hk = Kokkos::create_mirror_view(k);
  auto hqp = Kokkos::create_mirror_view(qpos), hkp = Kokkos::create_mirror_view(kpos);
  std::mt19937_64 rng(3);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> qv(128), kv(128);
  for (auto& x : qv) x = u(rng);
  for (auto& x : kv) x = u(rng);
  for (int j = 0; j < n; ++j) {
    hqp(j) = 700 + shifts[j];
    hkp(j) = 12 + shifts[j];
    for (int d = 0; d < 128; ++d) hq(j, 0, d) = qv[d], hk(j, 0, d) = kv[d];
  }
  Kokkos::deep_copy(q, hq), Kokkos::deep_copy(k, hk), Kokkos::deep_copy(qpos, hqp), Kokkos::deep_copy(kpos, hkp);
  rotate(space, packed(), q, table, token_positions(qpos));
  rotate(space, packed(), k, table, token_positions(kpos));
  Kokkos::deep_copy(hq, q), Kokkos::deep_copy(hk, k);
  double dots[16];
  for (int j = 0; j < n; ++j) {
    dots[j] = 0;
    for (int d = 0; d < 128; ++d) dots[j] += hq(j, 0, d) * hk(j, 0, d);
  }
  for (int j = 1; j < n; ++j) EXPECT_NEAR(dots[j], dots[0], 1e-11) << "shift " << shifts[j];
  // And it does change with the distance (the check above is not vacuous).
  EXPECT_GT(std::fabs(dots[0] - [&] {
              double d = 0;
              for (int i = 0; i < 128; ++i) d += qv[i] * kv[i];
              return d;
            }()), 1e-3);
}

TYPED_TEST(RotateProperties, BackwardUndoesForward) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  for (auto style : {PairStyle::half_split, PairStyle::interleaved}) {
    auto p = llama(96, style);
    p.rotary_dim = 64;
    OnTheFly<Memory> source(space, p);
    // bhsd: 8 query heads, 2 key heads, 2 tokens.
    Kokkos::View<float****, Memory> q("q", 1, 8, 2, 96), k("k", 1, 2, 2, 96), q0("q0", 1, 8, 2, 96), k0("k0", 1, 2, 2, 96);
    fill_random(q, 1), fill_random(k, 2);
    Kokkos::deep_copy(q0, q), Kokkos::deep_copy(k0, k);
    Kokkos::View<std::int64_t*, Memory> off("off", 1);
    Kokkos::deep_copy(off, 100000);
    RotateOptions backward;
    backward.direction = Direction::backward;
    rotate(space, bhsd, q, k, source, sequence_offsets(off));
    auto mid = Kokkos::create_mirror(q);  // a copy, not an alias of q on host backends
    Kokkos::deep_copy(mid, q);
    rotate(space, bhsd, q, k, source, sequence_offsets(off), backward);
    auto a = to_host(q0), b = to_host(q), c = to_host(k0), d = to_host(k);
    double moved = 0;
    for (int h = 0; h < 8; ++h)
      for (int s = 0; s < 2; ++s)
        for (int x = 0; x < 96; ++x) {
          EXPECT_NEAR(b(0, h, s, x), a(0, h, s, x), 1e-6);
          moved = std::max(moved, double(std::fabs(mid(0, h, s, x) - a(0, h, s, x))));
        }
    for (int h = 0; h < 2; ++h)
      for (int s = 0; s < 2; ++s)
        for (int x = 0; x < 96; ++x) EXPECT_NEAR(d(0, h, s, x), c(0, h, s, x), 1e-6);
    EXPECT_GT(moved, 0.1);  // forward did rotate
  }
}

TYPED_TEST(RotateProperties, InPlaceEqualsOutOfPlaceBitwise) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  using bf16 = Kokkos::Experimental::bhalf_t;
  const Space space;
  auto p = llama(128);
  p.rotary_dim = 32;
  Table<Memory> table(space, p, 64);
  Kokkos::View<bf16****, Memory> q("q", 2, 16, 4, 128), k("k", 2, 16, 1, 128), qo("qo", 2, 16, 4, 128), ko("ko", 2, 16, 1, 128);
  fill_random(q, 5), fill_random(k, 6);
  Kokkos::View<const bf16****, Memory> qc = q, kc = k;
  rotate_copy(space, bshd, qc, kc, qo, ko, table);
  rotate(space, bshd, q, k, table);
  auto a = to_host(q), b = to_host(qo), c = to_host(k), d = to_host(ko);
  for (std::size_t i = 0; i < a.span(); ++i) ASSERT_EQ(float(a.data()[i]), float(b.data()[i])) << i;
  for (std::size_t i = 0; i < c.span(); ++i) ASSERT_EQ(float(c.data()[i]), float(d.data()[i])) << i;
}

TYPED_TEST(RotateProperties, GroupedQueryEqualsPerHead) {
  using Memory = typename TypeParam::memory_space;
  const TypeParam space;
  const auto table = llama_table(space, 64, 32);
  Kokkos::View<float****, Memory> q("q", 1, 32, 8, 64), k("k", 1, 32, 1, 64), q1("q1", 1, 32, 8, 64), k1("k1", 1, 32, 1, 64);
  fill_random(q, 8), fill_random(k, 9);
  Kokkos::deep_copy(q1, q), Kokkos::deep_copy(k1, k);
  rotate(space, bshd, q, k, table);  // 8 query heads, 1 key head, one launch
  for (int h = 0; h < 8; ++h) {     // each head alone
    auto head = Kokkos::subview(q1, Kokkos::ALL, Kokkos::ALL, Kokkos::pair<int, int>(h, h + 1), Kokkos::ALL);
    rotate(space, bshd, head, table);
  }
  rotate(space, bshd, k1, table);
  auto a = to_host(q), b = to_host(q1), c = to_host(k), d = to_host(k1);
  for (std::size_t i = 0; i < a.span(); ++i) ASSERT_EQ(a.data()[i], b.data()[i]) << i;
  for (std::size_t i = 0; i < c.span(); ++i) ASSERT_EQ(c.data()[i], d.data()[i]) << i;
}

// head_dim 64 .. 256, odd head counts, one head, against the reference.
TYPED_TEST(RotateProperties, HeadDimsAndHeadCounts) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  for (int head_dim : {64, 80, 96, 128, 256})
    for (auto heads : {std::pair<int, int>{1, 1}, {5, 1}, {7, 3}}) {
      KokkosRopeTest::RotateHarness<Space, float> h;
      h.g.head_dim = h.g.rotary_dim = head_dim;
      h.g.q_heads = heads.first;
      h.g.k_heads = heads.second;
      h.layout = KokkosRopeTest::LayoutKind::bshd;
      h.pair_style = PairStyle::interleaved;
      h.position_kind = KokkosRopeTest::PositionKind::offsets;
      const auto params = h.params();
      const auto f = compute_frequencies(params);
      Table<Memory> table(space, params, h.g.table_positions);
      EXPECT_EQ(h.run(space, table, f.inv_freq, f.attention_factor), 0) << h.describe() << " heads " << heads.first;
    }
}

// Decode: one token per sequence at offsets up to the last table row; one past it is rejected.
TYPED_TEST(RotateProperties, DecodeAtTableEnd) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  KokkosRopeTest::RotateHarness<Space, float> h;
  h.g.batch = 4;
  h.g.seq = 1;
  h.layout = KokkosRopeTest::LayoutKind::bshd;
  h.pair_style = PairStyle::half_split;
  h.position_kind = KokkosRopeTest::PositionKind::offsets;  // the last offset is table_positions - 1
  const auto params = h.params();
  const auto f = compute_frequencies(params);
  Table<Memory> table(space, params, h.g.table_positions);
  EXPECT_EQ(h.run(space, table, f.inv_freq, f.attention_factor), 0);
  Kokkos::View<float****, Memory> q("q", 4, 1, 2, 32);
  Kokkos::View<std::int64_t*, Memory> off("off", 4);
  Kokkos::deep_copy(off, h.g.table_positions);
  KOKKOSROPE_EXPECT_INVALID(rotate(space, bshd, q, table, sequence_offsets(off)),
                            "KokkosRope::rotate: position 256 is past the cos/sin source (256 positions)");
}

TYPED_TEST(RotateProperties, EmptyBatchIsANoOp) {
  using Memory = typename TypeParam::memory_space;
  const TypeParam space;
  const auto table = llama_table(space, 64, 16);
  Kokkos::View<float****, Memory> q("q", 0, 16, 4, 64), k("k", 0, 16, 1, 64);
  EXPECT_NO_THROW(rotate(space, bshd, q, k, table));
  Kokkos::View<float***, Memory> t("t", 0, 4, 64);
  Kokkos::View<int*, Memory> cu("cu", 2);  // one empty sequence
  EXPECT_NO_THROW(rotate(space, packed(cu), t, table));
}

// Bad shapes and positions: a clear error before any kernel, the tensors unchanged.
TYPED_TEST(RotateProperties, BadInputIsRejectedAndNothingWritten) {
  using Memory = typename TypeParam::memory_space;
  const TypeParam space;
  const auto table = llama_table(space, 64, 16);
  Kokkos::View<float****, Memory> q("q", 2, 8, 4, 64), k("k", 2, 8, 1, 64);
  Kokkos::deep_copy(q, 0.25f), Kokkos::deep_copy(k, 0.25f);
  auto untouched = [&] {
    auto a = to_host(q), b = to_host(k);
    for (std::size_t i = 0; i < a.span(); ++i) if (a.data()[i] != 0.25f) return false;
    for (std::size_t i = 0; i < b.span(); ++i) if (b.data()[i] != 0.25f) return false;
    return true;
  };
  Kokkos::View<float****, Memory> k_batch("k", 3, 8, 1, 64), k_dim("k", 2, 8, 1, 32), small("s", 2, 8, 4, 16);
  KOKKOSROPE_EXPECT_INVALID(rotate(space, bshd, q, k_batch, table), "k has batch x seq 3 x 8, q has 2 x 8");
  KOKKOSROPE_EXPECT_INVALID(rotate(space, bshd, q, k_dim, table), "k head_dim 32 differs from q head_dim 64");
  KOKKOSROPE_EXPECT_INVALID(rotate(space, bshd, small, table), "rotary_dim 64 of the cos/sin source exceeds q head_dim 16");
  Kokkos::View<float****, Memory> q_out("qo", 2, 8, 5, 64);
  KOKKOSROPE_EXPECT_INVALID(rotate_copy(space, bshd, q, q_out, table), "q_out extent(2) = 5 differs from q_in extent(2) = 4");
  Kokkos::View<float****, Memory> long_q("q", 1, 17, 4, 64);
  KOKKOSROPE_EXPECT_INVALID(rotate(space, bshd, long_q, table), "sequence length 17 is past the cos/sin source (16 positions)");
  Kokkos::View<std::int64_t*, Memory> off("off", 2), off3("off", 3);
  auto h_off = Kokkos::create_mirror_view(off);
  h_off(0) = 0, h_off(1) = -1;
  Kokkos::deep_copy(off, h_off);
  KOKKOSROPE_EXPECT_INVALID(rotate(space, bshd, q, k, table, sequence_offsets(off)), "position -1 is negative");
  h_off(1) = 9;  // 9 + 7 = 16: one past the end
  Kokkos::deep_copy(off, h_off);
  KOKKOSROPE_EXPECT_INVALID(rotate(space, bshd, q, k, table, sequence_offsets(off)), "position 16 is past the cos/sin source");
  KOKKOSROPE_EXPECT_INVALID(rotate(space, bshd, q, k, table, sequence_offsets(off3)), "offsets has 3 entries, batch is 2");
  Kokkos::View<int**, Memory> pos("pos", 2, 7);
  KOKKOSROPE_EXPECT_INVALID(rotate(space, bshd, q, k, table, token_positions(pos)), "positions is 2 x 7, q has batch x seq 2 x 8");
  Kokkos::View<int**, Memory> pos_ok("pos", 2, 8);
  Kokkos::deep_copy(pos_ok, 16);
  KOKKOSROPE_EXPECT_INVALID(rotate(space, bshd, q, k, table, token_positions(pos_ok)), "position 16 is past");
  // Packed: malformed cu_seqlens.
  Kokkos::View<float***, Memory> t("t", 10, 4, 64);
  Kokkos::View<int*, Memory> cu("cu", 3);
  auto h_cu = Kokkos::create_mirror_view(cu);
  h_cu(0) = 0, h_cu(1) = 6, h_cu(2) = 4;
  Kokkos::deep_copy(cu, h_cu);
  KOKKOSROPE_EXPECT_INVALID(rotate(space, packed(cu), t, table), "cu_seqlens must start at 0, never decrease and end at the token count 10");
  Kokkos::View<int*, Memory> cu1("cu", 1);
  KOKKOSROPE_EXPECT_INVALID(rotate(space, packed(cu1), t, table), "cu_seqlens needs batch + 1 >= 2 entries, has 1");
  EXPECT_TRUE(untouched());
}
