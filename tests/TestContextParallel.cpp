// SPDX-License-Identifier: Apache-2.0
// Context parallelism simulated in one process: every rank of R in {2, 4} takes its shard of a
// global q/k (shard_chunks), rotates it with context_parallel(shard), and must match the same
// tokens of the single-call rotation of the whole sequence bit for bit. Both shardings, grid and
// packed layouts, both pair styles, Table and OnTheFly sources, GQA; and every bad configuration
// rejected with a message naming the values.
#include "TestCategory.hpp"
#include "ErrorMatchers.hpp"

#include <KokkosRope.hpp>
#include <KokkosRopeTesting_Fill.hpp>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

using namespace KokkosRope;

namespace {

// The C rows' checks before the kernel, on every execution space (device spaces default to
// in-kernel validation, tested in TestAsync.cpp).
RotateOptions eager_validation() {
  RotateOptions o;
  o.validation = Validation::before_kernel;
  return o;
}

enum class Kind { bshd, bhsd, packed_cu, packed_single };

const char* name(Kind k) {
  switch (k) {
    case Kind::bshd: return "bshd";
    case Kind::bhsd: return "bhsd";
    case Kind::packed_cu: return "packed_cu";
    case Kind::packed_single: return "packed_single";
  }
  return "?";
}

struct Shape {
  int q_heads = 4, k_heads = 2, head_dim = 64, rotary_dim = 64;
};

Params params(const Shape& s, PairStyle style) {
  Params p;
  p.head_dim = s.head_dim;
  p.rotary_dim = s.rotary_dim;
  p.theta = 10000.0;
  p.pair_style = style;
  p.max_position_embeddings = 4096;
  return p;
}

template <class T>
std::vector<T> random_tokens(std::int64_t tokens, int heads, int dim, std::uint64_t seed) {
  return KokkosRopeTesting::fill_values<T>(static_cast<std::size_t>(tokens) * heads * dim, seed);
}

/// A float table of the shape's half-split rotation with `positions` rows.
template <class Space>
Table<typename Space::memory_space, float> half_split_table(const Space& space, const Shape& sh,
                                                            std::int64_t positions) {
  return Table<typename Space::memory_space, float>(space, params(sh, PairStyle::half_split), positions);
}

/// Rotates token-major host tensors q [t][h][d], k [t][h][d] in place through a device View in
/// layout `kind`: sequence b holds tokens [cu[b], cu[b + 1]) (grid kinds: all of one length).
template <Kind kind, class Space, class T, class Source, class Positions>
void rotate_tokens(const Space& space, const std::vector<std::int64_t>& cu, std::vector<T>& q,
                   std::vector<T>& k, const Shape& sh, const Source& source, const Positions& positions,
                   const RotateOptions& options = {}) {
  using Memory = typename Space::memory_space;
  const std::int64_t tokens = cu.back(), batch = static_cast<std::int64_t>(cu.size()) - 1;
  const int Hq = sh.q_heads, Hk = sh.k_heads, D = sh.head_dim;
  auto run = [&](const auto& layout, auto qv, auto kv, auto&& at) {
    auto hq = Kokkos::create_mirror(qv);  // copies, not aliases, on host backends
    auto hk = Kokkos::create_mirror(kv);
    for (std::int64_t t = 0; t < tokens; ++t) {
      for (int h = 0; h < Hq; ++h) for (int d = 0; d < D; ++d) at(hq, t, h, d) = q[(t * Hq + h) * D + d];
      for (int h = 0; h < Hk; ++h) for (int d = 0; d < D; ++d) at(hk, t, h, d) = k[(t * Hk + h) * D + d];
    }
    Kokkos::deep_copy(space, qv, hq);
    Kokkos::deep_copy(space, kv, hk);
    rotate(space, layout, qv, kv, source, positions, options);
    Kokkos::deep_copy(space, hq, qv);
    Kokkos::deep_copy(space, hk, kv);
    space.fence();
    for (std::int64_t t = 0; t < tokens; ++t) {
      for (int h = 0; h < Hq; ++h) for (int d = 0; d < D; ++d) q[(t * Hq + h) * D + d] = at(hq, t, h, d);
      for (int h = 0; h < Hk; ++h) for (int d = 0; d < D; ++d) k[(t * Hk + h) * D + d] = at(hk, t, h, d);
    }
  };
  const std::int64_t S = batch > 0 ? tokens / batch : 0;
  if constexpr (kind == Kind::bshd) {
    Kokkos::View<T****, Memory> qv("q", batch, S, Hq, D), kv("k", batch, S, Hk, D);
    run(bshd, qv, kv, [S](auto& v, std::int64_t t, int h, int d) -> auto& { return v(t / S, t % S, h, d); });
  } else if constexpr (kind == Kind::bhsd) {
    Kokkos::View<T****, Memory> qv("q", batch, Hq, S, D), kv("k", batch, Hk, S, D);
    run(bhsd, qv, kv, [S](auto& v, std::int64_t t, int h, int d) -> auto& { return v(t / S, h, t % S, d); });
  } else {
    Kokkos::View<T***, Memory> qv("q", tokens, Hq, D), kv("k", tokens, Hk, D);
    auto at = [](auto& v, std::int64_t t, int h, int d) -> auto& { return v(t, h, d); };
    if constexpr (kind == Kind::packed_single) {
      run(packed(), qv, kv, at);
    } else {
      Kokkos::View<std::int64_t*, Memory> d_cu("cu_seqlens", cu.size());
      auto h_cu = Kokkos::create_mirror_view(d_cu);
      for (std::size_t i = 0; i < cu.size(); ++i) h_cu(i) = cu[i];
      Kokkos::deep_copy(space, d_cu, h_cu);
      run(packed(d_cu), qv, kv, at);
    }
  }
}

/// The tokens listed by `ranges` (global indices), concatenated: this rank's local tensor.
template <class T>
std::vector<T> gather(const std::vector<T>& global, const std::vector<TokenRange>& ranges, int heads, int dim) {
  std::vector<T> local;
  const std::size_t row = static_cast<std::size_t>(heads) * dim;
  for (const auto& r : ranges)
    local.insert(local.end(), global.begin() + r.begin * row, global.begin() + r.end * row);
  return local;
}

template <class T>
std::int64_t bitwise_mismatches(const std::vector<T>& a, const std::vector<T>& b) {
  if (a.size() != b.size()) return -1;
  std::int64_t n = 0;
  for (std::size_t i = 0; i < a.size(); ++i) n += std::memcmp(&a[i], &b[i], sizeof(T)) != 0;
  return n;
}

std::vector<std::int64_t> uniform_cu(std::int64_t batch, std::int64_t seq) {
  std::vector<std::int64_t> cu(batch + 1);
  for (std::int64_t b = 0; b <= batch; ++b) cu[b] = b * seq;
  return cu;
}

/// Global rotation vs. R simulated ranks for one case; returns the mismatching elements.
/// `offsets` non-empty: the sequences start there (sequence_offsets globally, the combined
/// context_parallel(shard, offsets) per rank).
template <Kind kind, class Space, class T, class Source>
std::int64_t compare_with_global(const Space& space, const std::vector<std::int64_t>& cu, int R,
                                 ShardLayout layout, const Shape& sh, const Source& source,
                                 const std::vector<std::int64_t>& offsets = {}) {
  using Memory = typename Space::memory_space;
  const auto q0 = random_tokens<T>(cu.back(), sh.q_heads, sh.head_dim, 11);
  const auto k0 = random_tokens<T>(cu.back(), sh.k_heads, sh.head_dim, 12);
  Kokkos::View<std::int64_t*, Memory> d_off("offsets", offsets.size());
  {
    auto h = Kokkos::create_mirror_view(d_off);
    for (std::size_t i = 0; i < offsets.size(); ++i) h(i) = offsets[i];
    Kokkos::deep_copy(space, d_off, h);
  }
  auto qg = q0, kg = k0;
  if (offsets.empty()) rotate_tokens<kind>(space, cu, qg, kg, sh, source, ImplicitPositions{});
  else rotate_tokens<kind>(space, cu, qg, kg, sh, source, sequence_offsets(d_off));

  std::int64_t mismatches = 0, covered = 0;
  for (int r = 0; r < R; ++r) {
    const ContextShard shard(r, R, layout);
    const auto ranges = shard_chunks(cu, shard);
    const auto local_cu = local_cu_seqlens(cu, shard);
    auto ql = gather(q0, ranges, sh.q_heads, sh.head_dim), kl = gather(k0, ranges, sh.k_heads, sh.head_dim);
    if (offsets.empty()) rotate_tokens<kind>(space, local_cu, ql, kl, sh, source, context_parallel(shard));
    else rotate_tokens<kind>(space, local_cu, ql, kl, sh, source, context_parallel(shard, d_off));
    const std::int64_t nq = bitwise_mismatches(ql, gather(qg, ranges, sh.q_heads, sh.head_dim));
    const std::int64_t nk = bitwise_mismatches(kl, gather(kg, ranges, sh.k_heads, sh.head_dim));
    EXPECT_EQ(nq, 0) << name(kind) << " " << to_string(layout) << " rank " << r << "/" << R << ": q";
    EXPECT_EQ(nk, 0) << name(kind) << " " << to_string(layout) << " rank " << r << "/" << R << ": k";
    mismatches += (nq != 0 ? 1 : 0) + (nk != 0 ? 1 : 0);
    covered += local_cu.back();
  }
  EXPECT_EQ(covered, cu.back()) << "the ranks together hold every token once";
  return mismatches;
}

/// Every (R, layout, pair style, source) for one tensor kind. The OnTheFly source (two kernels
/// per call, one per precision) is swept on one grid and one packed kind only: the position map
/// is the same code for every source, and each kind costs build time per source.
template <Kind kind, class Space, class T = float>
void sweep(const std::vector<std::int64_t>& cu, Shape sh = {}) {
  constexpr bool with_on_the_fly = kind == Kind::bshd || kind == Kind::packed_cu;
  using Memory = typename Space::memory_space;
  const Space space;
  for (auto style : {PairStyle::half_split, PairStyle::interleaved}) {
    const auto p = params(sh, style);
    const Table<Memory, float> table(space, p, cu.back() + 8);
    const OnTheFly<Memory> on_the_fly(space, p);
    (void)on_the_fly;
    for (int R : {2, 4})
      for (auto layout : {ShardLayout::contiguous, ShardLayout::dual_chunk}) {
        SCOPED_TRACE(std::string(name(kind)) + " R=" + std::to_string(R) + " " + to_string(layout) + " " +
                     (style == PairStyle::half_split ? "half_split" : "interleaved"));
        EXPECT_EQ((compare_with_global<kind, Space, T>(space, cu, R, layout, sh, table)), 0);
        if constexpr (with_on_the_fly) {
          EXPECT_EQ((compare_with_global<kind, Space, T>(space, cu, R, layout, sh, on_the_fly)), 0);
        }
      }
  }
}

}  // namespace

template <class Space>
class ContextParallelTest : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(ContextParallelTest);

TYPED_TEST(ContextParallelTest, ShardChunksCoverTheSequenceOnce) {
  // R = 2, dual_chunk: chunks 0 and 3 on rank 0, 1 and 2 on rank 1.
  const auto r0 = shard_chunks(8, ContextShard(0, 2, ShardLayout::dual_chunk));
  const auto r1 = shard_chunks(8, ContextShard(1, 2, ShardLayout::dual_chunk));
  ASSERT_EQ(r0.size(), 2u);
  ASSERT_EQ(r1.size(), 2u);
  EXPECT_EQ(r0[0].begin, 0);
  EXPECT_EQ(r0[0].end, 2);
  EXPECT_EQ(r0[1].begin, 6);
  EXPECT_EQ(r0[1].end, 8);
  EXPECT_EQ(r1[0].begin, 2);
  EXPECT_EQ(r1[0].end, 4);
  EXPECT_EQ(r1[1].begin, 4);
  EXPECT_EQ(r1[1].end, 6);
  const auto c1 = shard_chunks(8, ContextShard(1, 2, ShardLayout::contiguous));
  ASSERT_EQ(c1.size(), 1u);
  EXPECT_EQ(c1[0].begin, 4);
  EXPECT_EQ(c1[0].end, 8);
  // Every token once, and global_position agrees with the ranges, for both layouts and R = 4.
  for (auto layout : {ShardLayout::contiguous, ShardLayout::dual_chunk}) {
    std::vector<int> seen(64, 0);
    for (int r = 0; r < 4; ++r) {
      const ContextShard shard(r, 4, layout);
      std::int64_t s = 0;
      for (const auto& range : shard_chunks(64, shard))
        for (std::int64_t g = range.begin; g < range.end; ++g, ++s) {
          ++seen[g];
          EXPECT_EQ(shard.global_position(s, shard.local_length(64)), g);
        }
      EXPECT_EQ(s, 16);
    }
    for (int n : seen) EXPECT_EQ(n, 1);
  }
  // Packed: local cu_seqlens are the global ones divided by the size.
  const std::vector<std::int64_t> cu = {0, 16, 16, 56, 64};
  EXPECT_EQ(local_cu_seqlens(cu, ContextShard(3, 4, ShardLayout::dual_chunk)), (std::vector<std::int64_t>{0, 4, 4, 14, 16}));
  const std::vector<int> cu32 = {0, 8, 12};
  EXPECT_EQ(local_cu_seqlens(cu32, ContextShard(1, 2, ShardLayout::contiguous)), (std::vector<int>{0, 4, 6}));
}

TYPED_TEST(ContextParallelTest, BshdMatchesGlobalBitwise) { sweep<Kind::bshd, TypeParam>(uniform_cu(2, 48)); }

TYPED_TEST(ContextParallelTest, BhsdMatchesGlobalBitwise) {
  Shape sh;
  sh.q_heads = 3, sh.k_heads = 1, sh.head_dim = 64, sh.rotary_dim = 48;  // MQA, partial rotary
  sweep<Kind::bhsd, TypeParam>(uniform_cu(3, 40), sh);
}

TYPED_TEST(ContextParallelTest, PackedCuSeqlensMatchesGlobalBitwise) {
  // Sequences of different lengths, one empty; every length a multiple of 2R for R = 4.
  sweep<Kind::packed_cu, TypeParam>({0, 16, 16, 56, 64, 136});
}

TYPED_TEST(ContextParallelTest, PackedSingleSequenceMatchesGlobalBitwise) {
  sweep<Kind::packed_single, TypeParam>({0, 96});
}

TYPED_TEST(ContextParallelTest, DoubleMatchesGlobalBitwise) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  const Shape sh;
  for (auto style : {PairStyle::half_split, PairStyle::interleaved}) {
    const Table<Memory, double> table(space, params(sh, style), 256);
    for (int R : {2, 4})
      for (auto layout : {ShardLayout::contiguous, ShardLayout::dual_chunk}) {
        EXPECT_EQ((compare_with_global<Kind::bshd, Space, double>(space, uniform_cu(2, 32), R, layout, sh, table)), 0);
        EXPECT_EQ((compare_with_global<Kind::packed_cu, Space, double>(space, {0, 8, 48}, R, layout, sh, table)), 0);
      }
  }
}

// Chunked prefill of a sharded sequence: context_parallel(shard, offsets) == sequence_offsets.
TYPED_TEST(ContextParallelTest, WithSequenceOffsetsMatchesGlobalBitwise) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  const Shape sh;
  const OnTheFly<Memory> source(space, params(sh, PairStyle::half_split));
  for (int R : {2, 4})
    for (auto layout : {ShardLayout::contiguous, ShardLayout::dual_chunk}) {
      EXPECT_EQ((compare_with_global<Kind::bshd, Space, float>(space, uniform_cu(2, 32), R, layout, sh, source,
                                                   {1000, 70000})), 0);
      EXPECT_EQ((compare_with_global<Kind::packed_cu, Space, float>(space, {0, 24, 24, 64}, R, layout, sh, source,
                                                   {5, 0, 123456})), 0);
    }
}

// The shard's positions are global: rank 1 of a contiguous split is not the local rotation.
TYPED_TEST(ContextParallelTest, PositionsAreGlobalNotLocal) {
  const TypeParam space;
  const Shape sh;
  const auto table = half_split_table(space, sh, 64);
  const std::vector<std::int64_t> cu = {0, 16};
  auto q = random_tokens<float>(16, sh.q_heads, sh.head_dim, 1), k = random_tokens<float>(16, sh.k_heads, sh.head_dim, 2);
  auto q_local = q, k_local = k;
  rotate_tokens<Kind::packed_single>(space, cu, q, k, sh, table, context_parallel(ContextShard(1, 2, ShardLayout::contiguous)));
  rotate_tokens<Kind::packed_single>(space, cu, q_local, k_local, sh, table, ImplicitPositions{});
  EXPECT_GT(bitwise_mismatches(q, q_local), 0);
  // And the check can be turned off without changing the result.
  auto q2 = random_tokens<float>(16, sh.q_heads, sh.head_dim, 1), k2 = random_tokens<float>(16, sh.k_heads, sh.head_dim, 2);
  RotateOptions unchecked;
  unchecked.validation = Validation::none;
  rotate_tokens<Kind::packed_single>(space, cu, q2, k2, sh, table,
                context_parallel(ContextShard(1, 2, ShardLayout::contiguous)), unchecked);
  EXPECT_EQ(bitwise_mismatches(q, q2), 0);
  EXPECT_EQ(bitwise_mismatches(k, k2), 0);
}

TYPED_TEST(ContextParallelTest, BadShardNamesTheValues) {
  KOKKOSROPE_EXPECT_INVALID(ContextShard(4, 4, ShardLayout::dual_chunk), "rank 4 >= size 4");
  KOKKOSROPE_EXPECT_INVALID(ContextShard(2, 1, ShardLayout::contiguous), "rank 2 >= size 1");
  KOKKOSROPE_EXPECT_INVALID(ContextShard(0, 0, ShardLayout::contiguous), "size 0 must be >= 1");
  KOKKOSROPE_EXPECT_INVALID(ContextShard(-1, 2, ShardLayout::contiguous), "rank -1 is negative");
  KOKKOSROPE_EXPECT_INVALID(ContextShard(4, 4, ShardLayout::dual_chunk), "KokkosRope::context_parallel");
}

TYPED_TEST(ContextParallelTest, IndivisibleGlobalLengthNamesTheValues) {
  const ContextShard dual(0, 4, ShardLayout::dual_chunk), contiguous(1, 4, ShardLayout::contiguous);
  KOKKOSROPE_EXPECT_INVALID(shard_chunks(12, dual), "sequence length 12 is not divisible by 8");
  KOKKOSROPE_EXPECT_INVALID(shard_chunks(10, contiguous), "sequence length 10 is not divisible by 4");
  EXPECT_NO_THROW(shard_chunks(12, contiguous));
  const std::vector<std::int64_t> cu = {0, 16, 28};
  KOKKOSROPE_EXPECT_INVALID(local_cu_seqlens(cu, dual), "sequence 1 has length 12, not divisible by 8");
  KOKKOSROPE_EXPECT_INVALID(shard_chunks(cu, dual), "sequence 1 has length 12");
  KOKKOSROPE_EXPECT_INVALID(local_cu_seqlens(std::vector<std::int64_t>{0, 8, 4}, contiguous), "decreases at sequence 1");
  KOKKOSROPE_EXPECT_INVALID(local_cu_seqlens(std::vector<std::int64_t>{4, 8}, contiguous), "must start at 0");
}

TYPED_TEST(ContextParallelTest, OddLocalLengthForDualChunkNamesTheValues) {
  using Memory = typename TypeParam::memory_space;
  const TypeParam space;
  const Shape sh;
  const auto table = half_split_table(space, sh, 256);
  const ContextShard shard(1, 2, ShardLayout::dual_chunk);
  // Grid: 7 tokens per sequence cannot be two chunks.
  Kokkos::View<float****, Memory> q("q", 2, 7, sh.q_heads, sh.head_dim), k("k", 2, 7, sh.k_heads, sh.head_dim);
  KOKKOSROPE_EXPECT_INVALID(rotate(space, bshd, q, k, table, context_parallel(shard)), "q has 7 tokens per sequence");
  KOKKOSROPE_EXPECT_INVALID(rotate(space, bshd, q, k, table, context_parallel(shard)), "dual_chunk needs an even");
  // Contiguous has no such need.
  EXPECT_NO_THROW(rotate(space, bshd, q, k, table, context_parallel(ContextShard(1, 2, ShardLayout::contiguous))));
  // Packed, one sequence of 9 tokens.
  Kokkos::View<float***, Memory> pq("pq", 9, sh.q_heads, sh.head_dim);
  KOKKOSROPE_EXPECT_INVALID(rotate(space, packed(), pq, table, context_parallel(shard)), "q has 9 tokens");
  // Packed with cu_seqlens: sequence 1 (of 0, 1, 2) has 5 local tokens.
  Kokkos::View<std::int64_t*, Memory> cu("cu", 4);
  {
    auto h = Kokkos::create_mirror_view(cu);
    h(0) = 0, h(1) = 4, h(2) = 9, h(3) = 9;
    Kokkos::deep_copy(cu, h);
  }
  KOKKOSROPE_EXPECT_INVALID(rotate(space, packed(cu), pq, table, context_parallel(shard), eager_validation()),
                            "sequence 1 has 5 tokens");
}

TYPED_TEST(ContextParallelTest, GlobalPositionsPastTheTableNameTheValues) {
  using Memory = typename TypeParam::memory_space;
  const TypeParam space;
  const Shape sh;
  // 64 positions: a local sequence of 16 tokens fits, but rank 3 of 4 (contiguous) holds 48..63
  // and rank 3 of 8 holds 48..63 too; rank 4 of 8 holds 64..79, past the table.
  const auto table = half_split_table(space, sh, 64);
  Kokkos::View<float****, Memory> q("q", 1, 16, sh.q_heads, sh.head_dim);
  EXPECT_NO_THROW(rotate(space, bshd, q, table, context_parallel(ContextShard(3, 4, ShardLayout::contiguous))));
  KOKKOSROPE_EXPECT_INVALID(rotate(space, bshd, q, table, context_parallel(ContextShard(4, 8, ShardLayout::contiguous)), eager_validation()),
                            "position 79 is past the cos/sin source (64 positions)");
  // dual_chunk, R = 4, local 16 tokens: rank 0 holds chunks 0 and 7 of 8-token chunks: 56..63 fit.
  EXPECT_NO_THROW(rotate(space, bshd, q, table, context_parallel(ContextShard(0, 4, ShardLayout::dual_chunk))));
  KOKKOSROPE_EXPECT_INVALID(rotate(space, bshd, q, table, context_parallel(ContextShard(0, 5, ShardLayout::dual_chunk)), eager_validation()),
                            "position 79 is past the cos/sin source");
  // Offsets combined: the last sequence's offsets move it past the end.
  Kokkos::View<std::int64_t*, Memory> off("off", 1), off2("off2", 2);
  Kokkos::deep_copy(off, 1);
  KOKKOSROPE_EXPECT_INVALID(rotate(space, bshd, q, table, context_parallel(ContextShard(3, 4, ShardLayout::contiguous), off), eager_validation()),
                            "position 64 is past");
  KOKKOSROPE_EXPECT_INVALID(rotate(space, bshd, q, table, context_parallel(ContextShard(0, 4, ShardLayout::contiguous), off2)),
                            "offsets has 2 entries, batch is 1");
}
