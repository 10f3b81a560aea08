// SPDX-License-Identifier: Apache-2.0
/// \file HfConfig.hpp
/// `Params` from a Hugging Face `config.json`, as transformers 5.12.1 computes them when it loads
/// that file: the text sub-config of a multimodal or encoder-decoder config (`text_config`,
/// `decoder_config`, `decoder`, ...), `rope_theta`, `rope_scaling` (with either the `type` or the
/// `rope_type` spelling) or the v5 `rope_parameters` block, each family's keys for the head and
/// rotary dimension (`head_dim`, `hidden_size / num_attention_heads`, `qk_rope_head_dim`,
/// `partial_rotary_factor`, `rotary_pct`, GPT-J's `rotary_dim` / `n_embd` / `n_head`), and the pair
/// style the family's attention applies. Models whose layers differ (Gemma 3, ModernBERT, Llama 4's
/// no-RoPE layers) are described per layer by `ModelRope` (ModelRope.hpp). The JSON parser stays
/// inside the compiled library.
#ifndef KOKKOSROPE_HFCONFIG_HPP
#define KOKKOSROPE_HFCONFIG_HPP

#include <KokkosRope/Params.hpp>

#include <string>
#include <vector>

namespace KokkosRope {

/// What a config says about attention geometry besides RoPE itself.
struct HfConfig {
  /// The rotary embedding; for per-layer models, that of the global (`full_attention`) layers.
  Params params;
  std::string model_type;             ///< of the text sub-config; empty when absent
  std::string text_config_path = ".";  ///< where the text sub-config was: ".", "text_config", ...
  int num_attention_heads = 0;        ///< 0 when absent
  int num_key_value_heads = 0;        ///< num_attention_heads when absent
  /// DeepSeek's `rope_interleave`: pairs (2i, 2i + 1) are rotated (`params.pair_style` is
  /// interleaved) and written to (i, i + rotary_dim / 2). Attention scores equal the interleaved
  /// ones; only the layout of the rotated q and k differs.
  bool interleaved_output_half_split = false;
  /// What DeepSeek-style attention multiplies its softmax scale by: yarn_mscale(factor,
  /// mscale_all_dim)^2 when the YaRN block has a non-zero `mscale_all_dim`, else 1. Reported beside
  /// the cos/sin attention factor, which `compute_frequencies` gives.
  double softmax_scale_factor = 1.0;
  /// M-RoPE: rotary pairs per position stream (temporal, height, width); sums to
  /// params.num_pairs(). Empty when the config has none.
  std::vector<int> mrope_section;
  bool mrope_interleaved = false;  ///< Qwen3-VL's interleaved M-RoPE layout
};

/// The config's M-RoPE section for `multimodal_positions` (Positions.hpp).
/// \param config a config with a three-entry `mrope_section`; InvalidArgument naming the key
///        otherwise
/// \return its pairs per stream, sectioned or interleaved (`mrope_interleaved`)
MropeSection mrope_section_of(const HfConfig& config);

/// Parses the text of a config.json. Throws InvalidArgument naming the key for malformed JSON,
/// missing or mistyped keys, contradictory spellings and invalid values (the `Params::validate`
/// checks included).
/// \param json_text the file's contents
/// \param source names the file in error messages
/// \return the parameters and attention geometry of the config
HfConfig parse_hf_config(const std::string& json_text, const std::string& source = "config.json");

/// Reads and parses a file; a missing or unreadable file is an InvalidArgument too.
/// \param path the config.json to read
/// \return the parameters and attention geometry of the config
HfConfig load_hf_config(const std::string& path);

}  // namespace KokkosRope

#endif
