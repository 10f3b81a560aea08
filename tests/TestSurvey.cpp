// SPDX-License-Identifier: Apache-2.0
// The loader against the reference's survey (tests/data/survey, transformers 5.12.1): for every
// model type with text RoPE and every config surveyed (class defaults: the text config's keys as
// loaded; checkpoints: the config.json excerpt itself), per layer type the inverse frequencies
// (double, rounded to float, within a few float ulps of the reference's float32 values), the
// attention factor, the rotary dimension, the pair style its apply function was probed to use and
// the layers without RoPE. A type that does not match must be rejected with the reason the table
// below expects; at least 95% of the types must match. DeepSeek-style attention's softmax scale
// factor is checked against the scale the attention module was built with.
#include <KokkosRope/Frequencies.hpp>
#include <KokkosRope/ModelRope.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <KokkosRopeTesting_Reference.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

using namespace KokkosRope;
using json = nlohmann::json;

namespace {

const std::string survey_dir = std::string(KOKKOSROPE_TEST_DATA_DIR) + "/survey/";

// Types KokkosRope rejects, with the part of the message that says why.
const std::map<std::string, std::string> expected_rejections = {
    // int(head_dim * partial_rotary_factor) is odd, the reference's exponent denominator, which no
    // even rotary_dim reproduces (class defaults only: 4096 // 96 heads = 42, times 0.5).
    {"glm4_moe", "gives an odd rotary dimension"},
    {"glm4v_moe", "gives an odd rotary dimension"},
    {"glm4v_moe_text", "gives an odd rotary dimension"},
    // The same with the whole head: 2048 // 28 heads = 73 (class defaults only).
    {"qwen3_omni_moe_text", "invalid rotary_dim = 73: must be even"},
    {"qwen3_omni_moe_thinker", "invalid rotary_dim = 73: must be even"},
    // partial_rotary_factor 4.0 (an image matcher's convention, not a share of the head).
    {"efficientloftr", "must be in (0, 1]"},
    // Frequencies reordered for 3-D positions: not the 1-D progression of Params.
    {"ernie4_5_vl_moe", "is not supported: its rotary reorders the frequencies"},
    {"ernie4_5_vl_moe_text", "is not supported: its rotary reorders the frequencies"},
};

// KokkosRope's double frequencies rounded to float against the reference's float32 pipeline
// (up to six roundings: Llama 3's blend).
constexpr std::int64_t max_ulps = 4;
std::int64_t worst_ulps = 0;  // over every compared pair, for the report
int softmax_checks = 0;       // configs whose softmax scale was compared

using KokkosRopeTesting::ulp_distance;

json read_json(const std::string& path) {
  std::ifstream in(path);
  EXPECT_TRUE(in.good()) << "missing " << path;
  return json::parse(in);
}

// What the loader is given: the checkpoint's config.json, or what save_pretrained writes for the
// class defaults (every key, the text sub-config nested as the reference nests it).
std::string input_of(const json& c) {
  if (c.contains("checkpoint_file")) {
    std::ifstream in(survey_dir + c["checkpoint_file"].get<std::string>());
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }
  if (c.contains("config_json")) return c["config_json"].dump();
  json raw = c["raw"];  // a survey without the saved config: the text config's recorded keys
  if (c.contains("text_model_type") && c["text_model_type"].is_string())
    raw["model_type"] = c["text_model_type"];
  return raw.dump();
}

std::string pair_style_of(const HfConfig& config, const Params& p) {
  if (config.interleaved_output_half_split) return "interleaved_in_half_split_out";
  return p.pair_style == PairStyle::interleaved ? "interleaved" : "half_split";
}

// Compares one config; returns an empty string when it matches, else what differs.
std::string compare(const ModelRope& model, const json& c) {
  std::ostringstream why;
  // Expected inv_freq per layer type: every text rotary group the model built (one must match),
  // or GPT-J's sinusoidal table.
  std::map<std::string, std::vector<json>> expected;
  for (const auto& group : c.value("rotary", json::array())) {
    const json layer_types = group.value("layer_types", json::object());
    for (const auto& [lt, v] : layer_types.items())
      if (v.contains("inv_freq")) expected[lt].push_back(v);
  }
  for (const auto& a : c.value("apply", json::array()))
    if (a.contains("inv_freq"))
      expected["*"].push_back({{"inv_freq", a["inv_freq"]}, {"attention_scaling", 1.0}});
  if (expected.empty()) return "no reference inv_freq";

  const auto ours_types = model.layer_types();
  for (const auto& [lt, candidates] : expected) {
    const Params* p = nullptr;
    if (lt == "*" && ours_types.size() == 1)
      p = &model.config().params;
    else if (std::count(ours_types.begin(), ours_types.end(), lt))
      p = &model.params(lt);
    if (!p) {
      why << "layer type " << lt << " missing; ";
      continue;
    }
    const auto f = compute_frequencies(*p);
    std::string best;
    for (const auto& v : candidates) {
      const auto want = v["inv_freq"].get<std::vector<double>>();
      std::ostringstream miss;
      if (want.size() != f.inv_freq.size()) {
        miss << lt << ": rotary_dim " << p->rotary_dim << " vs " << 2 * want.size();
      } else {
        std::int64_t worst = 0;
        for (std::size_t i = 0; i < want.size(); ++i)
          worst =
              std::max(worst, ulp_distance(static_cast<float>(f.inv_freq[i]), static_cast<float>(want[i])));
        if (worst > max_ulps) miss << lt << ": inv_freq off by " << worst << " ulps";
        const json a = v.value("attention_scaling", json(1.0));
        const double attention = a.is_number() ? a.get<double>() : 1.0;
        if (std::fabs(f.attention_factor - attention) > 1e-6 * attention)
          miss << lt << ": attention factor " << f.attention_factor << " vs " << attention;
        if (miss.str().empty()) {
          worst_ulps = std::max(worst_ulps, worst);
          best.clear();
          break;
        }
      }
      best = miss.str();
    }
    if (!best.empty()) why << best << "; ";
  }
  // Pair style: every probed apply call of the layer type (a conditional call offers both).
  std::map<std::string, std::set<std::string>> styles;
  for (const auto& a : c.value("apply", json::array())) {
    const std::string s = a.value("pair_style", "");
    if (s != "half_split" && s != "interleaved" && s != "interleaved_in_half_split_out") continue;
    const json lt = a.value("layer_type", json());
    styles[lt.is_string() ? lt.get<std::string>() : "*"].insert(s);
  }
  for (const auto& [lt, set] : styles) {
    const Params& p = lt == "*" || !std::count(ours_types.begin(), ours_types.end(), lt)
                          ? model.config().params
                          : model.params(lt);
    const std::string ours = pair_style_of(model.config(), p);
    if (!set.count(ours)) why << lt << ": pair style " << ours << " vs " << *set.begin() << "; ";
  }
  // DeepSeek-style attention: its softmax scale is qk_head_dim^-0.5 times softmax_scale_factor.
  const json raw = c.value("raw", json::object());
  if (raw.contains("qk_nope_head_dim") && raw.contains("qk_rope_head_dim"))
    for (const auto& a : c.value("attention_attrs_sample", json::array()))
      if (a.contains("scaling")) {
        const double qk = raw["qk_nope_head_dim"].get<double>() + raw["qk_rope_head_dim"].get<double>();
        const double want = a["scaling"].get<double>() * std::sqrt(qk);
        if (std::fabs(model.config().softmax_scale_factor - want) > 1e-12 * want)
          why << "softmax scale factor " << model.config().softmax_scale_factor << " vs " << want << "; ";
        ++softmax_checks;
      }
  const auto no_rope = c.value("no_rope_layers_from_attention", json::array());
  if (no_rope.is_array() && model.no_rope_layers() != no_rope.get<std::vector<int>>())
    why << "no-RoPE layers differ; ";
  return why.str();
}

}  // namespace

TEST(Survey, LoaderMatchesTheReference) {
  const json summary = read_json(survey_dir + "summary.json");
  int types = 0, matched = 0, configs = 0, configs_matched = 0;
  std::map<std::string, std::vector<std::string>> rejected;  // reason -> types
  std::set<std::string> seen;
  for (const auto& row : summary["model_types"]) {
    if (row["has_text_rope"] != true) continue;
    const std::string type = row["model_type"];
    const json doc = read_json(survey_dir + type + ".json");
    ++types;
    std::string rejection, mismatch;
    int compared = 0;
    for (const auto& c : doc["configs"]) {
      if (c.contains("error")) continue;  // the reference itself could not build it
      ++configs;
      ++compared;
      const std::string name = c["name"];
      try {
        const ModelRope model = parse_model_rope(input_of(c), type + "/" + name);
        const std::string why = compare(model, c);
        if (why.empty())
          ++configs_matched;
        else
          mismatch += name + ": " + why;
      } catch (const InvalidArgument& e) {
        rejection = e.what();
      }
    }
    if (compared == 0) mismatch = "no config of the survey to compare";
    const auto expected = expected_rejections.find(type);
    if (expected != expected_rejections.end()) {
      seen.insert(type);
      EXPECT_NE(rejection.find(expected->second), std::string::npos)
          << type << ": expected a rejection containing '" << expected->second << "', got '" << rejection
          << "'" << (mismatch.empty() ? "" : " (mismatch: " + mismatch + ")");
      rejected[expected->second].push_back(type);
      continue;
    }
    EXPECT_TRUE(rejection.empty()) << type << ": rejected: " << rejection;
    EXPECT_TRUE(mismatch.empty()) << type << ": " << mismatch;
    if (rejection.empty() && mismatch.empty()) ++matched;
  }
  EXPECT_EQ(seen.size(), expected_rejections.size()) << "a type of the rejection table was not surveyed";
  std::cout << "survey: " << matched << " of " << types << " text-RoPE model types match the reference ("
            << configs_matched << " of " << configs << " configs; inv_freq within " << worst_ulps
            << " float ulps)\n";
  for (const auto& [reason, list] : rejected) {
    std::cout << "  rejected (" << reason << "): " << list.size() << ":";
    for (const auto& t : list) std::cout << ' ' << t;
    std::cout << '\n';
  }
  EXPECT_GE(softmax_checks, 7);  // DeepSeek V2/V3/V3.2, GLM-4-MoE-Lite, GLM-MoE-DSA, Mistral 4, Youtu
  EXPECT_GE(types, 180);
  EXPECT_GE(matched * 100, types * 95) << matched << " of " << types;
}
