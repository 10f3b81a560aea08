// SPDX-License-Identifier: Apache-2.0
// The bfloat16 host-rows loops with AVX512-BF16 (impl/KokkosRope_HostSimd.hpp), in the test
// executable built for that ISA. Each loop is compared bit for bit with a scalar model of the same
// arithmetic (one fused multiply-add per output, then the portable round-to-nearest-even), on
// inputs that include what the conversion instruction treats differently: denormal results, NaNs
// with payloads, infinities and overflow. Row lengths 0..40 cover full and masked steps, on one and
// on three head rows (cos/sin loaded once for all heads), with gaps between rows left untouched.
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

}  // namespace
