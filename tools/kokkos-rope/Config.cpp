// SPDX-License-Identifier: Apache-2.0
// RoPE parameters from --config and the command-line flags.
#include "Common.hpp"

#include <KokkosRope/HfConfig.hpp>
#include <KokkosRope/ModelRope.hpp>

#include <type_traits>
#include <variant>

namespace KokkosRopeTool {

using namespace KokkosRope;

namespace {

Scaling scaling_from_name(const std::string& name) {
  if (name == "default" || name == "none") return NoScaling{};
  if (name == "linear") return LinearScaling{};
  if (name == "ntk") return NtkScaling{};
  if (name == "dynamic") return DynamicNtkScaling{};
  if (name == "yarn") return YarnScaling{};
  if (name == "longrope") return LongRopeScaling{};
  if (name == "llama3") return Llama3Scaling{};
  throw Error("--rope-type: unknown value '" + name +
              "' (expected default, linear, ntk, dynamic, yarn, longrope or llama3)");
}

// Applies one optional flag to a field of the scaling, or fails when the kind has no such field.
template <class V, class Setter>
void apply_flag(Scaling& scaling, const char* flag, const std::optional<V>& value, Setter setter) {
  if (!value) return;
  const bool applied = std::visit([&](auto& s) { return setter(s, *value); }, scaling);
  if (!applied)
    throw Error(std::string(flag) + " does not apply to rope_type '" + rope_type_name(scaling) + "'");
}

}  // namespace

ModelInfo resolve_params(const ParamOptions& o) {
  ModelInfo info;
  if (!o.config.empty()) {
    try {
      info.model.emplace(load_model_rope(o.config));
    } catch (const std::exception& e) {
      throw Error(std::string("--config: ") + e.what());
    }
    const HfConfig& hf = info.model->config();
    info.params = hf.params;
    info.model_type = hf.model_type;
    info.source = o.config;
    if (o.layer_type) {
      try {
        info.params = info.model->params(*o.layer_type);
      } catch (const std::exception& e) {
        std::string types;
        for (const auto& t : info.model->layer_types()) types += (types.empty() ? "" : ", ") + t;
        throw Error("--layer-type: " + std::string(e.what()) + " (layer types of " + o.config + ": " + types + ")");
      }
      info.layer_type = *o.layer_type;
    }
    if (hf.mrope_section.size() == 3) info.mrope = mrope_section_of(hf);
  } else {
    info.source = "command-line flags";
    if (o.layer_type) throw Error("--layer-type needs --config (the layer types are the config's)");
  }
  if (!o.mrope_section.empty()) {
    if (o.mrope_section.size() != 3)
      throw Error("--mrope-section: " + std::to_string(o.mrope_section.size()) +
                  " values given, expected 3 (temporal,height,width)");
    info.mrope = MropeSection{o.mrope_section[0], o.mrope_section[1], o.mrope_section[2]};
  }
  if (o.mrope_interleaved) {
    if (!info.mrope) throw Error("--mrope-interleaved needs an mrope_section (from --config or --mrope-section)");
    info.mrope->layout = MropeLayout::interleaved;
  }
  Params& p = info.params;
  if (o.head_dim) {
    p.head_dim = *o.head_dim;
    if (!o.rotary_dim && !o.partial_rotary_factor) p.rotary_dim = *o.head_dim;
  }
  if (o.rotary_dim && o.partial_rotary_factor)
    throw Error("--rotary-dim and --partial-rotary-factor are mutually exclusive");
  if (o.rotary_dim) p.rotary_dim = *o.rotary_dim;
  if (o.partial_rotary_factor) p.set_partial_rotary_factor(*o.partial_rotary_factor);
  if (o.theta) p.theta = *o.theta;
  if (o.max_position_embeddings) p.max_position_embeddings = *o.max_position_embeddings;
  if (o.interleaved) p.pair_style = PairStyle::interleaved;
  if (o.rope_type) p.scaling = scaling_from_name(*o.rope_type);

  auto& s = p.scaling;
  apply_flag(s, "--factor", o.factor, [](auto& k, double v) {
    using K = std::decay_t<decltype(k)>;
    if constexpr (std::is_same_v<K, NoScaling>) return false;
    else { k.factor = v; return true; }
  });
  apply_flag(s, "--original-max-position-embeddings", o.original_max_position_embeddings,
             [](auto& k, std::int64_t v) {
               using K = std::decay_t<decltype(k)>;
               if constexpr (std::is_same_v<K, YarnScaling> || std::is_same_v<K, LongRopeScaling> ||
                             std::is_same_v<K, Llama3Scaling>) {
                 k.original_max_position_embeddings = v;
                 return true;
               } else {
                 return false;
               }
             });
  auto llama3_field = [](double Llama3Scaling::*field) {
    return [field](auto& k, double v) {
      if constexpr (std::is_same_v<std::decay_t<decltype(k)>, Llama3Scaling>) { k.*field = v; return true; }
      else return false;
    };
  };
  apply_flag(s, "--low-freq-factor", o.low_freq_factor, llama3_field(&Llama3Scaling::low_freq_factor));
  apply_flag(s, "--high-freq-factor", o.high_freq_factor, llama3_field(&Llama3Scaling::high_freq_factor));
  auto yarn_field = [](auto field) {
    return [field](auto& k, double v) {
      if constexpr (std::is_same_v<std::decay_t<decltype(k)>, YarnScaling>) { k.*field = v; return true; }
      else return false;
    };
  };
  apply_flag(s, "--beta-fast", o.beta_fast, yarn_field(&YarnScaling::beta_fast));
  apply_flag(s, "--beta-slow", o.beta_slow, yarn_field(&YarnScaling::beta_slow));
  apply_flag(s, "--mscale", o.mscale, yarn_field(&YarnScaling::mscale));
  apply_flag(s, "--mscale-all-dim", o.mscale_all_dim, yarn_field(&YarnScaling::mscale_all_dim));
  apply_flag(s, "--truncate", o.truncate, [](auto& k, bool v) {
    if constexpr (std::is_same_v<std::decay_t<decltype(k)>, YarnScaling>) { k.truncate = v; return true; }
    else return false;
  });
  apply_flag(s, "--attention-factor", o.attention_factor, [](auto& k, double v) {
    using K = std::decay_t<decltype(k)>;
    if constexpr (std::is_same_v<K, YarnScaling> || std::is_same_v<K, LongRopeScaling>) {
      k.attention_factor = v;
      return true;
    } else {
      return false;
    }
  });
  auto lists = [&](const char* flag, const std::vector<double>& values, std::vector<double> LongRopeScaling::*field) {
    if (values.empty()) return;
    auto* lr = std::get_if<LongRopeScaling>(&s);
    if (!lr) throw Error(std::string(flag) + " does not apply to rope_type '" + rope_type_name(s) + "'");
    lr->*field = values;
  };
  lists("--short-factor", o.short_factor, &LongRopeScaling::short_factor);
  lists("--long-factor", o.long_factor, &LongRopeScaling::long_factor);

  try {
    p.validate();
  } catch (const std::exception& e) {
    throw Error(std::string("invalid RoPE parameters (") + info.source + "): " + e.what());
  }
  if (info.mrope) {
    const MropeSection& m = *info.mrope;
    if (m.temporal < 0 || m.height < 0 || m.width < 0 || m.temporal + m.height + m.width != p.num_pairs())
      throw Error((o.mrope_section.empty() ? "mrope_section of " + info.source : std::string("--mrope-section")) +
                  ": " + std::to_string(m.temporal) + "," + std::to_string(m.height) + "," +
                  std::to_string(m.width) + " must be three counts >= 0 summing to the " +
                  std::to_string(p.num_pairs()) + " rotary pairs");
  }
  if (o.seq_len && *o.seq_len <= 0)
    throw Error("--seq-len: invalid value " + std::to_string(*o.seq_len) + ": must be > 0");
  return info;
}

Precision parse_precision(const std::string& name) {
  if (name == "accurate") return Precision::accurate;
  if (name == "hf_compatible") return Precision::hf_compatible;
  throw Error("--precision: unknown value '" + name + "' (expected accurate or hf_compatible)");
}

Layout parse_layout(const std::string& name) {
  if (name == "bshd") return Layout::bshd;
  if (name == "bhsd") return Layout::bhsd;
  if (name == "thd") return Layout::thd;
  throw Error("--layout: unknown layout '" + name + "' (expected bshd, bhsd or thd)");
}

std::string layout_name(Layout layout) {
  switch (layout) {
    case Layout::bshd: return "bshd";
    case Layout::bhsd: return "bhsd";
    case Layout::thd: return "thd";
  }
  return "?";
}

}  // namespace KokkosRopeTool
