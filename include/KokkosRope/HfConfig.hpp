// SPDX-License-Identifier: Apache-2.0
/// \file HfConfig.hpp
/// `Params` from a Hugging Face `config.json`: `rope_theta`, `rope_scaling` (with either the
/// `type` or the `rope_type` spelling) or the transformers v5 `rope_parameters` block,
/// `head_dim` or `hidden_size / num_attention_heads`, `partial_rotary_factor` (or GPT-NeoX's
/// `rotary_pct`), `max_position_embeddings`. The JSON parser stays inside the compiled library.
#ifndef KOKKOSROPE_HFCONFIG_HPP
#define KOKKOSROPE_HFCONFIG_HPP

#include <KokkosRope/Params.hpp>

#include <string>

namespace KokkosRope {

/// What a config says about attention geometry besides RoPE itself.
struct HfConfig {
  Params params;                ///< the rotary embedding
  std::string model_type;       ///< empty when absent
  int num_attention_heads = 0;  ///< 0 when absent
  int num_key_value_heads = 0;  ///< num_attention_heads when absent
};

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
