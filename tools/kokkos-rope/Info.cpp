// SPDX-License-Identifier: Apache-2.0
// `kokkos-rope info`: a model's RoPE at a glance, as text or JSON.
#include "Common.hpp"

#include <KokkosRope/Version.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <iostream>
#include <sstream>
#include <type_traits>
#include <variant>

namespace KokkosRopeTool {

using namespace KokkosRope;

namespace {

constexpr double two_pi = 6.283185307179586;

std::string num(double v) {
  std::ostringstream s;
  s.precision(10);
  s << v;
  return s.str();
}

// The scaling's own parameters, as (key, value) pairs in the reference framework's names.
nlohmann::ordered_json scaling_json(const Scaling& scaling) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  std::visit(
      [&](const auto& s) {
        using S = std::decay_t<decltype(s)>;
        if constexpr (std::is_same_v<S, LinearScaling> || std::is_same_v<S, NtkScaling> ||
                      std::is_same_v<S, DynamicNtkScaling>) {
          j["factor"] = s.factor;
        } else if constexpr (std::is_same_v<S, YarnScaling>) {
          j["factor"] = s.factor;
          if (s.original_max_position_embeddings) j["original_max_position_embeddings"] = *s.original_max_position_embeddings;
          j["beta_fast"] = s.beta_fast;
          j["beta_slow"] = s.beta_slow;
          if (s.mscale) j["mscale"] = *s.mscale;
          if (s.mscale_all_dim) j["mscale_all_dim"] = *s.mscale_all_dim;
          if (s.attention_factor) j["attention_factor"] = *s.attention_factor;
          j["truncate"] = s.truncate;
        } else if constexpr (std::is_same_v<S, LongRopeScaling>) {
          if (s.factor) j["factor"] = *s.factor;
          if (s.original_max_position_embeddings) j["original_max_position_embeddings"] = *s.original_max_position_embeddings;
          if (s.attention_factor) j["attention_factor"] = *s.attention_factor;
          j["short_factor"] = s.short_factor;
          j["long_factor"] = s.long_factor;
        } else if constexpr (std::is_same_v<S, Llama3Scaling>) {
          j["factor"] = s.factor;
          j["low_freq_factor"] = s.low_freq_factor;
          j["high_freq_factor"] = s.high_freq_factor;
          j["original_max_position_embeddings"] = s.original_max_position_embeddings;
        }
      },
      scaling);
  return j;
}

// The context the model was pretrained with, and the one the scaling extends it to.
std::pair<std::int64_t, std::int64_t> contexts(const Params& p) {
  const std::int64_t max_pos = p.max_position_embeddings;
  return std::visit(
      [&](const auto& s) -> std::pair<std::int64_t, std::int64_t> {
        using S = std::decay_t<decltype(s)>;
        auto scaled = [](std::int64_t n, double f) { return static_cast<std::int64_t>(std::llround(n * f)); };
        if constexpr (std::is_same_v<S, NoScaling>) {
          return {max_pos, max_pos};
        } else if constexpr (std::is_same_v<S, LinearScaling> || std::is_same_v<S, NtkScaling> ||
                             std::is_same_v<S, DynamicNtkScaling>) {
          return {max_pos, scaled(max_pos, s.factor)};
        } else if constexpr (std::is_same_v<S, Llama3Scaling>) {
          const std::int64_t orig = s.original_max_position_embeddings;
          return {orig, max_pos > orig ? max_pos : scaled(orig, s.factor)};
        } else if constexpr (std::is_same_v<S, YarnScaling>) {
          if (s.original_max_position_embeddings) {
            const std::int64_t orig = *s.original_max_position_embeddings;
            return {orig, max_pos > orig ? max_pos : scaled(orig, s.factor)};
          }
          return {max_pos, scaled(max_pos, s.factor)};
        } else {  // LongRoPE
          const std::int64_t orig = s.original_max_position_embeddings.value_or(max_pos);
          if (max_pos > orig) return {orig, max_pos};
          return {orig, s.factor ? scaled(orig, *s.factor) : orig};
        }
      },
      p.scaling);
}

// The per-pair rows: frequency, wavelength, band, turns within both contexts.
void print_pairs(std::ostream& out, const Params& p, std::optional<std::int64_t> seq_len) {
  const Frequencies freqs = compute_frequencies(p, seq_len);
  const std::vector<Band> bands = compute_bands(p, seq_len);
  const auto [original, extended] = contexts(p);
  out << "\n  pair  inv_freq          wavelength      band     turns@" << original << "  turns@" << extended << "\n";
  for (int i = 0; i < p.num_pairs(); ++i) {
    const double wavelength = two_pi / freqs.inv_freq[i];
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %4d  %.10e  %14.2f  %-7s  %12.4g  %12.4g\n", i, freqs.inv_freq[i], wavelength,
                  band_name(bands[i]).c_str(), original / wavelength, extended / wavelength);
    out << buf;
  }
}

std::string pair_style_name(const Params& p) {
  return p.pair_style == PairStyle::half_split ? "half_split" : "interleaved";
}

// One line per layer type: kind, base, geometry, attention factor.
std::string layer_type_summary(const Params& p, std::optional<std::int64_t> seq_len) {
  std::string line = rope_type_name(p.scaling) + ", theta " + num(p.theta) + ", rotary_dim " +
                     std::to_string(p.rotary_dim) + " of " + std::to_string(p.head_dim) + " (" + pair_style_name(p) +
                     ")";
  if (p.rotated_pairs) line += ", " + std::to_string(*p.rotated_pairs) + " pairs rotated";
  return line + ", attention_factor " + num(compute_frequencies(p, seq_len).attention_factor);
}

// "3, 7, 11" for a list of layer indices.
std::string join(const std::vector<int>& values) {
  std::string s;
  for (int v : values) s += (s.empty() ? "" : ", ") + std::to_string(v);
  return s;
}

}  // namespace

int run_info(const ParamOptions& param_options, const InfoOptions& options) {
  const ModelInfo model = resolve_params(param_options);
  const Params& p = model.params;
  const auto seq_len = param_options.seq_len;
  Frequencies freqs;
  std::vector<Band> bands;
  double eff_theta = p.theta;
  try {
    freqs = compute_frequencies(p, seq_len);
    bands = compute_bands(p, seq_len);
    eff_theta = effective_theta(p, seq_len);
  } catch (const std::exception& e) {
    throw Error(std::string("cannot compute the frequencies: ") + e.what());
  }
  const bool is_yarn = std::holds_alternative<YarnScaling>(p.scaling);
  CorrectionRange range;
  if (is_yarn) range = yarn_correction_range(p);
  const auto [original, extended] = contexts(p);
  const int pairs = p.num_pairs();
  std::vector<double> wavelength(pairs);
  int counts[3] = {0, 0, 0};
  int turns_original = 0, turns_extended = 0;
  for (int i = 0; i < pairs; ++i) {
    wavelength[i] = two_pi / freqs.inv_freq[i];
    ++counts[static_cast<int>(bands[i])];
    if (wavelength[i] <= static_cast<double>(original)) ++turns_original;
    if (wavelength[i] <= static_cast<double>(extended)) ++turns_extended;
  }
  const std::string pair_style = pair_style_name(p);
  const ModelRope* layers = model.model ? &*model.model : nullptr;
  const bool per_layer = layers && layers->layer_types().size() > 1;
  const double softmax_scale_factor = layers ? layers->config().softmax_scale_factor : 1.0;

  if (options.json) {
    nlohmann::ordered_json j;
    j["source"] = model.source;
    j["model_type"] = model.model_type;
    j["rope_type"] = rope_type_name(p.scaling);
    j["head_dim"] = p.head_dim;
    j["rotary_dim"] = p.rotary_dim;
    j["pair_style"] = pair_style;
    j["theta"] = p.theta;
    j["effective_theta"] = eff_theta;
    j["max_position_embeddings"] = p.max_position_embeddings;
    j["seq_len"] = seq_len ? nlohmann::ordered_json(*seq_len) : nlohmann::ordered_json(nullptr);
    j["scaling"] = scaling_json(p.scaling);
    j["attention_factor"] = freqs.attention_factor;
    j["inv_freq"] = freqs.inv_freq;
    j["wavelength"] = wavelength;
    std::vector<std::string> names;
    for (Band b : bands) names.push_back(band_name(b));
    j["bands"] = names;
    j["band_counts"] = {{"kept", counts[0]}, {"blended", counts[1]}, {"scaled", counts[2]}};
    j["original_context"] = original;
    j["extended_context"] = extended;
    j["full_turn_pairs"] = {{"original", turns_original}, {"extended", turns_extended}};
    if (is_yarn) j["correction_range"] = {{"low", range.low}, {"high", range.high}};
    j["softmax_scale_factor"] = softmax_scale_factor;
    j["interleaved_output_half_split"] = layers && layers->config().interleaved_output_half_split;
    if (model.mrope)
      j["mrope_section"] = {{"temporal", model.mrope->temporal},
                            {"height", model.mrope->height},
                            {"width", model.mrope->width},
                            {"layout", model.mrope->layout == MropeLayout::interleaved ? "interleaved" : "sectioned"}};
    else
      j["mrope_section"] = nullptr;
    j["layer_type"] = model.layer_type;
    nlohmann::ordered_json types = nlohmann::ordered_json::object();
    if (layers)
      for (const auto& type : layers->layer_types()) {
        const Params& lp = layers->params(type);
        const Frequencies f = compute_frequencies(lp, seq_len);
        types[type] = {{"rope_type", rope_type_name(lp.scaling)},
                       {"theta", lp.theta},
                       {"head_dim", lp.head_dim},
                       {"rotary_dim", lp.rotary_dim},
                       {"pair_style", pair_style_name(lp)},
                       {"attention_factor", f.attention_factor},
                       {"inv_freq", f.inv_freq}};
      }
    j["layer_types"] = types;
    j["num_layers"] = layers ? layers->num_layers() : 0;
    j["no_rope_layers"] = layers ? layers->no_rope_layers() : std::vector<int>{};
    std::cout << j.dump(2) << "\n";
    return 0;
  }

  std::ostringstream out;
  out << "RoPE of " << model.source;
  if (!model.model_type.empty()) out << " (model_type " << model.model_type << ")";
  out << "  [kokkos-rope " << KOKKOSROPE_VERSION_STRING << "]\n";
  auto row = [&](const char* key, const std::string& value) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "  %-24s ", key);
    out << buf << value << "\n";
  };
  std::string scaling = rope_type_name(p.scaling);
  const auto sj = scaling_json(p.scaling);
  if (!sj.empty()) {
    scaling += ":";
    for (const auto& [k, v] : sj.items()) {
      if (v.is_array()) scaling += " " + k + " [" + std::to_string(v.size()) + " values]";
      else if (v.is_number_float()) scaling += " " + k + " " + num(v.get<double>());
      else scaling += " " + k + " " + v.dump();
    }
  }
  if (per_layer)
    row("layer type", model.layer_type.empty() ? layers->global_layer_type() + " (the global layers; --layer-type picks another)"
                                               : model.layer_type);
  row("rope_type", scaling);
  row("geometry", "head_dim " + std::to_string(p.head_dim) + ", rotary_dim " + std::to_string(p.rotary_dim) +
                      " (" + std::to_string(pairs) + " pairs, " + pair_style + ")");
  row("theta", num(p.theta) + (eff_theta != p.theta ? " (effective " + num(eff_theta) + ")" : ""));
  row("max_position_embeddings", std::to_string(p.max_position_embeddings));
  if (seq_len) row("seq_len", std::to_string(*seq_len));
  {
    char buf[96];
    if (freqs.attention_factor == 1.0) std::snprintf(buf, sizeof buf, "1");
    else std::snprintf(buf, sizeof buf, "%.4f (exact %.17g)", freqs.attention_factor, freqs.attention_factor);
    row("attention_factor", buf);
  }
  if (is_yarn) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "%.2f to %.2f (pair indices; exact %.10g to %.10g)", range.low, range.high,
                  range.low, range.high);
    row("correction range", buf);
  }
  row("bands", std::to_string(counts[0]) + " kept / " + std::to_string(counts[1]) + " blended / " +
                   std::to_string(counts[2]) + " scaled");
  row("full turns", std::to_string(turns_original) + " of " + std::to_string(pairs) +
                        " pairs within the original context (" + std::to_string(original) + "), " +
                        std::to_string(turns_extended) + " within the extended context (" +
                        std::to_string(extended) + ")");
  if (layers && layers->config().interleaved_output_half_split)
    row("rope_interleave", "pairs (2i, 2i + 1) rotated, written to (i, i + rotary_dim / 2) by the reference's "
                           "attention (scores equal the interleaved ones; the kernels keep the interleaved layout)");
  if (softmax_scale_factor != 1.0)
    row("softmax_scale_factor", num(softmax_scale_factor) + " (mscale_all_dim: multiplies the softmax scale)");
  if (model.mrope)
    row("mrope_section", std::to_string(model.mrope->temporal) + ", " + std::to_string(model.mrope->height) + ", " +
                             std::to_string(model.mrope->width) + " pairs (temporal, height, width; " +
                             (model.mrope->layout == MropeLayout::interleaved ? "interleaved" : "sectioned") + ")");
  if (layers && layers->num_layers() > 0) {
    const auto none = layers->no_rope_layers();
    row("layers", std::to_string(layers->num_layers()) + (none.empty() ? ", every one with RoPE"
                                                                       : ", " + std::to_string(none.size()) +
                                                                             " without RoPE: " + join(none)));
  }
  if (per_layer)
    for (const auto& type : layers->layer_types()) row(("  " + type).c_str(), layer_type_summary(layers->params(type), seq_len));
  print_pairs(out, p, seq_len);
  if (per_layer)
    for (const auto& type : layers->layer_types()) {
      if (type == (model.layer_type.empty() ? layers->global_layer_type() : model.layer_type)) continue;
      out << "\n  layer type " << type << ": " << layer_type_summary(layers->params(type), seq_len) << "\n";
      print_pairs(out, layers->params(type), seq_len);
    }
  std::cout << out.str();
  return 0;
}

}  // namespace KokkosRopeTool
