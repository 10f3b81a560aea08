// SPDX-License-Identifier: Apache-2.0
// Loading Hugging Face config.json files: the shipped configs, both spellings of the scaling
// block, every malformed or contradictory input rejected with the key named, and the family
// details of the survey's checkpoints (text sub-configs, per-layer types, no-RoPE layers, pair
// styles, proportional and step Llama 3 frequencies, DeepSeek's factors, M-RoPE sections).
#include <KokkosRope/Frequencies.hpp>
#include <KokkosRope/HfConfig.hpp>
#include <KokkosRope/ModelRope.hpp>

#include <gtest/gtest.h>

#include <cmath>

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
  // The context length is needed only by the kinds that read it, as in the reference.
  EXPECT_EQ(parse_hf_config(R"({"head_dim": 64})").params.max_position_embeddings, Params{}.max_position_embeddings);
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(R"({"head_dim": 64, "rope_scaling": {"rope_type": "dynamic", "factor": 2}})"),
                            "key 'max_position_embeddings' is required (rope_type 'dynamic' reads it)");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(R"({"max_position_embeddings": 4096})"),
                            "key 'head_dim' is required (or hidden_size and num_attention_heads)");
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(R"({"hidden_size": 4096, "max_position_embeddings": 4096})"),
                            "key 'num_attention_heads' is required");
  KOKKOSROPE_EXPECT_INVALID(
      parse_hf_config(R"({"hidden_size": -4000, "num_attention_heads": 3, "max_position_embeddings": 4096})"),
      "key 'hidden_size' must be > 0");
  // Not a multiple: floored, as the reference's `hidden_size // num_attention_heads`.
  EXPECT_EQ(parse_hf_config(R"({"hidden_size": 4002, "num_attention_heads": 3, "max_position_embeddings": 4096})").params.head_dim, 1334);
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

// ---- what transformers 5.12.1 computes for checkpoints of each family ---------------------------
namespace {
std::string checkpoint(const std::string& name) {
  return std::string(KOKKOSROPE_TEST_DATA_DIR) + "/survey/checkpoints/" + name + ".json";
}
}  // namespace

TEST(HfConfig, TextConfigDescent) {
  const auto c = load_hf_config(checkpoint("llama4-scout"));
  EXPECT_EQ(c.text_config_path, "text_config");
  EXPECT_EQ(c.model_type, "llama4_text");
  EXPECT_EQ(c.params.head_dim, 128);
  EXPECT_EQ(c.params.pair_style, PairStyle::interleaved);  // apply_rotary_emb: complex pairs
  // Top-level and nested values that differ are contradictory; equal ones are fine.
  const std::string nested = R"("text_config": {"head_dim": 64, "max_position_embeddings": 4096, "rope_theta": 500000}})";
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(R"({"rope_theta": 10000, )" + nested),
                            "key 'rope_theta' (top level) contradicts text_config.rope_theta");
  EXPECT_EQ(parse_hf_config(R"({"rope_theta": 500000, )" + nested).params.theta, 500000.0);
  // Keys of the sub-config are named with its path.
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(R"({"text_config": {"head_dim": "64"}})"),
                            "key 'text_config.head_dim' must be a number, got string");
  // Nested sub-configs: Pi0's vlm_config.text_config.
  EXPECT_EQ(parse_hf_config(R"({"vlm_config": {"text_config": {"head_dim": 256}}})").text_config_path, "vlm_config.text_config");
}

TEST(HfConfig, Llama4ScoutStepAndNoRopeLayers) {
  const auto m = load_model_rope(checkpoint("llama4-scout"));
  const auto& s = std::get<Llama3Scaling>(m.config().params.scaling);
  EXPECT_EQ(s.low_freq_factor, s.high_freq_factor);
  // low == high: a clean step, every pair kept or divided by 16 (wavelength past 8192 / 1).
  const auto f = compute_frequencies(m.config().params);
  const auto hf = compute_hf_frequencies(m.config().params);
  ASSERT_EQ(f.inv_freq.size(), 64u);
  for (std::size_t i = 0; i < f.inv_freq.size(); ++i) {
    const double plain = std::pow(500000.0, -2.0 * static_cast<double>(i) / 128.0);
    const double expected = 2 * M_PI / plain > 8192.0 ? plain / 16.0 : plain;
    EXPECT_NEAR(f.inv_freq[i] / expected, 1.0, 1e-14) << i;
    EXPECT_NEAR(hf.inv_freq[i] / expected, 1.0, 1e-6) << i;
  }
  // The empty no_rope_layers list means the default: every 4th layer has no RoPE.
  EXPECT_EQ(m.num_layers(), 48);
  EXPECT_EQ(m.no_rope_layers(), (std::vector<int>{3, 7, 11, 15, 19, 23, 27, 31, 35, 39, 43, 47}));
  EXPECT_EQ(m.params_for_layer(3), nullptr);
  ASSERT_NE(m.params_for_layer(2), nullptr);
  EXPECT_EQ(m.layer_types(), std::vector<std::string>{"*"});
}

TEST(HfConfig, Gemma3V4PerLayerType) {
  const auto m = load_model_rope(checkpoint("gemma3-4b"));
  EXPECT_EQ(m.layer_types(), (std::vector<std::string>{"full_attention", "sliding_attention"}));
  // rope_scaling (linear 8) and rope_theta apply to the global layers, rope_local_base_freq to the local ones.
  EXPECT_EQ(std::get<LinearScaling>(m.params("full_attention").scaling).factor, 8.0);
  EXPECT_EQ(m.params("full_attention").theta, 1000000.0);
  EXPECT_TRUE(std::holds_alternative<NoScaling>(m.params("sliding_attention").scaling));
  EXPECT_EQ(m.params("sliding_attention").theta, 10000.0);
  EXPECT_EQ(m.config().params.theta, 1000000.0);  // HfConfig::params: the global layers
  // sliding_window_pattern 6: every 6th layer is global.
  ASSERT_EQ(m.num_layers(), 34);
  EXPECT_EQ(m.layer_type(5), "full_attention");
  EXPECT_EQ(m.layer_type(6), "sliding_attention");
  EXPECT_TRUE(m.no_rope_layers().empty());
  KOKKOSROPE_EXPECT_INVALID(m.params("chunked_attention"), "invalid layer type 'chunked_attention'");
  KOKKOSROPE_EXPECT_INVALID(m.params_for_layer(34), "invalid layer = 34: the model has 34 layers");
}

TEST(HfConfig, V5PerLayerTypeAndUnknownLayerTypes) {
  const std::string block = R"({"head_dim": 64, "max_position_embeddings": 4096, "num_hidden_layers": 3,
      "rope_parameters": {"full_attention": {"rope_type": "default", "rope_theta": 1000000},
                          "sliding_attention": {"rope_type": "default", "rope_theta": 10000}}, )";
  const auto m = parse_model_rope(block + R"("layer_types": ["sliding_attention", "full_attention", "sliding_attention"]})");
  EXPECT_EQ(m.params_for_layer(1)->theta, 1000000.0);
  EXPECT_EQ(m.params_for_layer(2)->theta, 10000.0);
  KOKKOSROPE_EXPECT_INVALID(parse_model_rope(block + R"("layer_types": ["sliding_attention", "chunked_attention"]})"),
                            "key 'layer_types[1]' ('chunked_attention') is a layer type without RoPE parameters");
}

TEST(HfConfig, Gemma4Proportional) {
  // Gemma 4's global layers: head 512, a quarter of it rotated (64 pairs with 512 in the
  // exponent), the other 192 pairs at frequency 0.
  const auto m = parse_model_rope(R"({"model_type": "gemma4_text", "head_dim": 256, "global_head_dim": 512,
      "max_position_embeddings": 131072, "rope_parameters": {
        "sliding_attention": {"rope_type": "default", "rope_theta": 10000},
        "full_attention": {"rope_type": "proportional", "partial_rotary_factor": 0.25, "rope_theta": 1000000}}})");
  const Params& full = m.params("full_attention");
  EXPECT_EQ(full.head_dim, 512);
  EXPECT_EQ(full.rotary_dim, 512);
  EXPECT_EQ(full.rotated_pairs, 64);
  const auto f = compute_frequencies(full);
  ASSERT_EQ(f.inv_freq.size(), 256u);
  EXPECT_NEAR(f.inv_freq[63], std::pow(1e6, -126.0 / 512.0), 1e-18);
  EXPECT_EQ(f.inv_freq[64], 0.0);
  EXPECT_EQ(f.inv_freq[255], 0.0);
  EXPECT_EQ(m.params("sliding_attention").rotary_dim, 256);
  EXPECT_FALSE(m.params("sliding_attention").rotated_pairs);
}

TEST(HfConfig, DeepSeekV3) {
  const auto c = load_hf_config(checkpoint("deepseek-v3"));
  EXPECT_EQ(c.params.head_dim, 64);  // qk_rope_head_dim
  EXPECT_EQ(c.params.rotary_dim, 64);
  // rope_interleave (class default true): pairs (2i, 2i + 1) written to (i, i + 32).
  EXPECT_EQ(c.params.pair_style, PairStyle::interleaved);
  EXPECT_TRUE(c.interleaved_output_half_split);
  // The softmax scale gets mscale(40, mscale_all_dim = 1)^2; the cos/sin factor is mscale / mscale_all_dim = 1.
  const double m = 0.1 * std::log(40.0) + 1.0;
  EXPECT_DOUBLE_EQ(c.softmax_scale_factor, m * m);
  EXPECT_DOUBLE_EQ(compute_frequencies(c.params).attention_factor, 1.0);
  // rope_interleave false: the rotate_half branch.
  const auto h = parse_hf_config(R"({"model_type": "deepseek_v3", "qk_rope_head_dim": 64, "max_position_embeddings": 4096,
                                     "rope_interleave": false})");
  EXPECT_EQ(h.params.pair_style, PairStyle::half_split);
  EXPECT_FALSE(h.interleaved_output_half_split);
  EXPECT_EQ(h.softmax_scale_factor, 1.0);
}

TEST(HfConfig, MropeSection) {
  const auto c = load_hf_config(checkpoint("qwen2.5-vl-7b"));  // "type": "mrope", v4 spelling
  EXPECT_TRUE(std::holds_alternative<NoScaling>(c.params.scaling));
  EXPECT_EQ(c.mrope_section, (std::vector<int>{16, 24, 24}));
  EXPECT_FALSE(c.mrope_interleaved);
  EXPECT_TRUE(load_hf_config(checkpoint("qwen3-vl-8b")).mrope_interleaved);
  KOKKOSROPE_EXPECT_INVALID(
      parse_hf_config(head + R"("rope_scaling": {"type": "mrope", "mrope_section": [8, 12, 10]}})"),
      "key 'rope_scaling.mrope_section' sums to 30, must equal the rotary pairs (rotary_dim / 2 = 32)");
}

TEST(HfConfig, GptjAndOddRotaryDimensions) {
  const auto c = load_hf_config(checkpoint("gpt-j-6b"));
  EXPECT_EQ(c.params.head_dim, 256);  // n_embd / n_head
  EXPECT_EQ(c.params.rotary_dim, 64);
  EXPECT_EQ(c.params.max_position_embeddings, 2048);  // n_positions
  EXPECT_EQ(c.params.pair_style, PairStyle::interleaved);
  // int(42 * 0.5) = 21: the reference's exponent denominator is odd.
  KOKKOSROPE_EXPECT_INVALID(parse_hf_config(R"({"head_dim": 42, "max_position_embeddings": 4096, "partial_rotary_factor": 0.5})"),
                            "key 'partial_rotary_factor' gives an odd rotary dimension int(42 * partial_rotary_factor) = 21");
}
