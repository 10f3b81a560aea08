// SPDX-License-Identifier: Apache-2.0
// Every scaling kind against the long-double formulas of KokkosRopeTesting_Reference.hpp, over several
// configurations each, band edges included.
#include <KokkosRope/Frequencies.hpp>

#include <gtest/gtest.h>

#include <cmath>

#include <KokkosRopeTesting_Models.hpp>
#include <KokkosRopeTesting_Reference.hpp>

using namespace KokkosRope;
using KokkosRopeTesting::ld;

namespace {

Params make(int dim, double theta, Scaling scaling, std::int64_t max_pos = 131072) {
  Params p;
  p.head_dim = p.rotary_dim = dim;
  p.theta = theta;
  p.max_position_embeddings = max_pos;
  p.scaling = std::move(scaling);
  return p;
}

// Relative agreement with the long-double value: a few double ulps.
void expect_close(const std::vector<double>& got, const std::vector<ld>& want, const char* what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  for (std::size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i] / double(want[i]), 1.0, 1e-14) << what << " pair " << i << ": " << got[i] << " vs "
                                                       << double(want[i]);
}

struct Geometry {
  int dim;
  double theta;
};
const Geometry geometries[] = {{128, 500000.0}, {64, 10000.0}, {96, 1e6}, {80, 150000.0}, {256, 10000.0}};

}  // namespace

TEST(Frequencies, Plain) {
  for (auto g : geometries)
    expect_close(compute_frequencies(make(g.dim, g.theta, NoScaling{})).inv_freq,
                 KokkosRopeTesting::ref_plain(g.theta, g.dim), "plain");
  EXPECT_EQ(compute_frequencies(make(64, 10000.0, NoScaling{})).attention_factor, 1.0);
}

TEST(Frequencies, Linear) {
  for (auto g : geometries)
    for (double factor : {1.0, 2.0, 4.0, 8.5})
      expect_close(compute_frequencies(make(g.dim, g.theta, LinearScaling{factor})).inv_freq,
                   KokkosRopeTesting::ref_linear(g.theta, g.dim, factor), "linear");
}

TEST(Frequencies, StaticNtk) {
  for (auto g : geometries)
    for (double factor : {1.0, 2.0, 8.0}) {
      const auto p = make(g.dim, g.theta, NtkScaling{factor});
      expect_close(compute_frequencies(p).inv_freq, KokkosRopeTesting::ref_ntk(g.theta, g.dim, factor), "ntk");
      EXPECT_NEAR(effective_theta(p) / (g.theta * std::pow(factor, g.dim / (g.dim - 2.0))), 1.0, 1e-15);
    }
}

TEST(Frequencies, DynamicNtkFollowsSequenceLength) {
  for (auto g : geometries)
    for (std::int64_t seq : {std::int64_t(1), std::int64_t(2048), std::int64_t(4096), std::int64_t(6000),
                             std::int64_t(12345), std::int64_t(1) << 21}) {
      const auto p = make(g.dim, g.theta, DynamicNtkScaling{2.0}, 4096);
      expect_close(compute_frequencies(p, seq).inv_freq,
                   KokkosRopeTesting::ref_dynamic(g.theta, g.dim, 2.0, 4096, seq), "dynamic");
    }
  // No sequence length: the reference's initial state, L = max_position_embeddings (no change).
  const auto p = make(64, 10000.0, DynamicNtkScaling{4.0}, 4096);
  expect_close(compute_frequencies(p).inv_freq, KokkosRopeTesting::ref_plain(10000.0, 64), "dynamic initial");
}

TEST(Frequencies, Llama3AcrossConfigurations) {
  struct Case {
    int dim;
    double theta, factor, low, high;
    std::int64_t original;
  };
  const Case cases[] = {{128, 500000.0, 8.0, 1.0, 4.0, 8192},   // Llama 3.1
                        {64, 500000.0, 32.0, 1.0, 4.0, 8192},   // Llama 3.2 1B
                        {128, 10000.0, 8.0, 1.0, 4.0, 8192},    // the seed's worked example
                        {128, 500000.0, 4.0, 2.0, 3.0, 4096},
                        {96, 1e6, 16.0, 0.5, 8.0, 16384}};
  for (const auto& c : cases) {
    Llama3Scaling s{c.factor, c.low, c.high, c.original};
    const auto f = compute_frequencies(make(c.dim, c.theta, s));
    expect_close(f.inv_freq, KokkosRopeTesting::ref_llama3(c.theta, c.dim, c.factor, c.low, c.high, ld(c.original)),
                 "llama3");
    EXPECT_EQ(f.attention_factor, 1.0);
  }
}

// The worked example of the seed and of Llama 3.1 8B: pairs 0-28 kept, 29-34 blended with
// effective divisors 1.207 ... 5.257, 35-63 divided by 8.
TEST(Frequencies, Llama31BandsAndDivisors) {
  const auto p = KokkosRopeTesting::llama31();
  const auto bands = compute_bands(p);
  const auto scaled = compute_frequencies(p).inv_freq;
  const auto plain = KokkosRopeTesting::ref_plain(p.theta, p.head_dim);
  const double divisors[] = {1.2075, 1.5534, 2.0263, 2.6945, 3.6843, 5.2573};
  for (int i = 0; i < 64; ++i) {
    const double divisor = double(plain[i]) / scaled[i];
    if (i <= 28) {
      EXPECT_EQ(bands[i], Band::kept) << i;
      EXPECT_NEAR(divisor, 1.0, 1e-14) << i;
    } else if (i <= 34) {
      EXPECT_EQ(bands[i], Band::blended) << i;
      EXPECT_NEAR(divisor, divisors[i - 29], 5e-5) << i;
    } else {
      EXPECT_EQ(bands[i], Band::scaled) << i;
      EXPECT_NEAR(divisor, 8.0, 1e-13) << i;
    }
  }
}

// At the band edges the blend is continuous: a wavelength exactly at original/high keeps the
// frequency (smooth = 1) and exactly at original/low divides by factor (smooth = 0).
TEST(Frequencies, Llama3BandEdgesAreContinuous) {
  // theta chosen so that pair 1's wavelength 2 pi theta^(2/dim) equals original / high exactly
  // in exact arithmetic: theta = (original / (high * 2 pi))^(dim / 2).
  const int dim = 4;
  const double original = 8192.0;
  for (double edge_divisor : {4.0, 1.0}) {  // the high edge, then the low edge
    const double wavelength = original / edge_divisor;
    const double theta = std::pow(wavelength / (2 * M_PI), dim / 2.0);
    const auto p = make(dim, theta, Llama3Scaling{8.0, 1.0, 4.0, 8192});
    const double f = compute_frequencies(p).inv_freq[1];
    const double plain = 2 * M_PI / wavelength;
    const double expected = edge_divisor == 4.0 ? plain : plain / 8.0;
    EXPECT_NEAR(f / expected, 1.0, 1e-9) << "edge at wavelength " << wavelength;
  }
}

TEST(Frequencies, YarnAcrossConfigurations) {
  auto yarn = [](double factor, std::int64_t original, double beta_fast, double beta_slow, bool truncate) {
    YarnScaling s;
    s.factor = factor;
    s.original_max_position_embeddings = original;
    s.beta_fast = beta_fast;
    s.beta_slow = beta_slow;
    s.truncate = truncate;
    return s;
  };
  struct Case {
    int dim;
    double theta;
    YarnScaling s;
  };
  const Case cases[] = {{64, 150000.0, yarn(32.0, 4096, 32, 1, false)},   // GPT-OSS
                        {128, 1e6, yarn(4.0, 32768, 32, 1, true)},        // Qwen 2.5
                        {128, 500000.0, yarn(16.0, 8192, 32, 1, true)},   // Llama-like
                        {128, 10000.0, yarn(8.0, 4096, 64, 2, true)},
                        {96, 10000.0, yarn(2.0, 2048, 32, 1, false)}};
  for (const auto& [dim, theta, s] : cases) {
    const auto p = make(dim, theta, s);
    const auto ref = KokkosRopeTesting::ref_yarn(theta, dim, s.factor, ld(*s.original_max_position_embeddings),
                                                 s.beta_fast, s.beta_slow, s.truncate);
    const auto f = compute_frequencies(p);
    expect_close(f.inv_freq, ref.inv_freq, "yarn");
    EXPECT_NEAR(f.attention_factor, double(ref.attention), 1e-15);
    const auto range = yarn_correction_range(p);
    EXPECT_NEAR(range.low, double(ref.low), 1e-12);
    EXPECT_NEAR(range.high, double(ref.high), 1e-12);
  }
}

// The worked values of the research notes: GPT-OSS 8.0928 .. 17.398, mscale 1.3466.
TEST(Frequencies, YarnGptOssWorkedValues) {
  YarnScaling s;
  s.factor = 32.0;
  s.original_max_position_embeddings = 4096;
  s.truncate = false;
  const auto p = make(64, 150000.0, s);
  const auto range = yarn_correction_range(p);
  EXPECT_NEAR(range.low, 8.0928, 1e-4);
  EXPECT_NEAR(range.high, 17.398, 1e-3);
  EXPECT_NEAR(compute_frequencies(p).attention_factor, 1.3466, 1e-4);
}

TEST(Frequencies, YarnAttentionFactorRules) {
  YarnScaling s;
  s.factor = 16.0;
  s.original_max_position_embeddings = 8192;
  const auto with = [&](YarnScaling y) { return compute_frequencies(make(128, 500000.0, y)).attention_factor; };
  EXPECT_NEAR(with(s), 0.1 * std::log(16.0) + 1.0, 1e-15);
  YarnScaling m = s;
  m.mscale = 0.707;
  m.mscale_all_dim = 0.707;  // DeepSeek-V3 style: the ratio is 1
  EXPECT_NEAR(with(m), 1.0, 1e-15);
  m.mscale = 1.0;
  m.mscale_all_dim = 0.5;
  EXPECT_NEAR(with(m), (0.1 * std::log(16.0) + 1.0) / (0.05 * std::log(16.0) + 1.0), 1e-15);
  m.mscale_all_dim = std::nullopt;  // mscale alone is ignored, as in the reference
  EXPECT_NEAR(with(m), 0.1 * std::log(16.0) + 1.0, 1e-15);
  YarnScaling e = s;
  e.attention_factor = 1.4159;
  EXPECT_EQ(with(e), 1.4159);
}

TEST(Frequencies, LongRopeSwitchesAtOriginalContext) {
  for (int dim : {96, 64}) {
    LongRopeScaling s;
    for (int i = 0; i < dim / 2; ++i) {
      s.short_factor.push_back(1.0 + 0.05 * i);
      s.long_factor.push_back(1.0 + 2.0 * i);
    }
    s.original_max_position_embeddings = 4096;
    const auto p = make(dim, 10000.0, s, 131072);
    const auto short_ref = KokkosRopeTesting::ref_longrope(10000.0, dim, s.short_factor);
    const auto long_ref = KokkosRopeTesting::ref_longrope(10000.0, dim, s.long_factor);
    expect_close(compute_frequencies(p).inv_freq, short_ref, "longrope initial");
    expect_close(compute_frequencies(p, 4096).inv_freq, short_ref, "longrope at original");
    expect_close(compute_frequencies(p, 4097).inv_freq, long_ref, "longrope past original");
    const double factor = 131072.0 / 4096.0;
    EXPECT_NEAR(compute_frequencies(p, 4097).attention_factor,
                std::sqrt(1.0 + std::log(factor) / std::log(4096.0)), 1e-15);
    LongRopeScaling explicit_factor = s;
    explicit_factor.factor = 1.0;
    EXPECT_EQ(compute_frequencies(make(dim, 10000.0, explicit_factor, 131072)).attention_factor, 1.0);
  }
}

TEST(Frequencies, PartialRotaryUsesRotaryDim) {
  Params p = make(96, 10000.0, NoScaling{});
  p.set_partial_rotary_factor(0.25);
  EXPECT_EQ(p.rotary_dim, 24);
  expect_close(compute_frequencies(p).inv_freq, KokkosRopeTesting::ref_plain(10000.0, 24), "partial");
}

// The float32 replay agrees with the double formulas to float precision.
TEST(Frequencies, HfReplayWithinFloatPrecision) {
  YarnScaling y;
  y.factor = 4.0;
  y.original_max_position_embeddings = 32768;
  const Scaling kinds[] = {NoScaling{}, LinearScaling{4.0}, NtkScaling{2.0}, DynamicNtkScaling{2.0}, y,
                           Llama3Scaling{8.0, 1.0, 4.0, 8192}};
  for (const auto& k : kinds) {
    const auto p = make(128, 500000.0, k);
    const auto exact = compute_frequencies(p, 200000);
    const auto hf = compute_hf_frequencies(p, 200000);
    for (std::size_t i = 0; i < exact.inv_freq.size(); ++i)
      EXPECT_NEAR(hf.inv_freq[i] / exact.inv_freq[i], 1.0, 4e-7) << rope_type_name(k) << " pair " << i;
    EXPECT_NEAR(hf.attention_factor, exact.attention_factor, 1e-7);
  }
}
