// SPDX-License-Identifier: Apache-2.0
// The bfloat16 host-rows loops with AVX512-BF16 (impl/KokkosRope_HostSimd.hpp), in the test
// executable built for that ISA. Each loop is compared bit for bit with a scalar model of the same
// arithmetic (one fused multiply-add per output, then the portable round-to-nearest-even), on
// inputs that include what the conversion instruction treats differently: denormal results, NaNs
// with payloads, infinities and overflow. Row lengths 0..40 cover full and masked steps, on one and
// on three head rows (cos/sin loaded once for all heads), with gaps between rows left untouched.
// The serving kernel's host_rows path (rotate_and_cache), which takes the same loops with the
// cache's head stride, is compared with the same model followed by the cache's conversion.
#include <KokkosRope.hpp>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <type_traits>
#include <vector>

namespace {

using KokkosRope::bfloat16;
using KokkosRope::PairStyle;

float f(bfloat16 x) {
  return static_cast<float>(x);
}

// What rotate_pair computes for one pair, rounded as the portable bfloat16(float).
void model_pair(float c, float s, bfloat16 x1, bfloat16 x2, bfloat16& y1, bfloat16& y2) {
  y1 = bfloat16(std::fma(f(x1), c, -(f(x2) * s)));
  y2 = bfloat16(std::fma(f(x2), c, f(x1) * s));
}

// Random bf16 in [-2, 2], with about one element in eight replaced by a special value.
bfloat16 draw(std::mt19937& rng) {
  static const std::uint16_t specials[] = {
      0x7fc0, 0xffc0, 0x7fa5, 0xff81,  // quiet NaNs, with and without payload
      0x7f81, 0x7f80, 0xff80,          // a signalling NaN, +-infinity
      0x0001, 0x8003, 0x007f,          // denormals
      0x0080, 0x8080, 0x00c0,          // the smallest normals: halving them gives denormals
      0x7f7f, 0xff7f,                  // the largest finite values: rotation overflows them
      0x0000, 0x8000};
  std::uniform_int_distribution<int> pick(0, 7);
  if (pick(rng) == 0) {
    std::uniform_int_distribution<int> which(0, static_cast<int>(std::size(specials)) - 1);
    return bfloat16::from_bits(specials[which(rng)]);
  }
  std::uniform_real_distribution<float> value(-2.0f, 2.0f);
  return bfloat16(value(rng));
}

// `heads` head rows of 2 * pairs elements, `gap` elements apart (they must stay untouched), and
// the token's cos/sin.
struct Rows {
  int heads, pairs, stride;
  std::vector<bfloat16> x, y;
  std::vector<float> c, s;
};

Rows make_rows(int heads, int pairs, int gap, std::mt19937& rng) {
  Rows r{heads, pairs, 2 * pairs + gap, {}, {}, {}, {}};
  r.x.resize(static_cast<std::size_t>(heads) * r.stride);
  for (auto& v : r.x) v = draw(rng);
  r.y.assign(r.x.size(), bfloat16::from_bits(0x1234));
  std::uniform_real_distribution<float> angle(-3.2f, 3.2f);
  for (int i = 0; i < pairs; ++i) {
    const float a = i % 5 == 4 ? 0.0f : angle(rng);
    r.c.push_back(i % 7 == 3 ? 0.5f : std::cos(a));  // 0.5: denormal results from the smallest normals
    r.s.push_back(i % 7 == 3 ? 0.0f : std::sin(a));
  }
  return r;
}

// Index of pair i's first / second element in a row of `pairs` pairs.
int first(PairStyle style, int i, int /*pairs*/) {
  return style == PairStyle::interleaved ? 2 * i : i;
}
int second(PairStyle style, int i, int pairs) {
  return style == PairStyle::interleaved ? 2 * i + 1 : i + pairs;
}

void check_rows(PairStyle style, bool in_place) {
  std::mt19937 rng(20261201u + static_cast<unsigned>(style) * 2u + (in_place ? 1u : 0u));
  for (int heads : {1, 3})
    for (int pairs = 0; pairs <= 40; ++pairs)
      for (int trial = 0; trial < 10; ++trial) {
        Rows r = make_rows(heads, pairs, 6, rng);
        const std::vector<bfloat16> input = r.x;
        std::vector<bfloat16> expected = in_place ? r.x : r.y;
        for (int h = 0; h < heads; ++h)
          for (int i = 0; i < pairs; ++i) {
            const int e1 = h * r.stride + first(style, i, pairs), e2 = h * r.stride + second(style, i, pairs);
            model_pair(r.c[i], r.s[i], r.x[e1], r.x[e2], expected[e1], expected[e2]);
          }
        bfloat16* out = in_place ? r.x.data() : r.y.data();
        if (style == PairStyle::interleaved)
          KokkosRope::Impl::rotate_head_rows<PairStyle::interleaved>(
              r.x.data(), out, r.stride, r.stride, heads, r.c.data(), r.s.data(), pairs, 0, pairs);
        else
          KokkosRope::Impl::rotate_head_rows<PairStyle::half_split>(
              r.x.data(), out, r.stride, r.stride, heads, r.c.data(), r.s.data(), pairs, 0, pairs);
        for (std::size_t e = 0; e < expected.size(); ++e) {
          const int h = static_cast<int>(e) / r.stride, d = static_cast<int>(e) % r.stride;
          const int i = d >= 2 * pairs ? -1 : style == PairStyle::interleaved ? d / 2 : d % pairs;
          ASSERT_EQ(out[e].bits, expected[e].bits)
              << heads << " heads, " << pairs << " pairs, trial " << trial << ": head " << h << " element "
              << d << (i < 0 ? " (outside the rotary part)" : "") << ", inputs 0x" << std::hex
              << (i < 0 ? input[e].bits : input[h * r.stride + first(style, i, pairs)].bits) << ", 0x"
              << (i < 0 ? 0 : input[h * r.stride + second(style, i, pairs)].bits) << std::dec;
        }
        if (!in_place) {
          for (std::size_t e = 0; e < input.size(); ++e)
            ASSERT_EQ(r.x[e].bits, input[e].bits) << "an input was written";
        }
      }
}

TEST(HostSimd, CompiledForThisBuild) {
  EXPECT_TRUE(KokkosRope::Impl::host_avx512bf16_v)
      << "this executable is built with -mavx512bf16 -mavx512bw -mavx512dq -mavx512vl, so the AVX512-BF16 "
         "loops must be on";
}

TEST(HostSimd, HalfSplitInPlaceBitwise) {
  check_rows(PairStyle::half_split, true);
}
TEST(HostSimd, HalfSplitOutOfPlaceBitwise) {
  check_rows(PairStyle::half_split, false);
}
TEST(HostSimd, InterleavedInPlaceBitwise) {
  check_rows(PairStyle::interleaved, true);
}
TEST(HostSimd, InterleavedOutOfPlaceBitwise) {
  check_rows(PairStyle::interleaved, false);
}

// Pairs [first, first + count) of a row (the host-rows path's chunks): the other pairs stay untouched.
TEST(HostSimd, WritesOnlyItsPairs) {
  std::mt19937 rng(7u);
  for (PairStyle style : {PairStyle::half_split, PairStyle::interleaved}) {
    Rows r = make_rows(2, 48, 0, rng);
    const std::vector<bfloat16> input = r.x;
    if (style == PairStyle::interleaved)
      KokkosRope::Impl::rotate_head_rows<PairStyle::interleaved>(
          r.x.data(), r.x.data(), r.stride, r.stride, 2, r.c.data() + 5, r.s.data() + 5, 48, 5, 19);
    else
      KokkosRope::Impl::rotate_head_rows<PairStyle::half_split>(r.x.data(), r.x.data(), r.stride, r.stride, 2,
                                                                r.c.data() + 5, r.s.data() + 5, 48, 5, 19);
    int changed = 0;
    for (std::size_t e = 0; e < input.size(); ++e) {
      const int d = static_cast<int>(e) % r.stride;
      const int i = style == PairStyle::interleaved ? d / 2 : d % 48;
      if (i >= 5 && i < 24) {
        changed += r.x[e].bits != input[e].bits;
        continue;
      }
      EXPECT_EQ(r.x[e].bits, input[e].bits) << "element " << e << " is outside pairs [5, 24)";
    }
    EXPECT_GT(changed, 0) << "pairs [5, 24) were not rotated";
  }
}

// rotate_and_cache on a host space (host_rows): q in place, k rotated into the cache with the
// cache's head stride (NHD: the slot's rows are contiguous; HND: a block's head rows apart), v
// copied; partial and full rotary dims (masked and full steps), padding slots, bf16, float and fp8
// caches. `streaming`: enough tokens per thread that the cache rows take streaming stores where
// they are 64-byte aligned (dim 128; dim 80's 160-byte rows cannot). Expected: the scalar model
// per pair, the tail copied, then the cache's conversion (fp8: float8_e4m3(float(x) / scale)).
template <class C, class Order>
void check_rotate_and_cache(Order order, int rotary_dim, int dim = 128, bool streaming = false) {
  using Exec = Kokkos::DefaultHostExecutionSpace;
  using Mem = Exec::memory_space;
  constexpr int q_heads = 3, kv_heads = 2, block_size = 4, positions = 9;
  // Six tokens with hand-picked slots (token 1 padding), then, for `streaming`, the later tokens
  // in slots 20, 21, ... in reverse order.
  const std::int64_t later = streaming ? KokkosRope::Impl::streaming_min_tokens * Exec().concurrency() : 0;
  const int tokens = 6 + static_cast<int>(later);
  const int blocks = 5 + static_cast<int>((later + block_size - 1) / block_size);
  std::vector<std::int64_t> slot_of = {7, -1, 0, 19, 12, 5};
  for (int t = 6; t < tokens; ++t) slot_of.push_back(20 + (tokens - 1 - t));
  constexpr bool nhd = std::is_same_v<Order, KokkosRope::CacheNHD>;
  const int pairs = rotary_dim / 2;
  const float scale = std::is_same_v<C, KokkosRope::float8_e4m3> ? 0.75f : 1.0f;
  std::mt19937 rng(static_cast<unsigned>(rotary_dim) * 4u + (nhd ? 1u : 0u) + 2u * sizeof(C));
  using Rows3 = Kokkos::View<bfloat16***, Kokkos::LayoutRight, Mem>;
  Rows3 q("q", tokens, q_heads, dim), k("k", tokens, kv_heads, dim), v("v", tokens, kv_heads, dim);
  for (auto* t : {&q, &k, &v})
    for (std::size_t e = 0; e < t->size(); ++e) t->data()[e] = draw(rng);
  Kokkos::View<float**, Kokkos::LayoutRight, Mem> cos("cos", positions, pairs), sin("sin", positions, pairs);
  std::uniform_real_distribution<float> angle(-3.2f, 3.2f);
  for (int p = 0; p < positions; ++p)
    for (int i = 0; i < pairs; ++i) {
      const float a = angle(rng);
      cos(p, i) = i % 7 == 3 ? 0.5f : std::cos(a);
      sin(p, i) = i % 7 == 3 ? 0.0f : std::sin(a);
    }
  Kokkos::View<std::int64_t*, Mem> pos("positions", tokens), slots("slots", tokens);
  for (int t = 0; t < tokens; ++t) {
    pos(t) = (5 * t + 3) % positions;
    slots(t) = slot_of[t];
  }
  const auto cache_view = [&](const char* name) {
    return nhd ? Kokkos::View<C****, Kokkos::LayoutRight, Mem>(name, blocks, block_size, kv_heads, dim)
               : Kokkos::View<C****, Kokkos::LayoutRight, Mem>(name, blocks, kv_heads, block_size, dim);
  };
  auto k_cache = cache_view("k_cache"), v_cache = cache_view("v_cache");
  const auto at = [&](const auto& cache, std::int64_t slot, int h, int d) -> C& {
    const std::int64_t b = slot / block_size, o = slot % block_size;
    return nhd ? cache(b, o, h, d) : cache(b, h, o, d);
  };
  const C untouched = C(2.0f);
  Kokkos::deep_copy(k_cache, untouched);
  Kokkos::deep_copy(v_cache, untouched);

  // The model: rotate each head row as rotate_pair, rounded to bf16; the tail unchanged.
  const auto model_row = [&](const auto& x, int t, int h) {
    std::vector<bfloat16> row(dim);
    for (int d = 0; d < dim; ++d) row[d] = x(t, h, d);
    for (int i = 0; i < pairs; ++i)
      model_pair(cos(pos(t), i), sin(pos(t), i), x(t, h, i), x(t, h, i + pairs), row[i], row[i + pairs]);
    return row;
  };
  const auto stored = [&](bfloat16 x) -> C {  // a copy for bf16 (NaN payloads kept), else a conversion
    if constexpr (std::is_same_v<C, bfloat16>)
      return x;
    else
      return std::is_same_v<C, KokkosRope::float8_e4m3> ? C(f(x) / scale) : C(f(x));
  };
  std::vector<std::vector<bfloat16>> q_expected, k_expected;
  for (int t = 0; t < tokens; ++t) {
    for (int h = 0; h < q_heads; ++h) q_expected.push_back(model_row(q, t, h));
    for (int h = 0; h < kv_heads; ++h) k_expected.push_back(model_row(k, t, h));
  }

  KokkosRope::RotateOptions options;
  options.kernel_path = KokkosRope::KernelPath::host_rows;
  KokkosRope::rotate_and_cache(Exec(), KokkosRope::packed(), q, k, v,
                               KokkosRope::paged_kv_cache(order, k_cache, v_cache, scale, scale),
                               KokkosRope::slot_mapping(slots), KokkosRope::CosSinViews(cos, sin),
                               KokkosRope::token_positions(pos), options);
  Exec().fence();

  const auto bits = [](const auto& x) {
    if constexpr (std::is_same_v<std::decay_t<decltype(x)>, float>)
      return Kokkos::bit_cast<std::uint32_t>(x);
    else
      return static_cast<std::uint32_t>(x.bits);
  };
  for (int t = 0; t < tokens; ++t) {
    for (int h = 0; h < q_heads; ++h)
      for (int d = 0; d < dim; ++d)
        ASSERT_EQ(q(t, h, d).bits, q_expected[t * q_heads + h][d].bits)
            << "q token " << t << " head " << h << " element " << d;
    if (slot_of[t] < 0) continue;
    for (int h = 0; h < kv_heads; ++h)
      for (int d = 0; d < dim; ++d) {
        ASSERT_EQ(bits(at(k_cache, slot_of[t], h, d)), bits(stored(k_expected[t * kv_heads + h][d])))
            << "k cache, token " << t << " head " << h << " element " << d;
        ASSERT_EQ(bits(at(v_cache, slot_of[t], h, d)), bits(stored(v(t, h, d))))
            << "v cache, token " << t << " head " << h << " element " << d;
      }
  }
  // Slots no token writes (the padding token's included) keep their contents.
  for (std::int64_t slot = 0; slot < blocks * block_size; ++slot) {
    bool written = false;
    for (int t = 0; t < tokens; ++t) written = written || slot_of[t] == slot;
    if (written) continue;
    for (int h = 0; h < kv_heads; ++h)
      for (int d = 0; d < dim; ++d) {
        ASSERT_EQ(bits(at(k_cache, slot, h, d)), bits(untouched)) << "k cache slot " << slot << " written";
        ASSERT_EQ(bits(at(v_cache, slot, h, d)), bits(untouched)) << "v cache slot " << slot << " written";
      }
  }
}

TEST(HostSimd, RotateAndCacheBf16CacheBitwise) {
  for (int rotary_dim : {96, 128}) {
    check_rotate_and_cache<bfloat16>(KokkosRope::cache_nhd, rotary_dim);
    check_rotate_and_cache<bfloat16>(KokkosRope::cache_hnd, rotary_dim);
  }
  check_rotate_and_cache<bfloat16>(KokkosRope::cache_nhd, 64, 80);
  check_rotate_and_cache<bfloat16>(KokkosRope::cache_hnd, 80, 80);
}
TEST(HostSimd, RotateAndCacheStreamingBitwise) {
  for (int rotary_dim : {96, 128}) {
    check_rotate_and_cache<bfloat16>(KokkosRope::cache_nhd, rotary_dim, 128, true);
    check_rotate_and_cache<bfloat16>(KokkosRope::cache_hnd, rotary_dim, 128, true);
    check_rotate_and_cache<float>(KokkosRope::cache_nhd, rotary_dim, 128, true);
    check_rotate_and_cache<KokkosRope::float8_e4m3>(KokkosRope::cache_hnd, rotary_dim, 128, true);
  }
  check_rotate_and_cache<bfloat16>(KokkosRope::cache_nhd, 64, 80, true);
}
TEST(HostSimd, RotateAndCacheFloatCacheBitwise) {
  check_rotate_and_cache<float>(KokkosRope::cache_nhd, 96);
  check_rotate_and_cache<float>(KokkosRope::cache_hnd, 128);
}
TEST(HostSimd, RotateAndCacheFp8CacheBitwise) {
  for (int rotary_dim : {96, 128}) {
    check_rotate_and_cache<KokkosRope::float8_e4m3>(KokkosRope::cache_nhd, rotary_dim);
    check_rotate_and_cache<KokkosRope::float8_e4m3>(KokkosRope::cache_hnd, rotary_dim);
  }
}

}  // namespace
