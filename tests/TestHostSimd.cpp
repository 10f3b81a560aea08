// SPDX-License-Identifier: Apache-2.0
// The bfloat16 host-rows loops with AVX512-BF16 (impl/KokkosRope_HostSimd.hpp), in the test
// executable built for that ISA. Each loop is compared bit for bit with a scalar model of the same
// arithmetic (one fused multiply-add per output, then the portable round-to-nearest-even), on
// inputs that include what the conversion instruction treats differently: denormal results, NaNs
// with payloads, infinities and overflow. Row lengths 0..40 cover full and masked steps.
#include <KokkosRope.hpp>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <random>
#include <vector>

namespace {

using KokkosRope::bfloat16;
using KokkosRope::PairStyle;

float f(bfloat16 x) { return static_cast<float>(x); }

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

struct Row {
  std::vector<bfloat16> x, y;
  std::vector<float> c, s;
};

Row make_row(int pairs, std::mt19937& rng) {
  Row r;
  r.x.resize(2 * pairs);
  for (auto& v : r.x) v = draw(rng);
  r.y.assign(2 * pairs, bfloat16::from_bits(0x1234));
  std::uniform_real_distribution<float> angle(-3.2f, 3.2f);
  for (int i = 0; i < pairs; ++i) {
    const float a = i % 5 == 4 ? 0.0f : angle(rng);
    r.c.push_back(i % 7 == 3 ? 0.5f : std::cos(a));  // 0.5: denormal results from the smallest normals
    r.s.push_back(i % 7 == 3 ? 0.0f : std::sin(a));
  }
  return r;
}

// Indices of pair i's two elements in a row of `pairs` pairs.
int first(PairStyle style, int i, int /*pairs*/) { return style == PairStyle::interleaved ? 2 * i : i; }
int second(PairStyle style, int i, int pairs) { return style == PairStyle::interleaved ? 2 * i + 1 : i + pairs; }

void check_rows(PairStyle style, bool in_place) {
  std::mt19937 rng(20261201u + static_cast<unsigned>(style) * 2u + (in_place ? 1u : 0u));
  for (int pairs = 0; pairs <= 40; ++pairs)
    for (int trial = 0; trial < 20; ++trial) {
      Row r = make_row(pairs, rng);
      std::vector<bfloat16> expected(2 * pairs);
      for (int i = 0; i < pairs; ++i)
        model_pair(r.c[i], r.s[i], r.x[first(style, i, pairs)], r.x[second(style, i, pairs)],
                   expected[first(style, i, pairs)], expected[second(style, i, pairs)]);
      const std::vector<bfloat16> input = r.x;
      bfloat16* out = in_place ? r.x.data() : r.y.data();
      if (style == PairStyle::interleaved)
        KokkosRope::Impl::rotate_row_pairs<PairStyle::interleaved>(r.x.data(), out, r.c.data(), r.s.data(), pairs,
                                                                   0, pairs);
      else
        KokkosRope::Impl::rotate_row_pairs<PairStyle::half_split>(r.x.data(), out, r.c.data(), r.s.data(), pairs, 0,
                                                                  pairs);
      for (int e = 0; e < 2 * pairs; ++e) {
        const int i = style == PairStyle::interleaved ? e / 2 : e % pairs;
        ASSERT_EQ(out[e].bits, expected[e].bits)
            << "pairs " << pairs << " trial " << trial << " element " << e << ": inputs 0x" << std::hex
            << input[first(style, i, pairs)].bits << ", 0x" << input[second(style, i, pairs)].bits << std::dec
            << ", cos " << r.c[i] << ", sin " << r.s[i];
      }
      if (!in_place) {
        for (int e = 0; e < 2 * pairs; ++e) ASSERT_EQ(r.x[e].bits, input[e].bits) << "the input row was written";
      }
    }
}

TEST(HostSimd, CompiledForThisBuild) {
  EXPECT_TRUE(KokkosRope::Impl::host_avx512bf16_v)
      << "this executable is built with -mavx512bf16 -mavx512bw -mavx512dq -mavx512vl, so the AVX512-BF16 loops must be on";
}

TEST(HostSimd, HalfSplitInPlaceBitwise) { check_rows(PairStyle::half_split, true); }
TEST(HostSimd, HalfSplitOutOfPlaceBitwise) { check_rows(PairStyle::half_split, false); }
TEST(HostSimd, InterleavedInPlaceBitwise) { check_rows(PairStyle::interleaved, true); }
TEST(HostSimd, InterleavedOutOfPlaceBitwise) { check_rows(PairStyle::interleaved, false); }

// The unrotated half of a partial row (pairs [first, first + count) of `half`) stays untouched.
TEST(HostSimd, WritesOnlyItsPairs) {
  std::mt19937 rng(7u);
  constexpr int half = 48;
  Row r = make_row(half, rng);
  const std::vector<bfloat16> input = r.x;
  KokkosRope::Impl::rotate_row_pairs<PairStyle::half_split>(r.x.data(), r.x.data(), r.c.data() + 5, r.s.data() + 5,
                                                            half, 5, 19);
  for (int e = 0; e < 2 * half; ++e) {
    const int i = e % half;
    if (i >= 5 && i < 24) continue;
    EXPECT_EQ(r.x[e].bits, input[e].bits) << "element " << e << " is outside pairs [5, 24)";
  }
}

}  // namespace
