// SPDX-License-Identifier: Apache-2.0
// Every parameter that can be wrong: its exception and a message naming the field.
#include <KokkosRope/Frequencies.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "ErrorMatchers.hpp"
#include <KokkosRopeTesting_Models.hpp>

using namespace KokkosRope;

namespace {
// Llama 3.1's geometry without its scaling.
Params base() {
  Params p = KokkosRopeTesting::llama31();
  p.scaling = NoScaling{};
  return p;
}
Params with(Scaling s) {
  Params p = base();
  p.scaling = std::move(s);
  return p;
}
constexpr double inf = std::numeric_limits<double>::infinity();
const double not_a_number = std::nan("");
}  // namespace

TEST(Params, DefaultsAreValid) {
  EXPECT_NO_THROW(base().validate());
  EXPECT_NO_THROW(with(Llama3Scaling{}).validate());
}

TEST(Params, Geometry) {
  Params p = base();
  p.theta = 0.0;
  KOKKOSROPE_EXPECT_INVALID(p.validate(), "invalid theta = 0");
  p.theta = -10000.0;
  KOKKOSROPE_EXPECT_INVALID(p.validate(), "invalid theta = -10000");
  p.theta = not_a_number;
  KOKKOSROPE_EXPECT_INVALID(p.validate(), "theta = nan: must be finite");
  p.theta = inf;
  KOKKOSROPE_EXPECT_INVALID(p.validate(), "theta = inf: must be finite");
  p = base();
  p.rotary_dim = 63;
  KOKKOSROPE_EXPECT_INVALID(p.validate(), "rotary_dim = 63: must be even");
  p.rotary_dim = 130;
  KOKKOSROPE_EXPECT_INVALID(p.validate(), "rotary_dim = 130: must be <= head_dim (128)");
  p.rotary_dim = 0;
  KOKKOSROPE_EXPECT_INVALID(p.validate(), "rotary_dim = 0");
  p = base();
  p.head_dim = -1;
  KOKKOSROPE_EXPECT_INVALID(p.validate(), "head_dim = -1");
  p = base();
  p.max_position_embeddings = 0;
  KOKKOSROPE_EXPECT_INVALID(p.validate(), "max_position_embeddings = 0");
  p = base();
  KOKKOSROPE_EXPECT_INVALID(p.set_partial_rotary_factor(1.5), "partial_rotary_factor = 1.5");
  KOKKOSROPE_EXPECT_INVALID(p.set_partial_rotary_factor(0.0), "partial_rotary_factor = 0");
  KOKKOSROPE_EXPECT_INVALID(p.set_partial_rotary_factor(not_a_number), "partial_rotary_factor = nan");
}

TEST(Params, FactorsBelowOne) {
  KOKKOSROPE_EXPECT_INVALID(with(LinearScaling{0.5}).validate(), "linear.factor = 0.5: a scaling factor must be >= 1");
  KOKKOSROPE_EXPECT_INVALID(with(NtkScaling{0.9}).validate(), "ntk.factor = 0.9");
  KOKKOSROPE_EXPECT_INVALID(with(DynamicNtkScaling{-2}).validate(), "dynamic.factor = -2");
  YarnScaling y;
  y.factor = 0.25;
  KOKKOSROPE_EXPECT_INVALID(with(y).validate(), "yarn.factor = 0.25");
  KOKKOSROPE_EXPECT_INVALID((with(Llama3Scaling{0.0, 1, 4, 8192}).validate()), "llama3.factor = 0");
  KOKKOSROPE_EXPECT_INVALID(with(LinearScaling{not_a_number}).validate(), "linear.factor = nan: must be finite");
  KOKKOSROPE_EXPECT_INVALID(with(LinearScaling{inf}).validate(), "linear.factor = inf: must be finite");
}

// low_freq_factor >= high_freq_factor is computed as the reference does (Llama 4 Scout: low =
// high = 1): no blend, a step between kept and divided pairs. Only a wavelength exactly on the
// step with low == high would be NaN there (docs/errors.md P33).
TEST(Params, Llama3BandFactors) {
  for (const Llama3Scaling s : {Llama3Scaling{8, 4, 4, 8192}, Llama3Scaling{8, 5, 4, 8192}}) {
    const Params p = with(s);
    EXPECT_NO_THROW(p.validate());
    const auto f = compute_frequencies(p);
    const auto plain = compute_frequencies(with(NoScaling{}));
    for (std::size_t i = 0; i < f.inv_freq.size(); ++i) {
      const bool divided = 2 * M_PI / plain.inv_freq[i] > 8192.0 / s.low_freq_factor;
      EXPECT_EQ(f.inv_freq[i], divided ? plain.inv_freq[i] / 8 : plain.inv_freq[i]) << i;
    }
  }
  KOKKOSROPE_EXPECT_INVALID((with(Llama3Scaling{8, 0, 4, 8192}).validate()), "llama3.low_freq_factor = 0: must be > 0");
  KOKKOSROPE_EXPECT_INVALID((with(Llama3Scaling{8, 1, 4, 0}).validate()),
                            "llama3.original_max_position_embeddings = 0");
}

TEST(Params, Yarn) {
  // A valid YaRN block (factor 4) with one field made invalid by `spoil`.
  auto yarn_with = [](auto spoil) {
    YarnScaling y;
    y.factor = 4;
    spoil(y);
    return with(y);
  };
  KOKKOSROPE_EXPECT_INVALID(yarn_with([](YarnScaling& y) { y.beta_fast = 1; y.beta_slow = 32; }).validate(),
                            "yarn.beta_fast = 1: must be >= beta_slow");
  KOKKOSROPE_EXPECT_INVALID(yarn_with([](YarnScaling& y) { y.beta_slow = 0; }).validate(),
                            "yarn.beta_slow = 0: must be > 0");
  KOKKOSROPE_EXPECT_INVALID(yarn_with([](YarnScaling& y) { y.original_max_position_embeddings = -5; }).validate(),
                            "yarn.original_max_position_embeddings = -5");
  KOKKOSROPE_EXPECT_INVALID(yarn_with([](YarnScaling& y) { y.attention_factor = 0; }).validate(),
                            "yarn.attention_factor = 0");
  KOKKOSROPE_EXPECT_INVALID(yarn_with([](YarnScaling& y) { y.mscale = not_a_number; }).validate(), "yarn.mscale = nan");
}

TEST(Params, LongRopeLists) {
  LongRopeScaling l;
  l.short_factor.assign(63, 1.0);
  l.long_factor.assign(64, 1.0);
  KOKKOSROPE_EXPECT_INVALID(with(l).validate(), "longrope.short_factor = list of 63: needs rotary_dim / 2 = 64 entries");
  l.short_factor.assign(64, 1.0);
  l.long_factor.assign(65, 1.0);
  KOKKOSROPE_EXPECT_INVALID(with(l).validate(), "longrope.long_factor = list of 65");
  l.long_factor.assign(64, 1.0);
  l.long_factor[7] = not_a_number;
  KOKKOSROPE_EXPECT_INVALID(with(l).validate(), "longrope.long_factor[7] = nan");
  l.long_factor[7] = -1.0;
  KOKKOSROPE_EXPECT_INVALID(with(l).validate(), "longrope.long_factor[7] = -1: must be > 0");
  l.long_factor[7] = 1.0;
  l.factor = 0.0;
  KOKKOSROPE_EXPECT_INVALID(with(l).validate(), "longrope.factor = 0");
}

TEST(Params, NtkNeedsMoreThanOnePair) {
  Params p = with(NtkScaling{2.0});
  p.head_dim = p.rotary_dim = 2;
  KOKKOSROPE_EXPECT_INVALID(p.validate(), "rotary_dim = 2: NTK scaling needs rotary_dim > 2");
}

TEST(Params, NegativeSequenceLength) {
  KOKKOSROPE_EXPECT_INVALID(compute_frequencies(with(DynamicNtkScaling{2.0}), -1), "seq_len = -1");
}

TEST(Params, RopeTypeNames) {
  EXPECT_EQ(rope_type_name(NoScaling{}), "default");
  EXPECT_EQ(rope_type_name(Llama3Scaling{}), "llama3");
  EXPECT_EQ(rope_type_name(YarnScaling{}), "yarn");
  EXPECT_EQ(rope_type_name(LongRopeScaling{}), "longrope");
  EXPECT_EQ(rope_type_name(DynamicNtkScaling{}), "dynamic");
  EXPECT_EQ(rope_type_name(NtkScaling{}), "ntk");
  EXPECT_EQ(rope_type_name(LinearScaling{}), "linear");
}
