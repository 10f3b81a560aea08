// SPDX-License-Identifier: Apache-2.0
// cos/sin accuracy at long context: the accurate mode within 1e-6 of the exact value (inv_freq in
// double, angle in long double) for positions up to 2^21, in tables and on the fly, where the
// common recipe (fp32 inv_freq, one fp32 product) loses ~1e-2 at p = 131072. Prints the
// measured errors per configuration (see the issue note).
#include "TestCategory.hpp"
#include "KernelProbe.hpp"

#include <KokkosRope.hpp>

#include <cmath>
#include <cstdio>

#include "ErrorMatchers.hpp"
#include <KokkosRopeTesting_Models.hpp>
#include <KokkosRopeTesting_Reference.hpp>

using namespace KokkosRope;
using KokkosRopeTesting::ld;

namespace {

struct NamedParams {
  const char* name;
  Params params;
};

std::vector<NamedParams> configurations() {
  std::vector<NamedParams> out;
  const std::string dir = std::string(KOKKOSROPE_TEST_DATA_DIR) + "/configs/";
  for (const char* name : {"llama3.1-8b", "qwen2.5-yarn", "gpt-oss-yarn", "phi3-longrope", "gpt-neox"})
    out.push_back({name, load_hf_config(dir + name + ".json").params});
  Params plain;
  plain.head_dim = plain.rotary_dim = 128;
  plain.theta = 10000.0;
  out.push_back({"plain-10000-128", plain});
  return out;
}

// Positions 0 .. 2^21 - 1: dense near the ends that matter, log-spaced in between.
std::vector<std::int64_t> sample_positions() {
  std::vector<std::int64_t> p;
  for (std::int64_t i = 0; i < 64; ++i) p.push_back(i);
  for (double x = 64; x < (1 << 21); x *= 1.05) p.push_back(static_cast<std::int64_t>(x));
  for (std::int64_t i = 0; i < 64; ++i) p.push_back((std::int64_t(1) << 21) - 1 - i);
  p.push_back(131072);
  return p;
}

struct Errors {
  double accurate = 0, hf = 0, recipe = 0, recipe_at_131072 = 0;
};

}  // namespace

template <class Space>
class TableAccuracy : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(TableAccuracy);

TYPED_TEST(TableAccuracy, AccurateModeWithin1e6UpTo2pow21) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  const auto positions = sample_positions();
  std::printf("%-18s %14s %14s %14s %16s\n", "config", "accurate", "hf_compatible", "common recipe",
              "recipe@131072");
  for (const auto& [name, params] : configurations()) {
    // LongRoPE and dynamic NTK at a long sequence: the long factors.
    const std::int64_t seq_len = std::int64_t(1) << 21;
    const auto exact = compute_frequencies(params, seq_len);
    const auto hf_freq = compute_hf_frequencies(params, seq_len);
    const auto accurate = KokkosRopeTest::probe_cos_sin(space, OnTheFly<Memory>(space, params, Precision::accurate, seq_len), positions);
    const auto hf = KokkosRopeTest::probe_cos_sin(space, OnTheFly<Memory>(space, params, Precision::hf_compatible, seq_len), positions);
    Errors e;
    for (std::size_t t = 0; t < positions.size(); ++t)
      for (std::size_t i = 0; i < exact.inv_freq.size(); ++i) {
        ld c, s;
        KokkosRopeTesting::ref_cos_sin(positions[t], exact.inv_freq[i], c, s);
        c *= exact.attention_factor;
        s *= exact.attention_factor;
        auto err = [&](double gc, double gs) {
          return std::max(std::fabs(double(gc - c)), std::fabs(double(gs - s)));
        };
        e.accurate = std::max(e.accurate, err(accurate.cos[t][i], accurate.sin[t][i]));
        e.hf = std::max(e.hf, err(hf.cos[t][i], hf.sin[t][i]));
        // The common recipe: float32 inv_freq, one float32 product, float trigonometry.
        const float angle = static_cast<float>(positions[t]) * static_cast<float>(exact.inv_freq[i]);
        const float a = static_cast<float>(exact.attention_factor);
        const double recipe = err(std::cos(angle) * a, std::sin(angle) * a);
        e.recipe = std::max(e.recipe, recipe);
        if (positions[t] == 131072) e.recipe_at_131072 = std::max(e.recipe_at_131072, recipe);
        (void)hf_freq;
      }
    std::printf("%-18s %14.3e %14.3e %14.3e %16.3e\n", name, e.accurate, e.hf, e.recipe, e.recipe_at_131072);
    EXPECT_LT(e.accurate, 1e-6) << name;
    // The recipe's loss is real at this context length: four orders of magnitude above accurate.
    EXPECT_GT(e.recipe, 1e4 * e.accurate) << name;
  }
}

// The whole table for 2^21 positions (a small rotary_dim keeps it at 128 MB), checked at
// sampled positions, in float and in double.
TYPED_TEST(TableAccuracy, FullTableOf2pow21Positions) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  Params p = KokkosRopeTesting::llama31();
  p.head_dim = p.rotary_dim = 16;
  const std::int64_t n = std::int64_t(1) << 21;
  const auto exact = compute_frequencies(p);
  Table<Memory, float> table(space, p, n);
  Table<Memory, double> table64(space, p, n);
  auto cos = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), table.cos());
  auto sin = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), table.sin());
  auto cos64 = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), table64.cos());
  auto sin64 = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), table64.sin());
  double worst = 0, worst64 = 0;
  for (std::int64_t pos = 0; pos < n; pos += (pos < 4096 ? 1 : 4099)) {
    for (int i = 0; i < 8; ++i) {
      ld c, s;
      KokkosRopeTesting::ref_cos_sin(pos, exact.inv_freq[i], c, s);
      worst = std::max({worst, std::fabs(double(cos(pos, i) - c)), std::fabs(double(sin(pos, i) - s))});
      worst64 = std::max({worst64, std::fabs(double(cos64(pos, i) - c)), std::fabs(double(sin64(pos, i) - s))});
    }
  }
  EXPECT_LT(worst, 2.5e-7);
  EXPECT_LT(worst64, 1e-12);
  EXPECT_EQ(table.num_positions(), n);
  EXPECT_EQ(table.rotary_dim(), 16);
}

TYPED_TEST(TableAccuracy, AttentionFactorIsFoldedIn) {
  using Space = TypeParam;
  const Space space;
  const Params p = KokkosRopeTesting::gpt_oss();
  Table<typename Space::memory_space> table(space, p, 4, Precision::accurate);
  auto cos = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), table.cos());
  EXPECT_NEAR(table.attention_factor(), 0.1 * std::log(32.0) + 1.0, 1e-15);
  for (int i = 0; i < 32; ++i) EXPECT_NEAR(cos(0, i), table.attention_factor(), 2e-7);
}

TYPED_TEST(TableAccuracy, RejectsBadInput) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  Params p;
  KOKKOSROPE_EXPECT_INVALID((Table<Memory>(space, p, 0)), "num_positions = 0: must be > 0");
  KOKKOSROPE_EXPECT_INVALID((Table<Memory>(space, p, -3)), "num_positions = -3");
  KOKKOSROPE_EXPECT_INVALID((Table<Memory>(space, p, std::int64_t(1) << 40)), "table would exceed 2^40 entries");
  p.rotary_dim = 7;
  KOKKOSROPE_EXPECT_INVALID((Table<Memory>(space, p, 16)), "rotary_dim = 7");
  KOKKOSROPE_EXPECT_INVALID((OnTheFly<Memory>(space, p)), "rotary_dim = 7");
}
