// SPDX-License-Identifier: Apache-2.0
// Golden values from the reference framework (transformers 5.12.1, tests/data/golden, made by
// scripts/golden/make_golden.py): inv_freq and attention factor to 1 float ulp for every shipped
// config, and the hf_compatible cos/sin of the rotation kernel against HF's forward output.
#include "TestCategory.hpp"
#include "KernelProbe.hpp"

#include <KokkosRope.hpp>
#include <nlohmann/json.hpp>

#include <KokkosRopeTesting_Reference.hpp>

#include <cstdint>
#include <cstring>
#include <fstream>

using namespace KokkosRope;
using json = nlohmann::json;

namespace {

const char* const golden_names[] = {"llama3.1-8b", "llama3.2-1b", "qwen2.5-yarn", "gpt-oss-yarn", "phi3-longrope",
                                    "gpt-neox",    "linear",      "dynamic",      "rope-parameters-v5"};

json load_golden(const std::string& name) {
  std::ifstream in(std::string(KOKKOSROPE_TEST_DATA_DIR) + "/golden/" + name + ".json");
  EXPECT_TRUE(in.good()) << "missing golden file " << name;
  return json::parse(in);
}

HfConfig load_config(const json& golden) {
  return load_hf_config(std::string(KOKKOSROPE_TEST_DATA_DIR) + "/configs/" + golden["config"].get<std::string>());
}

using KokkosRopeTesting::ulp_distance;

std::optional<std::int64_t> seq_len_of(const json& j) {
  if (j.is_null()) return std::nullopt;
  return j.get<std::int64_t>();
}

}  // namespace

TEST(Golden, InvFreqAndAttentionFactorWithinOneUlp) {
  int cases = 0;
  for (const char* name : golden_names) {
    const json golden = load_golden(name);
    const auto config = load_config(golden);
    EXPECT_EQ(rope_type_name(config.params.scaling), golden["rope_type"].get<std::string>()) << name;
    EXPECT_EQ(config.params.rotary_dim, golden["rotary_dim"].get<int>()) << name;
    EXPECT_EQ(config.params.head_dim, golden["head_dim"].get<int>()) << name;
    for (const auto& c : golden["cases"]) {
      if (c.value("seq_len_is_tensor", false)) continue;  // the forward's float32 base: see README
      const auto seq_len = seq_len_of(c["seq_len"]);
      const auto hf = compute_hf_frequencies(config.params, seq_len);
      const auto exact = compute_frequencies(config.params, seq_len);
      const auto want = c["inv_freq"].get<std::vector<double>>();
      ASSERT_EQ(hf.inv_freq.size(), want.size()) << name;
      for (std::size_t i = 0; i < want.size(); ++i) {
        EXPECT_LE(ulp_distance(hf.inv_freq[i], static_cast<float>(want[i])), 1)
            << name << " seq_len " << c["seq_len"] << " pair " << i << ": " << hf.inv_freq[i] << " vs " << want[i];
        // The double formulas agree with HF's float32 values to float precision (a few float
        // roundings in HF's pipeline: Llama 3's blend has six).
        EXPECT_NEAR(exact.inv_freq[i] / want[i], 1.0, 1e-6) << name << " pair " << i;
      }
      const double attention = c["attention_factor"].get<double>();
      EXPECT_LE(ulp_distance(hf.attention_factor, static_cast<float>(attention)), 1) << name;
      EXPECT_NEAR(exact.attention_factor, attention, 1e-15) << name;
      ++cases;
    }
  }
  EXPECT_GE(cases, 20);
}

template <class Space>
class GoldenForward : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(GoldenForward);

// Unit vectors (x1, x2) = (1, 0) rotated by the kernel give (cos, sin): the hf_compatible
// on-the-fly path against HF's forward output, at positions up to 2^21 - 1.
//  - From HF's own float32 inv_freq, the kernel reproduces the forward to 4 ulp (torch's float
//    cos/sin are within 2 ulp of correctly rounded, ours within 1; one more rounding for the
//    attention factor) or 2e-7 absolute near zero.
//  - From the library's inv_freq (1 ulp from torch's for a few pairs, where torch's pow is not
//    correctly rounded), the angle may differ by p * |delta inv_freq|: that is the documented
//    tolerance of hf_compatible, checked here as exactly that bound.
TYPED_TEST(GoldenForward, HfCompatibleCosSinMatchForward) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  for (const char* name : golden_names) {
    const json golden = load_golden(name);
    const auto config = load_config(golden);
    for (const char* block : {"cos_sin", "cos_sin_short"}) {
      if (!golden.contains(block)) continue;
      const json& g = golden[block];
      const auto positions = g["positions"].get<std::vector<std::int64_t>>();
      const auto cos = g["cos"].get<std::vector<std::vector<double>>>();
      const auto sin = g["sin"].get<std::vector<std::vector<double>>>();
      const int pairs = config.params.rotary_dim / 2;
      FrequenciesF32 theirs;
      for (double f : g["inv_freq"].get<std::vector<double>>()) theirs.inv_freq.push_back(static_cast<float>(f));
      theirs.attention_factor = static_cast<float>(g["attention_factor"].get<double>());
      const auto ours = compute_hf_frequencies(config.params, seq_len_of(g["seq_len"]));
      const auto from_theirs = KokkosRopeTest::probe_cos_sin(
          space, OnTheFly<Memory>(space, theirs, PairStyle::half_split), positions);
      const auto from_ours = KokkosRopeTest::probe_cos_sin(
          space, OnTheFly<Memory>(space, config.params, Precision::hf_compatible, seq_len_of(g["seq_len"])), positions);
      std::int64_t worst = 0;
      for (std::size_t t = 0; t < positions.size(); ++t)
        for (int i = 0; i < pairs; ++i) {
          const float c = static_cast<float>(cos[t][i]), s = static_cast<float>(sin[t][i]);
          const auto close = [](float got, float want) { return ulp_distance(got, want) <= 4 || std::fabs(got - want) < 2e-7f; };
          EXPECT_TRUE(close(from_theirs.cos[t][i], c) && close(from_theirs.sin[t][i], s))
              << name << " " << block << " pos " << positions[t] << " pair " << i << ": (" << from_theirs.cos[t][i]
              << ", " << from_theirs.sin[t][i] << ") vs (" << c << ", " << s << ")";
          worst = std::max({worst, ulp_distance(from_theirs.cos[t][i], c), ulp_distance(from_theirs.sin[t][i], s)});
          // Plus one float rounding of the angle p * inv_freq on each side.
          const double p = static_cast<double>(positions[t]);
          const double bound = 1e-6 + ours.attention_factor * 1.01 *
                                          (p * std::fabs(double(ours.inv_freq[i]) - double(theirs.inv_freq[i])) +
                                           p * double(theirs.inv_freq[i]) * 0x1p-23);
          EXPECT_LE(std::fabs(from_ours.cos[t][i] - c), bound) << name << " pos " << positions[t] << " pair " << i;
          EXPECT_LE(std::fabs(from_ours.sin[t][i] - s), bound) << name << " pos " << positions[t] << " pair " << i;
        }
      this->RecordProperty(std::string(name) + "." + block + ".max_ulp", std::to_string(worst));
    }
  }
}
