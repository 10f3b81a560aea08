// SPDX-License-Identifier: Apache-2.0
// Loading Hugging Face config.json files: the shipped configs, both spellings of the scaling
// block, and every malformed or contradictory input rejected with the key named.
#include <KokkosRope/Frequencies.hpp>
#include <KokkosRope/HfConfig.hpp>

#include <gtest/gtest.h>

#include "ErrorMatchers.hpp"

using namespace KokkosRope;

namespace {
std::string config_path(const std::string& name) {
  return std::string(KOKKOSROPE_TEST_DATA_DIR) + "/configs/" + name + ".json";
}
// The valid start of a config; a test appends its own keys and the closing brace.
const std::string head = R"({"head_dim": 64, "max_position_embeddings": 4096, )";
}  // namespace

TEST(HfConfig, Llama31) {
  const auto c = load_hf_config(config_path("llama3.1-8b"));
  EXPECT_EQ(c.model_type, "llama");
  EXPECT_EQ(c.num_attention_heads, 32);
  EXPECT_EQ(c.num_key_value_heads, 8);
  EXPECT_EQ(c.params.head_dim, 128);
  EXPECT_EQ(c.params.rotary_dim, 128);
  EXPECT_EQ(c.params.theta, 500000.0);
  EXPECT_EQ(c.params.max_position_embeddings, 131072);
  const auto* s = std::get_if<Llama3Scaling>(&c.params.scaling);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->factor, 8.0);
  EXPECT_EQ(s->low_freq_factor, 1.0);
  EXPECT_EQ(s->high_freq_factor, 4.0);
  EXPECT_EQ(s->original_max_position_embeddings, 8192);
}

TEST(HfConfig, RopeParametersV5MatchesRopeScaling) {
  const auto a = load_hf_config(config_path("llama3.1-8b"));
  const auto b = load_hf_config(config_path("rope-parameters-v5"));
  EXPECT_EQ(compute_frequencies(a.params).inv_freq, compute_frequencies(b.params).inv_freq);
  EXPECT_EQ(b.params.theta, 500000.0);
}

TEST(HfConfig, QwenYarnOldTypeSpelling) {
  const auto c = load_hf_config(config_path("qwen2.5-yarn"));
  const auto* y = std::get_if<YarnScaling>(&c.params.scaling);
  ASSERT_NE(y, nullptr);
  EXPECT_EQ(y->factor, 4.0);
  EXPECT_EQ(y->original_max_position_embeddings, 32768);
  EXPECT_TRUE(y->truncate);
  EXPECT_EQ(c.params.head_dim, 128);  // 3584 / 28
}

TEST(HfConfig, GptOssYarnNoTruncate) {
  const auto c = load_hf_config(config_path("gpt-oss-yarn"));
  const auto* y = std::get_if<YarnScaling>(&c.params.scaling);
  ASSERT_NE(y, nullptr);
  EXPECT_FALSE(y->truncate);
  EXPECT_EQ(c.params.head_dim, 64);
  EXPECT_EQ(c.params.theta, 150000.0);
  const auto range = yarn_correction_range(c.params);
  EXPECT_NEAR(range.low, 8.09, 0.005);
  EXPECT_NEAR(range.high, 17.40, 0.005);
}

TEST(HfConfig, Phi3LongRope) {
  const auto c = load_hf_config(config_path("phi3-longrope"));
  const auto* l = std::get_if<LongRopeScaling>(&c.params.scaling);
  ASSERT_NE(l, nullptr);
  EXPECT_EQ(l->short_factor.size(), 48u);
  EXPECT_EQ(l->long_factor.size(), 48u);
  EXPECT_EQ(l->original_max_position_embeddings, 4096);  // top level, as Phi-3 stores it
  EXPECT_EQ(c.params.rotary_dim, 96);
}

TEST(HfConfig, GptNeoxPartialRotary) {
  const auto c = load_hf_config(config_path("gpt-neox"));
  EXPECT_EQ(c.params.head_dim, 96);
  EXPECT_EQ(c.params.rotary_dim, 24);
  EXPECT_TRUE(std::holds_alternative<NoScaling>(c.params.scaling));
}

TEST(HfConfig, LinearAndDynamic) {
  EXPECT_EQ(std::get<LinearScaling>(load_hf_config(config_path("linear")).params.scaling).factor, 4.0);
  EXPECT_EQ(std::get<DynamicNtkScaling>(load_hf_config(config_path("dynamic")).params.scaling).factor, 2.0);
}

TEST(HfConfig, Malformed) {
  KOKKOSROPE_EXPECT_INVALID(load_hf_config("/nonexistent/config.json"), "cannot open config file '/nonexistent/config.json'");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config("{\"head_dim\": 64,", "x.json"), "x.json: malformed JSON at byte");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config("[1, 2]"), "key '<root>' must be a JSON object");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(R"({"head_dim": 64})"), "key 'max_position_embeddings' is required");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(R"({"max_position_embeddings": 4096})"),
                            "key 'head_dim' is required (or hidden_size and num_attention_heads)");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(R"({"hidden_size": 4096, "max_position_embeddings": 4096})"),
                            "key 'num_attention_heads' is required");
  KOKKOSROPE_EXPECT_INVALID(
      parse_hf_config(R"({"hidden_size": 4000, "num_attention_heads": 3, "max_position_embeddings": 4096})"),
      "key 'hidden_size' must be a positive multiple of num_attention_heads (3)");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(R"({"head_dim": "64", "max_position_embeddings": 4096})"),
                            "key 'head_dim' must be a number, got string");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(R"({"head_dim": 64.5, "max_position_embeddings": 4096})"),
                            "key 'head_dim' must be an integer");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(head + R"("rope_theta": true})"), "key 'rope_theta' must be a number, got boolean");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(head + R"("rope_theta": -1})"), "invalid theta = -1");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(R"({"head_dim": 63, "max_position_embeddings": 4096})"),
                            "invalid rotary_dim = 63: must be even");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(head + R"("partial_rotary_factor": 2})"), "key 'partial_rotary_factor' must be in (0, 1]");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(head + R"("rope_scaling": 3})"), "key 'rope_scaling' must be an object or null");
}

TEST(HfConfig, ScalingBlocks) {
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(head + R"("rope_scaling": {"factor": 2}})"),
                            "key 'rope_scaling.rope_type' is required");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(head + R"("rope_scaling": {"rope_type": "magic", "factor": 2}})"),
                            "key 'rope_scaling.rope_type' has unknown value 'magic'");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(head + R"("rope_scaling": {"type": "linear", "rope_type": "dynamic", "factor": 2}})"),
                            "key 'rope_scaling.type' ('linear') contradicts rope_scaling.rope_type ('dynamic')");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(head + R"("rope_scaling": {"rope_type": "linear"}})"),
                            "key 'rope_scaling.factor' is required");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(head + R"("rope_scaling": {"rope_type": "linear", "factor": 0.5}})"),
                            "invalid linear.factor = 0.5");
  KOKKOSROPE_EXPECT_INVALID(
      parse_hf_config(head + R"("rope_scaling": {"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "original_max_position_embeddings": 8192}})"),
      "key 'rope_scaling.high_freq_factor' is required");
  KOKKOSROPE_EXPECT_INVALID(
      parse_hf_config(head + R"("rope_scaling": {"rope_type": "llama3", "factor": 8, "low_freq_factor": 1, "high_freq_factor": 4}})"),
      "key 'rope_scaling.original_max_position_embeddings' is required");
  KOKKOSROPE_EXPECT_INVALID(
      parse_hf_config(head + R"("rope_scaling": {"rope_type": "longrope", "short_factor": [1, 1], "long_factor": [1, 1]}})"),
      "longrope.short_factor = list of 2: needs rotary_dim / 2 = 32 entries");
  KOKKOSROPE_EXPECT_INVALID(
      parse_hf_config(head + R"("rope_scaling": {"rope_type": "longrope", "short_factor": "x", "long_factor": []}})"),
      "key 'rope_scaling.short_factor' must be a list of numbers");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(head + R"("rope_scaling": {"rope_type": "yarn", "factor": 4, "truncate": "no"}})"),
                            "key 'rope_scaling.truncate' must be true or false");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(head + R"("rope_scaling": {"rope_type": "yarn"}})"),
                            "key 'rope_scaling.factor' is required");
  KOKKOSROPE_EXPECT_INVALID(
      parse_hf_config(head + R"("rope_scaling": {"rope_type": "linear", "factor": 2}, "rope_parameters": {"rope_type": "dynamic", "factor": 2}})"),
      "key 'rope_parameters.rope_type' ('dynamic') contradicts rope_scaling ('linear')");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(head + R"("rope_theta": 10000, "rope_parameters": {"rope_theta": 500000}})"),
                            "key 'rope_parameters.rope_theta' contradicts rope_theta");
  // A null block means no scaling, as in the reference.
  EXPECT_TRUE(std::holds_alternative<NoScaling>(parse_hf_config(head + R"("rope_scaling": null})").params.scaling));
  // YaRN without a factor takes max_position_embeddings / original, as the reference does.
  const auto y = parse_hf_config(head + R"("rope_scaling": {"rope_type": "yarn", "original_max_position_embeddings": 1024}})");
  EXPECT_EQ(std::get<YarnScaling>(y.params.scaling).factor, 4.0);
  // Our own static NTK kind.
  EXPECT_EQ(std::get<NtkScaling>(parse_hf_config(head + R"("rope_scaling": {"rope_type": "ntk", "factor": 2}})").params.scaling).factor, 2.0);
}
