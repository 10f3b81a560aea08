// SPDX-License-Identifier: Apache-2.0
#include <KokkosRope/Frequencies.hpp>
#include <KokkosRope/HfConfig.hpp>
#include <KokkosRope/ModelRope.hpp>
#include <KokkosRope/impl/KokkosRope_Error.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>
#include <string_view>

namespace KokkosRope {
namespace {

using json = nlohmann::json;

class Reader {
 public:
  explicit Reader(std::string source) : m_source(std::move(source)) {}

  // Keys of the text sub-config are named with its path ("text_config.rope_theta").
  void set_prefix(std::string prefix) { m_prefix = std::move(prefix); }

  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    Impl::throw_invalid_argument({}, m_source + ": key '" + m_prefix + key + "' " + why);
  }

  // A JSON number (not a bool, not a string), finite.
  double number(const json& j, const std::string& key) const {
    if (!j.is_number()) fail(key, "must be a number, got " + std::string(j.type_name()));
    const double v = j.get<double>();
    if (!std::isfinite(v)) fail(key, "must be finite");
    return v;
  }

  std::int64_t integer(const json& j, const std::string& key) const {
    const double v = number(j, key);
    if (v != std::floor(v) || std::fabs(v) > 9.0e15) fail(key, "must be an integer");
    return static_cast<std::int64_t>(v);
  }

  const json* find(const json& obj, const std::string& key) const {
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null()) return nullptr;
    return &*it;
  }

  const json& require(const json& obj, const std::string& prefix, const std::string& key) const {
    const json* v = find(obj, key);
    if (!v) fail(prefix + key, "is required");
    return *v;
  }

  std::vector<double> list(const json& j, const std::string& key) const {
    if (!j.is_array()) fail(key, "must be a list of numbers");
    std::vector<double> out;
    for (std::size_t i = 0; i < j.size(); ++i)
      out.push_back(number(j[i], key + "[" + std::to_string(i) + "]"));
    return out;
  }

 private:
  std::string m_source;
  std::string m_prefix;
};

std::optional<std::int64_t> optional_int(const Reader& r, const json& obj, const std::string& prefix,
                                         const std::string& key) {
  if (const json* v = r.find(obj, key)) return r.integer(*v, prefix + key);
  return std::nullopt;
}

std::optional<double> optional_number(const Reader& r, const json& obj, const std::string& prefix,
                                      const std::string& key) {
  if (const json* v = r.find(obj, key)) return r.number(*v, prefix + key);
  return std::nullopt;
}

// The scaling block's kind, from `rope_type` or the older `type`; contradictions are errors.
std::string scaling_kind(const Reader& r, const json& block, const std::string& prefix) {
  const json* rope_type = r.find(block, "rope_type");
  const json* type = r.find(block, "type");
  if (rope_type && !rope_type->is_string()) r.fail(prefix + "rope_type", "must be a string");
  if (type && !type->is_string()) r.fail(prefix + "type", "must be a string");
  if (type && type->get<std::string>() == "mrope" &&
      (!rope_type || rope_type->get<std::string>() == "default"))
    return "default";  // Qwen2-VL's v4 spelling: the reference standardises it to default + mrope_section
  if (rope_type && type && rope_type->get<std::string>() != type->get<std::string>())
    r.fail(prefix + "type", "('" + type->get<std::string>() + "') contradicts " + prefix + "rope_type ('" +
                                rope_type->get<std::string>() + "')");
  if (rope_type) return rope_type->get<std::string>();
  if (type) return type->get<std::string>();
  r.fail(prefix + "rope_type", "is required");
}

Scaling parse_scaling(const Reader& r, const json& block, const std::string& prefix, const std::string& kind,
                      std::optional<std::int64_t> top_level_original, std::int64_t max_position_embeddings) {
  // The block's own original_max_position_embeddings, else the top-level one. Phi-3 (LongRoPE)
  // is the exception, as in the reference: its top-level value wins.
  auto original = [&]() {
    auto v = optional_int(r, block, prefix, "original_max_position_embeddings");
    if (kind == "longrope" || kind == "su") return top_level_original ? top_level_original : v;
    return v ? v : top_level_original;
  };
  if (kind == "default") return NoScaling{};
  if (kind == "linear") return LinearScaling{r.number(r.require(block, prefix, "factor"), prefix + "factor")};
  if (kind == "ntk") return NtkScaling{r.number(r.require(block, prefix, "factor"), prefix + "factor")};
  if (kind == "dynamic")
    return DynamicNtkScaling{r.number(r.require(block, prefix, "factor"), prefix + "factor")};
  if (kind == "yarn") {
    YarnScaling y;
    y.original_max_position_embeddings = original();
    if (const json* f = r.find(block, "factor")) {
      y.factor = r.number(*f, prefix + "factor");
    } else if (y.original_max_position_embeddings && max_position_embeddings > 0) {
      // As the reference: without a factor, the context extension ratio is the factor.
      y.factor = static_cast<double>(max_position_embeddings) /
                 static_cast<double>(*y.original_max_position_embeddings);
    } else {
      r.fail(prefix + "factor", "is required (or original_max_position_embeddings to derive it)");
    }
    if (auto v = optional_number(r, block, prefix, "beta_fast")) y.beta_fast = *v;
    if (auto v = optional_number(r, block, prefix, "beta_slow")) y.beta_slow = *v;
    y.mscale = optional_number(r, block, prefix, "mscale");
    y.mscale_all_dim = optional_number(r, block, prefix, "mscale_all_dim");
    y.attention_factor = optional_number(r, block, prefix, "attention_factor");
    if (const json* t = r.find(block, "truncate")) {
      if (!t->is_boolean()) r.fail(prefix + "truncate", "must be true or false");
      y.truncate = t->get<bool>();
    }
    return y;
  }
  if (kind == "longrope" || kind == "su") {  // "su" is Phi-3's pre-release name for LongRoPE
    LongRopeScaling l;
    l.short_factor = r.list(r.require(block, prefix, "short_factor"), prefix + "short_factor");
    l.long_factor = r.list(r.require(block, prefix, "long_factor"), prefix + "long_factor");
    l.original_max_position_embeddings = original();
    l.factor = optional_number(r, block, prefix, "factor");
    l.attention_factor = optional_number(r, block, prefix, "attention_factor");
    return l;
  }
  if (kind == "llama3") {
    Llama3Scaling s;
    s.factor = r.number(r.require(block, prefix, "factor"), prefix + "factor");
    s.low_freq_factor = r.number(r.require(block, prefix, "low_freq_factor"), prefix + "low_freq_factor");
    s.high_freq_factor = r.number(r.require(block, prefix, "high_freq_factor"), prefix + "high_freq_factor");
    auto o = original();
    if (!o) r.fail(prefix + "original_max_position_embeddings", "is required");
    s.original_max_position_embeddings = *o;
    return s;
  }
  r.fail(prefix + "rope_type",
         "has unknown value '" + kind +
             "' (known: default, linear, ntk, dynamic, yarn, longrope, llama3, proportional)");
}

// ---- the reference's per-family knowledge, keyed by the text config's model_type ---------------

// Families whose attention rotates pairs (2i, 2i + 1); all others apply `rotate_half`, pairs
// (i, i + rotary_dim / 2). Each row names the reference's apply function (transformers 5.12.1).
struct PairStyleRow {
  std::string_view model_type;
  std::string_view why;
};
constexpr PairStyleRow interleaved_families[] = {
    {"gptj", "modeling_gptj.apply_rotary_pos_emb: rotate_every_two, sin/cos repeat_interleave(2)"},
    {"codegen", "modeling_codegen.apply_rotary_pos_emb: rotate_every_two"},
    {"cohere", "modeling_cohere.rotate_half: x[..., ::2], x[..., 1::2] stacked"},
    {"cohere2",
     "modeling_cohere2.rotate_half: x[..., ::2], x[..., 1::2] stacked (also Aya Vision's text model)"},
    {"cohere2_moe", "modeling_cohere2_moe.rotate_half: x[..., ::2], x[..., 1::2] stacked"},
    {"blt_global_transformer",
     "modeling_blt.rotate_half: x[..., ::2]; the rotary repeat_interleaves its freqs"},
    {"blt_local_decoder", "modeling_blt.rotate_half: x[..., ::2]"},
    {"blt_local_encoder", "modeling_blt.rotate_half: x[..., ::2]"},
    {"blt_patcher", "modeling_blt.rotate_half: x[..., ::2]"},
    {"deepseek_v2", "modeling_deepseek_v2.apply_rotary_emb: view_as_complex of (2i, 2i + 1)"},
    {"deepseek_v4",
     "modeling_deepseek_v4.apply_rotary_pos_emb: rotate_half x[..., 0::2], cos repeat_interleave(2)"},
    {"ernie4_5",
     "modeling_ernie4_5.apply_rotary_pos_emb: x[..., 0::2], x[..., 1::2] with repeat_interleave(2)"},
    {"ernie4_5_moe", "modeling_ernie4_5_moe.apply_rotary_pos_emb: x[..., 0::2], x[..., 1::2]"},
    {"ernie4_5_vl_moe_text", "modeling_ernie4_5_vl_moe.apply_rotary_pos_emb: x[..., 0::2], x[..., 1::2]"},
    {"glm", "modeling_glm.rotate_half: x[..., 0::2], cos[..., :d/2].repeat_interleave(2)"},
    {"glm4", "modeling_glm4.rotate_half: x[..., 0::2], cos[..., :d/2].repeat_interleave(2)"},
    {"glm_ocr_text", "modeling_glm_ocr.rotate_half: x[..., 0::2]"},
    {"glm4v_text", "modeling_glm4v.rotate_half_llm: x[..., 0::2], cos repeat_interleave(2)"},
    {"glm4v_moe_text", "modeling_glm4v_moe.rotate_half_llm: x[..., 0::2], cos repeat_interleave(2)"},
    {"helium", "modeling_helium.rotate_half: x[..., 0::2], x[..., 1::2]"},
    {"llama4_text", "modeling_llama4.apply_rotary_emb: view_as_complex of (2i, 2i + 1)"},
    {"moonshine", "modeling_moonshine.rotate_half: x[..., 0::2], cos[..., :d/2].repeat_interleave(2)"},
};
// DeepSeek-style `apply_rotary_pos_emb_interleave`: pairs (2i, 2i + 1) rotated and written to
// (i, i + r/2). `always`: the attention calls it unconditionally; otherwise under
// `if self.config.rope_interleave:`, whose class default is true.
struct InterleaveRow {
  std::string_view model_type;
  bool always;
};
constexpr InterleaveRow rope_interleave_families[] = {
    {"deepseek_v3", false}, {"glm4_moe_lite", false}, {"youtu", false},        {"mistral4", false},
    {"deepseek_v32", true}, {"glm_moe_dsa", true},    {"longcat_flash", true},
};
// Config classes that set head_dim = qk_rope_head_dim, the rotary module's head dimension.
constexpr std::string_view qk_rope_families[] = {
    "deepseek_v2", "deepseek_v3", "deepseek_v32", "glm4_moe_lite", "glm_moe_dsa", "youtu", "longcat_flash"};
// Attention classes that multiply their softmax scale by yarn_mscale(factor, mscale_all_dim)^2.
constexpr std::string_view softmax_mscale_families[] = {"deepseek_v3", "deepseek_v32", "glm4_moe_lite",
                                                        "glm_moe_dsa", "youtu",        "longcat_flash"};
// Config classes whose no_rope_layers (1 = the layer applies RoPE) default to a NoPE layer every
// no_rope_layer_interval (4) layers: Llama4TextConfig, SmolLM3Config.
constexpr std::string_view no_rope_families[] = {"llama4_text", "smollm3"};
// Rotary classes whose own compute_default_rope_parameters takes dim = head_dim, not reading
// partial_rotary_factor (their attention, or another rope_type, may still use it).
constexpr std::string_view default_ignores_partial[] = {"bamba", "gemma4_text", "gemma4_unified_text",
                                                        "gpt_neox_japanese", "mistral4"};
// Families whose rotary is not the 1-D frequencies of Params, with why.
struct UnsupportedRow {
  std::string_view model_type, why;
};
constexpr UnsupportedRow unsupported_families[] = {
    {"ernie4_5_vl_moe_text",
     "its rotary reorders the frequencies for 3-D positions (inv_freq_3d in modeling_ernie4_5_vl_moe), a "
     "layout Params does not describe"},
};
// The config classes' attribute_map entries for the keys read here: the key a config.json stores.
struct Alias {
  std::string_view model_type, key, stored;
};
constexpr Alias attribute_maps[] = {
    {"gptj", "hidden_size", "n_embd"},
    {"gptj", "num_attention_heads", "n_head"},
    {"gptj", "max_position_embeddings", "n_positions"},
    {"gptj", "num_hidden_layers", "n_layer"},
    {"codegen", "hidden_size", "n_embd"},
    {"codegen", "num_attention_heads", "n_head"},
    {"codegen", "max_position_embeddings", "n_positions"},
    {"codegen", "num_hidden_layers", "n_layer"},
    {"jetmoe", "head_dim", "kv_channels"},
    {"moonshine", "num_attention_heads", "decoder_num_attention_heads"},
    {"moonshine", "num_key_value_heads", "decoder_num_key_value_heads"},
    {"moonshine", "num_hidden_layers", "decoder_num_hidden_layers"},
    {"voxtral_realtime_encoder", "num_key_value_heads", "num_attention_heads"},
};
std::string stored_key(std::string_view model_type, std::string_view key) {
  for (const auto& a : attribute_maps)
    if (a.model_type == model_type && a.key == key) return std::string(a.stored);
  return std::string(key);
}
// Sub-configs the reference builds its text (or only rotary) model from, in the order looked for;
// one may hold another (Qwen2.5-Omni's thinker_config.text_config, Pi0's vlm_config.text_config).
constexpr std::string_view text_config_keys[] = {
    "text_config",     "thinker_config", "decoder_config", "decoder",
    "language_config", "llm_config",     "vlm_config",
    "encoder_config",  // LASR-CTC: the encoder is the rotary model
    "dit_config"};     // Qwen2.5-Omni token2wav: its DiT
// Top-level configs whose own RoPE keys differ from their text sub-config's by design.
constexpr std::string_view own_top_level_rope[] = {
    "blt",            // BltConfig keeps its own rope_parameters and context beside its four sub-configs
    "musicflamingo",  // the top-level rope_parameters are its audio encoder's (MusicFlamingoRotaryEmbedding)
};
// Keys that would be read from the text sub-config: a different value beside it is contradictory.
constexpr std::string_view rope_keys[] = {"rope_theta", "rope_scaling",          "rope_parameters",
                                          "head_dim",   "partial_rotary_factor", "max_position_embeddings"};

// The row of a family table for a model type, or nullptr.
template <class Row, std::size_t N>
const Row* row_of(const Row (&rows)[N], std::string_view model_type) {
  for (const auto& row : rows)
    if (row.model_type == model_type) return &row;
  return nullptr;
}

template <std::size_t N>
bool listed(const std::string_view (&types)[N], std::string_view model_type) {
  for (std::string_view type : types)
    if (type == model_type) return true;
  return false;
}

// What every layer type shares: the head geometry and the top-level (v4) keys.
struct Geometry {
  int head_dim = 0;
  std::optional<double> partial;  // top level: partial_rotary_factor or rotary_pct
  std::optional<double> theta;    // top level: rope_theta (or rotary_emb_base)
  std::int64_t max_position_embeddings = Params{}.max_position_embeddings;
  std::string max_key_absent;            // the context length's key when the config lacks it
  std::optional<std::int64_t> original;  // top level original_max_position_embeddings
  std::optional<int> rotary_dim;         // GPT-J's own key
  bool default_reads_partial = true;     // see default_ignores_partial
};

int positive_dim(const Reader& r, const json& v, const std::string& key) {
  const auto d = r.integer(v, key);
  if (d <= 0 || d > (1 << 20)) r.fail(key, "must be in [1, 2^20]");
  return static_cast<int>(d);
}

// The head dimension the family's rotary module reads.
int head_dim_of(const Reader& r, const json& c, const std::string& model_type, int heads) {
  if (listed(qk_rope_families, model_type))
    if (const json* v = r.find(c, "qk_rope_head_dim")) return positive_dim(r, *v, "qk_rope_head_dim");
  if (model_type == "mistral4") {  // Mistral4Config: head_dim = qk_nope_head_dim + qk_rope_head_dim
    const json* rope = r.find(c, "qk_rope_head_dim");
    const json* nope = r.find(c, "qk_nope_head_dim");
    if (rope && nope)
      return positive_dim(r, *rope, "qk_rope_head_dim") + positive_dim(r, *nope, "qk_nope_head_dim");
  }
  // HF: `getattr(config, "head_dim", None) or hidden_size // num_attention_heads` (0 counts as absent).
  const std::string head_key = stored_key(model_type, "head_dim");
  if (const json* v = r.find(c, head_key); v && !(v->is_number() && v->get<double>() == 0.0))
    return positive_dim(r, *v, head_key);
  const std::string hidden_key = stored_key(model_type, "hidden_size");
  const std::string heads_key = stored_key(model_type, "num_attention_heads");
  const json* hidden = r.find(c, hidden_key);
  if (!hidden) r.fail(head_key, "is required (or " + hidden_key + " and " + heads_key + ")");
  if (heads == 0) r.fail(heads_key, "is required to derive head_dim from " + hidden_key);
  const auto h = r.integer(*hidden, hidden_key);
  if (h <= 0) r.fail(hidden_key, "must be > 0");
  const auto d = h / heads;  // floor division, as the reference's `//`
  if (d == 0)
    r.fail(hidden_key, "gives head_dim 0 (fewer than num_attention_heads = " + std::to_string(heads) + ")");
  if (d > (1 << 20)) r.fail(hidden_key, "gives head_dim > 2^20");
  return static_cast<int>(d);
}

// int(head_dim * factor) as the reference truncates it; it must be even, as the reference's
// frequencies base^(-2i/dim) with an odd dim cannot be those of any even rotary_dim.
void set_rotary_dim(const Reader& r, Params& p, double partial, const std::string& key) {
  if (!(partial > 0.0 && partial <= 1.0)) r.fail(key, "must be in (0, 1]");
  p.set_partial_rotary_factor(partial);
  if (p.rotary_dim % 2 != 0)
    r.fail(key, "gives an odd rotary dimension int(" + std::to_string(p.head_dim) +
                    " * partial_rotary_factor) = " + std::to_string(p.rotary_dim) +
                    " (the reference's exponent denominator; no even rotary_dim has its frequencies)");
}

// One layer type's parameters from its v5 block (`rope_parameters` or one of its per-layer-type
// entries) and/or the v4 `rope_scaling` block.
Params layer_params(const Reader& r, const Geometry& g, const json* v5, const std::string& v5_prefix,
                    const json* v4, const std::string& v4_prefix, std::optional<double> theta_default,
                    int head_dim) {
  Params p;
  p.head_dim = head_dim;
  p.max_position_embeddings = g.max_position_embeddings;
  p.theta = g.theta.value_or(theta_default.value_or(10000.0));
  if (const json* t = v5 ? r.find(*v5, "rope_theta") : nullptr) {
    const double theta = r.number(*t, v5_prefix + "rope_theta");
    if (g.theta && *g.theta != theta) r.fail(v5_prefix + "rope_theta", "contradicts rope_theta");
    p.theta = theta;
  }

  const auto v5_kind = v5 && (r.find(*v5, "rope_type") || r.find(*v5, "type"))
                           ? std::optional(scaling_kind(r, *v5, v5_prefix))
                           : std::nullopt;
  const auto v4_kind = v4 ? std::optional(scaling_kind(r, *v4, v4_prefix)) : std::nullopt;
  if (v4_kind && v5 && v4_kind != v5_kind.value_or("default"))
    r.fail(v5_prefix + "rope_type", "('" + v5_kind.value_or("default") + "') contradicts " +
                                        v4_prefix.substr(0, v4_prefix.size() - 1) + " ('" + *v4_kind + "')");
  const json* block = v5_kind ? v5 : v4;
  const std::string& prefix = v5_kind ? v5_prefix : v4_prefix;
  const std::string kind = v5_kind ? *v5_kind : v4_kind.value_or("default");

  auto partial = g.partial;
  std::string partial_key = "partial_rotary_factor";
  if (v5)
    if (auto v = optional_number(r, *v5, v5_prefix, "partial_rotary_factor")) {
      partial = v;
      partial_key = v5_prefix + "partial_rotary_factor";
    }
  p.rotary_dim = p.head_dim;
  if (kind == "proportional") {
    // Gemma 4: the whole head rotates; int(partial * head_dim // 2) pairs with the full head_dim
    // in the exponent, zero frequencies after them; every frequency divided by `factor`.
    const double share = partial.value_or(1.0);
    if (!(share >= 0.0 && share <= 1.0)) r.fail(partial_key, "must be in [0, 1]");
    p.rotated_pairs = static_cast<int>(std::floor(share * p.head_dim / 2.0));
    const double factor = block ? optional_number(r, *block, prefix, "factor").value_or(1.0) : 1.0;
    if (factor != 1.0) p.scaling = LinearScaling{factor};
    return p;
  }
  if (partial && (kind != "default" || g.default_reads_partial)) set_rotary_dim(r, p, *partial, partial_key);
  if (g.rotary_dim) p.rotary_dim = *g.rotary_dim;
  if (!g.max_key_absent.empty() &&
      (kind == "dynamic" || kind == "longrope" || kind == "su" ||
       (kind == "yarn" && !g.original && !(block && r.find(*block, "original_max_position_embeddings")))))
    r.fail(g.max_key_absent, "is required (rope_type '" + kind + "' reads it)");
  if (block) p.scaling = parse_scaling(r, *block, prefix, kind, g.original, p.max_position_embeddings);
  return p;
}

// Per layer: whether it applies RoPE, from a no_rope_layers list of 0/1 or its default.
std::vector<bool> uses_rope_of(const Reader& r, const json& c, std::int64_t layers) {
  std::vector<bool> out;
  const json* list = r.find(c, "no_rope_layers");
  if (list && !list->is_array()) r.fail("no_rope_layers", "must be a list of 0 and 1");
  if (list && !list->empty()) {  // the reference replaces an empty list by its default too
    if (static_cast<std::int64_t>(list->size()) != layers)
      r.fail("no_rope_layers", "has " + std::to_string(list->size()) +
                                   " entries for num_hidden_layers = " + std::to_string(layers));
    for (std::size_t i = 0; i < list->size(); ++i) {
      const auto v = r.integer((*list)[i], "no_rope_layers[" + std::to_string(i) + "]");
      if (v != 0 && v != 1) r.fail("no_rope_layers[" + std::to_string(i) + "]", "must be 0 (no RoPE) or 1");
      out.push_back(v == 1);
    }
    return out;
  }
  const auto interval = optional_int(r, c, "", "no_rope_layer_interval").value_or(4);
  if (interval <= 0) r.fail("no_rope_layer_interval", "must be > 0");
  for (std::int64_t i = 0; i < layers; ++i) out.push_back((i + 1) % interval != 0);
  return out;
}

std::vector<int> mrope_section_of(const Reader& r, const json& block, const std::string& prefix, int pairs) {
  std::vector<int> out;
  const json* v = r.find(block, "mrope_section");
  if (!v) return out;
  if (!v->is_array() || v->empty()) r.fail(prefix + "mrope_section", "must be a non-empty list of integers");
  std::int64_t sum = 0;
  for (std::size_t i = 0; i < v->size(); ++i) {
    const auto n = r.integer((*v)[i], prefix + "mrope_section[" + std::to_string(i) + "]");
    if (n < 0 || n > pairs)
      r.fail(prefix + "mrope_section[" + std::to_string(i) + "]",
             "must be in [0, " + std::to_string(pairs) + "]");
    sum += n;
    out.push_back(static_cast<int>(n));
  }
  if (sum != pairs)
    r.fail(prefix + "mrope_section",
           "sums to " + std::to_string(sum) +
               ", must equal the rotary pairs (rotary_dim / 2 = " + std::to_string(pairs) + ")");
  return out;
}

ModelRope parse(const std::string& json_text, const std::string& source) {
  Reader r(source);
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    Impl::throw_invalid_argument(
        {}, source + ": malformed JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const json::exception& e) {
    // Not a syntax error but still unreadable, e.g. a number beyond double's range (1e400:
    // out_of_range.406). Found by tests/fuzz (fuzz_config): it escaped as a json exception.
    Impl::throw_invalid_argument({}, source + ": malformed JSON: " + e.what());
  }
  if (!root.is_object()) r.fail("<root>", "must be a JSON object");

  HfConfig out;
  // The text sub-config, where the reference reads RoPE from; the top level otherwise.
  const json* c = &root;
  const json* root_type = r.find(root, "model_type");
  const bool own_rope =
      root_type && root_type->is_string() && listed(own_top_level_rope, root_type->get<std::string>());
  std::string path;
  for (bool descended = true; descended;) {
    descended = false;
    for (std::string_view key : text_config_keys) {
      const json* sub = r.find(*c, std::string(key));
      if (!sub) continue;
      if (!sub->is_object()) r.fail(std::string(key), "must be an object");
      const std::string sub_path = path + std::string(key);
      for (std::string_view k : rope_keys)
        if (const json* top = r.find(*c, std::string(k));
            !own_rope && top && sub->contains(k) && *top != (*sub)[std::string(k)])
          r.fail(std::string(k),
                 "(" + (path.empty() ? std::string("top level") : path.substr(0, path.size() - 1)) +
                     ") contradicts " + sub_path + "." + std::string(k));
      c = sub;
      path = sub_path + ".";
      r.set_prefix(path);
      descended = true;
      break;
    }
  }
  if (!path.empty()) out.text_config_path = path.substr(0, path.size() - 1);
  for (const json* obj : std::initializer_list<const json*>{
           c, &root})  // the text sub-config's model_type, else the top level's
    if (const json* v = r.find(*obj, "model_type"); v && out.model_type.empty()) {
      if (!v->is_string()) r.fail("model_type", "must be a string");
      out.model_type = v->get<std::string>();
    }
  const std::string& type = out.model_type;
  if (const auto* row = row_of(unsupported_families, type))
    r.fail("model_type", "('" + type + "') is not supported: " + std::string(row->why));
  const auto heads_of = [&](const std::string& key) {
    const auto heads = r.integer(*r.find(*c, key), key);
    if (heads <= 0 || heads > std::numeric_limits<int>::max()) r.fail(key, "must be > 0");
    return static_cast<int>(heads);
  };
  if (const std::string key = stored_key(type, "num_attention_heads"); r.find(*c, key))
    out.num_attention_heads = heads_of(key);
  out.num_key_value_heads = out.num_attention_heads;
  if (const std::string key = stored_key(type, "num_key_value_heads"); r.find(*c, key))
    out.num_key_value_heads = heads_of(key);

  Geometry g;
  g.head_dim = head_dim_of(r, *c, type, out.num_attention_heads);
  g.default_reads_partial = !listed(default_ignores_partial, type);
  const json* scaling = r.find(*c, "rope_scaling");
  const json* parameters = r.find(*c, "rope_parameters");
  if (scaling && !scaling->is_object()) r.fail("rope_scaling", "must be an object or null");
  if (parameters && !parameters->is_object()) r.fail("rope_parameters", "must be an object or null");

  g.theta = optional_number(r, *c, "", "rope_theta");
  if (auto neox = optional_number(r, *c, "", "rotary_emb_base")) {  // GPT-NeoX's spelling
    if (g.theta && *g.theta != *neox) r.fail("rotary_emb_base", "contradicts rope_theta");
    g.theta = neox;
  }
  g.partial = optional_number(r, *c, "", "partial_rotary_factor");
  if (!g.partial) g.partial = optional_number(r, *c, "", "rotary_pct");
  if (type == "mistral4" && !g.partial)  // Mistral4Config's default: qk_rope_head_dim / head_dim
    if (const json* v = r.find(*c, "qk_rope_head_dim"))
      g.partial = r.number(*v, "qk_rope_head_dim") / g.head_dim;

  const std::string max_key = stored_key(type, "max_position_embeddings");
  // The default RoPE of the reference never reads the context length: absent, Params' default
  // stands, and the kinds that read it require it (layer_params).
  if (const json* mp = r.find(*c, max_key))
    g.max_position_embeddings = r.integer(*mp, max_key);
  else
    g.max_key_absent = max_key;
  g.original = optional_int(r, *c, "", "original_max_position_embeddings");
  if (type == "clvp_encoder") {
    // ClvpRotaryPositionalEmbedding: dim = max(projection_dim // (num_attention_heads * 2), 32), base 10000.
    const json* v = r.find(*c, "projection_dim");
    if (!v) r.fail("projection_dim", "is required (CLVP's rotary dimension derives from it)");
    const auto projection = r.integer(*v, "projection_dim");
    if (projection <= 0 || out.num_attention_heads == 0)
      r.fail("projection_dim", "must be > 0, with num_attention_heads");
    g.rotary_dim = static_cast<int>(std::max<std::int64_t>(projection / (2 * out.num_attention_heads), 32));
  }
  if (type == "gptj" || type == "codegen") {
    // modeling_gptj: a sinusoidal table of rotary_dim columns, base 10000. Without rotary_dim the
    // table spans n_embd while the heads have head_dim: the reference's apply fails.
    const json* v = r.find(*c, "rotary_dim");
    if (!v) r.fail("rotary_dim", "is required (without it the reference's GPT-J attention fails)");
    g.rotary_dim = positive_dim(r, *v, "rotary_dim");
  }
  const auto num_layers = optional_int(r, *c, "", stored_key(type, "num_hidden_layers"));

  // Parameters per layer type.
  std::map<std::string, Params> by_type;
  std::string global = ModelRope::all_layers;
  std::vector<std::string> layer_types;
  bool keyed = false;
  if (parameters)
    for (const auto& [key, value] : parameters->items()) keyed = keyed || value.is_object();
  const bool gemma3_v4 = !keyed && r.find(*c, "rope_local_base_freq");
  const bool modernbert_v4 = !keyed && (r.find(*c, "global_rope_theta") || r.find(*c, "local_rope_theta"));
  if (keyed) {
    // A top-level rope_theta beside per-layer-type blocks is only their default (DeepSeek V4).
    Geometry per_type = g;
    per_type.theta.reset();
    for (const auto& [key, value] : parameters->items()) {
      if (!value.is_object()) continue;  // a stray scalar beside the layer types is not read by the reference
      const std::string prefix = "rope_parameters." + key + ".";
      const json* head_key = key == "full_attention" ? r.find(*c, "global_head_dim") : nullptr;  // Gemma 4
      const int hd = head_key && head_key->is_number() && head_key->get<double>() != 0.0
                         ? positive_dim(r, *head_key, "global_head_dim")
                         : g.head_dim;
      by_type.emplace(key,
                      layer_params(r, per_type, &value, prefix, key == "full_attention" ? scaling : nullptr,
                                   "rope_scaling.", g.theta, hd));
    }
  } else if (gemma3_v4 || modernbert_v4) {
    // v4 spellings of two layer types: rope_scaling applies to the global layers only.
    Geometry local = g;
    local.theta = optional_number(r, *c, "", gemma3_v4 ? "rope_local_base_freq" : "local_rope_theta");
    Geometry full = g;
    if (modernbert_v4) full.theta = optional_number(r, *c, "", "global_rope_theta");
    by_type.emplace("sliding_attention",
                    layer_params(r, local, parameters, "rope_parameters.", nullptr, "", 10000.0, g.head_dim));
    by_type.emplace("full_attention",
                    layer_params(r, full, parameters, "rope_parameters.", scaling, "rope_scaling.",
                                 gemma3_v4 ? 1000000.0 : 160000.0, g.head_dim));
    if (num_layers && *num_layers <= (1 << 20) && !r.find(*c, "layer_types")) {
      const auto n = gemma3_v4 ? optional_int(r, *c, "", "sliding_window_pattern").value_or(6)
                               : optional_int(r, *c, "", "global_attn_every_n_layers").value_or(3);
      if (n <= 0) r.fail(gemma3_v4 ? "sliding_window_pattern" : "global_attn_every_n_layers", "must be > 0");
      for (std::int64_t i = 0; i < *num_layers; ++i)
        layer_types.push_back((gemma3_v4 ? (i + 1) % n : i % n) ? "sliding_attention" : "full_attention");
    }
  } else {
    by_type.emplace(global, layer_params(r, g, parameters, "rope_parameters.", scaling, "rope_scaling.",
                                         std::nullopt, g.head_dim));
  }
  if (by_type.size() > 1 || !by_type.count(global))
    global = by_type.count("full_attention") ? "full_attention"
             : by_type.count("main")         ? "main"
                                             : by_type.begin()->first;

  // DeepSeek V4's keys are the rotaries of the main attention and of its compressor
  // (modeling_deepseek_v4), not layer types: its layer_types name attention kinds.
  const bool keys_are_layer_types = type != "deepseek_v4";
  if (const json* list = r.find(*c, "layer_types");
      list && keys_are_layer_types && (keyed || gemma3_v4 || modernbert_v4)) {
    if (!list->is_array()) r.fail("layer_types", "must be a list of strings");
    layer_types.clear();
    for (std::size_t i = 0; i < list->size(); ++i) {
      const std::string key = "layer_types[" + std::to_string(i) + "]";
      if (!(*list)[i].is_string()) r.fail(key, "must be a string");
      const std::string t = (*list)[i].get<std::string>();
      if (!by_type.count(t)) r.fail(key, "('" + t + "') is a layer type without RoPE parameters");
      layer_types.push_back(t);
    }
  }
  if (layer_types.empty() && by_type.size() == 1 && num_layers && *num_layers > 0 && *num_layers <= (1 << 20))
    layer_types.assign(static_cast<std::size_t>(*num_layers), global);
  std::vector<bool> uses_rope;
  if (listed(no_rope_families, type) && !layer_types.empty())
    uses_rope = uses_rope_of(r, *c, static_cast<std::int64_t>(layer_types.size()));

  // Pair style: the family's apply function, or DeepSeek's rope_interleave.
  PairStyle style = row_of(interleaved_families, type) ? PairStyle::interleaved : PairStyle::half_split;
  const json* interleave = r.find(*c, "rope_interleave");
  if (interleave && !interleave->is_boolean()) r.fail("rope_interleave", "must be true or false");
  if (const InterleaveRow* row = row_of(rope_interleave_families, type)) {
    if (row->always || !interleave || interleave->get<bool>()) {
      style = PairStyle::interleaved;
      out.interleaved_output_half_split = true;
    }
  }
  for (auto& [key, p] : by_type) {
    p.pair_style = style;
    try {
      p.validate();
    } catch (const InvalidArgument& e) {
      // The same message, less its "KokkosRope: " prefix (the helper adds it again), with the file.
      const std::string what = e.what();
      Impl::throw_invalid_argument({}, what.substr(what.find(": ") + 2) + " (from " + source + ")");
    }
  }

  // DeepSeek's attention multiplies its softmax scale by mscale^2 (mscale_all_dim, YaRN only).
  const Params& gp = by_type.at(global);
  if (const auto* y = std::get_if<YarnScaling>(&gp.scaling); y && listed(softmax_mscale_families, type))
    if (y->mscale_all_dim && *y->mscale_all_dim != 0.0) {  // Python truthiness, as the reference
      const double m = yarn_mscale(y->factor, *y->mscale_all_dim);
      out.softmax_scale_factor = m * m;
    }
  // M-RoPE sections, in whichever block carries them.
  for (auto [block, prefix] :
       {std::pair{parameters, "rope_parameters."}, std::pair{scaling, "rope_scaling."}}) {
    if (!block || keyed || !out.mrope_section.empty()) continue;
    out.mrope_section = mrope_section_of(r, *block, prefix, gp.num_pairs());
    if (const json* v = r.find(*block, "mrope_interleaved")) {
      if (!v->is_boolean()) r.fail(std::string(prefix) + "mrope_interleaved", "must be true or false");
      out.mrope_interleaved = v->get<bool>();
    }
  }
  return ModelRope(std::move(out), std::move(by_type), global, std::move(layer_types), std::move(uses_rope));
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Impl::throw_invalid_argument({}, "cannot open config file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) Impl::throw_invalid_argument({}, "cannot read config file '" + path + "'");
  return text.str();
}

}  // namespace

HfConfig parse_hf_config(const std::string& json_text, const std::string& source) {
  return parse(json_text, source).config();
}

HfConfig load_hf_config(const std::string& path) {
  return parse_hf_config(read_file(path), path);
}

MropeSection mrope_section_of(const HfConfig& config) {
  const auto& v = config.mrope_section;
  if (v.size() != 3)
    Impl::throw_invalid_argument("mrope_section_of", "invalid mrope_section: has " + std::to_string(v.size()) +
                                                         " entries, multimodal positions need 3 (temporal, "
                                                         "height, width)");
  return {v[0], v[1], v[2], config.mrope_interleaved ? MropeLayout::interleaved : MropeLayout::sectioned};
}

ModelRope parse_model_rope(const std::string& json_text, const std::string& source) {
  return parse(json_text, source);
}

ModelRope load_model_rope(const std::string& path) {
  return parse_model_rope(read_file(path), path);
}

}  // namespace KokkosRope
