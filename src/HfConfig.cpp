// SPDX-License-Identifier: Apache-2.0
#include <KokkosRope/HfConfig.hpp>
#include <KokkosRope/impl/KokkosRope_Error.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <limits>
#include <sstream>

namespace KokkosRope {
namespace {

using json = nlohmann::json;

class Reader {
 public:
  explicit Reader(std::string source) : m_source(std::move(source)) {}

  [[noreturn]] void fail(const std::string& key, const std::string& why) const {
    Impl::throw_invalid_argument({}, m_source + ": key '" + key + "' " + why);
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
  if (rope_type && type && rope_type->get<std::string>() != type->get<std::string>())
    r.fail(prefix + "type", "('" + type->get<std::string>() + "') contradicts " + prefix +
                                "rope_type ('" + rope_type->get<std::string>() + "')");
  if (rope_type) return rope_type->get<std::string>();
  if (type) return type->get<std::string>();
  r.fail(prefix + "rope_type", "is required");
}

Scaling parse_scaling(const Reader& r, const json& block, const std::string& prefix,
                      const std::string& kind, std::optional<std::int64_t> top_level_original,
                      std::int64_t max_position_embeddings) {
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
  r.fail(prefix + "rope_type", "has unknown value '" + kind +
                                   "' (known: default, linear, ntk, dynamic, yarn, longrope, llama3)");
}

}  // namespace

HfConfig parse_hf_config(const std::string& json_text, const std::string& source) {
  const Reader r(source);
  json root;
  try {
    root = json::parse(json_text);
  } catch (const json::parse_error& e) {
    Impl::throw_invalid_argument({}, source + ": malformed JSON at byte " + std::to_string(e.byte) + ": " + e.what());
  } catch (const json::exception& e) {
    // Not a syntax error but still unreadable, e.g. a number beyond double's range (1e400:
    // out_of_range.406). Found by tests/fuzz (fuzz_config): it escaped as a json exception.
    Impl::throw_invalid_argument({}, source + ": malformed JSON: " + e.what());
  }
  if (!root.is_object()) r.fail("<root>", "must be a JSON object");

  HfConfig out;
  if (const json* v = r.find(root, "model_type")) {
    if (!v->is_string()) r.fail("model_type", "must be a string");
    out.model_type = v->get<std::string>();
  }
  if (const json* v = r.find(root, "num_attention_heads")) {
    const auto heads = r.integer(*v, "num_attention_heads");
    if (heads <= 0 || heads > std::numeric_limits<int>::max()) r.fail("num_attention_heads", "must be > 0");
    out.num_attention_heads = static_cast<int>(heads);
  }
  out.num_key_value_heads = out.num_attention_heads;
  if (const json* v = r.find(root, "num_key_value_heads")) {
    const auto heads = r.integer(*v, "num_key_value_heads");
    if (heads <= 0 || heads > std::numeric_limits<int>::max()) r.fail("num_key_value_heads", "must be > 0");
    out.num_key_value_heads = static_cast<int>(heads);
  }

  Params& p = out.params;
  // head_dim, else hidden_size / num_attention_heads (HF: `head_dim or hidden // heads`).
  if (const json* v = r.find(root, "head_dim")) {
    const auto d = r.integer(*v, "head_dim");
    if (d <= 0 || d > (1 << 20)) r.fail("head_dim", "must be in [1, 2^20]");
    p.head_dim = static_cast<int>(d);
  } else {
    const json* hidden = r.find(root, "hidden_size");
    if (!hidden) r.fail("head_dim", "is required (or hidden_size and num_attention_heads)");
    if (out.num_attention_heads == 0) r.fail("num_attention_heads", "is required to derive head_dim from hidden_size");
    const auto h = r.integer(*hidden, "hidden_size");
    if (h <= 0 || h % out.num_attention_heads != 0)
      r.fail("hidden_size", "must be a positive multiple of num_attention_heads (" +
                                std::to_string(out.num_attention_heads) + ")");
    const auto d = h / out.num_attention_heads;
    if (d > (1 << 20)) r.fail("hidden_size", "gives head_dim > 2^20");
    p.head_dim = static_cast<int>(d);
  }

  const json* scaling = r.find(root, "rope_scaling");
  const json* parameters = r.find(root, "rope_parameters");
  if (scaling && !scaling->is_object()) r.fail("rope_scaling", "must be an object or null");
  if (parameters && !parameters->is_object()) r.fail("rope_parameters", "must be an object or null");

  // rope_theta and partial_rotary_factor: top level (v4) or inside rope_parameters (v5).
  auto theta_top = optional_number(r, root, "", "rope_theta");
  if (auto neox = optional_number(r, root, "", "rotary_emb_base")) {  // GPT-NeoX's spelling
    if (theta_top && *theta_top != *neox) r.fail("rotary_emb_base", "contradicts rope_theta");
    theta_top = neox;
  }
  auto theta_v5 = parameters ? optional_number(r, *parameters, "rope_parameters.", "rope_theta") : std::nullopt;
  if (theta_top && theta_v5 && *theta_top != *theta_v5)
    r.fail("rope_parameters.rope_theta", "contradicts rope_theta");
  p.theta = theta_v5 ? *theta_v5 : theta_top.value_or(10000.0);

  auto partial = optional_number(r, root, "", "partial_rotary_factor");
  if (!partial) partial = optional_number(r, root, "", "rotary_pct");
  if (parameters)
    if (auto v = optional_number(r, *parameters, "rope_parameters.", "partial_rotary_factor")) partial = v;
  p.rotary_dim = p.head_dim;
  if (partial) {
    if (!(*partial > 0.0 && *partial <= 1.0)) r.fail("partial_rotary_factor", "must be in (0, 1]");
    p.set_partial_rotary_factor(*partial);
  }

  const json* mp = r.find(root, "max_position_embeddings");
  if (!mp) r.fail("max_position_embeddings", "is required");
  p.max_position_embeddings = r.integer(*mp, "max_position_embeddings");
  const auto top_original = optional_int(r, root, "", "original_max_position_embeddings");

  if (scaling && parameters) {
    const auto a = scaling_kind(r, *scaling, "rope_scaling.");
    const auto b = r.find(*parameters, "rope_type") || r.find(*parameters, "type")
                       ? scaling_kind(r, *parameters, "rope_parameters.") : std::string("default");
    if (a != b) r.fail("rope_parameters.rope_type", "('" + b + "') contradicts rope_scaling ('" + a + "')");
  }
  if (parameters && (r.find(*parameters, "rope_type") || r.find(*parameters, "type"))) {
    p.scaling = parse_scaling(r, *parameters, "rope_parameters.", scaling_kind(r, *parameters, "rope_parameters."), top_original,
                              p.max_position_embeddings);
  } else if (scaling) {
    p.scaling = parse_scaling(r, *scaling, "rope_scaling.", scaling_kind(r, *scaling, "rope_scaling."), top_original,
                              p.max_position_embeddings);
  }

  try {
    p.validate();
  } catch (const InvalidArgument& e) {
    // The same message, less its "KokkosRope: " prefix (the helper adds it again), with the file.
    const std::string what = e.what();
    Impl::throw_invalid_argument({}, what.substr(what.find(": ") + 2) + " (from " + source + ")");
  }
  return out;
}

HfConfig load_hf_config(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) Impl::throw_invalid_argument({}, "cannot open config file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) Impl::throw_invalid_argument({}, "cannot read config file '" + path + "'");
  return parse_hf_config(text.str(), path);
}

}  // namespace KokkosRope
