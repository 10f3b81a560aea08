// SPDX-License-Identifier: Apache-2.0
/// \file ModelRope.hpp
/// The rotary embedding of every layer of a model, from its `config.json`: models whose layer
/// types have their own parameters (Gemma 3's local and global layers, ModernBERT, Gemma 4's
/// proportional global layers) and models with layers that apply no RoPE (Llama 4's
/// `no_rope_layers`, SmolLM3). `load_hf_config` stays the simple entry point for the
/// single-kind case; its `params` are those of the global layers here.
#ifndef KOKKOSROPE_MODELROPE_HPP
#define KOKKOSROPE_MODELROPE_HPP

#include <KokkosRope/HfConfig.hpp>

#include <map>
#include <string>
#include <vector>

namespace KokkosRope {

/// Per-layer RoPE of a model.
class ModelRope {
 public:
  /// The layer type of models whose layers all share one set of parameters.
  static constexpr const char* all_layers = "*";

  /// \param config the model's config; its `params` are those of `global_type`
  /// \param by_type parameters per layer type (at least one)
  /// \param global_type the key of `by_type` that `config.params` holds
  /// \param layer_types the type of each layer (empty when the config does not list layers)
  /// \param uses_rope per layer whether it applies RoPE (empty: every layer does); same length as
  ///        layer_types when both are given
  ModelRope(HfConfig config, std::map<std::string, Params> by_type, std::string global_type,
            std::vector<std::string> layer_types, std::vector<bool> uses_rope);

  /// \return the config (model type, heads, pair-style details; `params` of the global layers)
  const HfConfig& config() const { return m_config; }

  /// \return the layer types that have parameters, sorted ({"*"} for single-kind models)
  std::vector<std::string> layer_types() const;

  /// \return the layer type whose parameters `config().params` holds (the global layers')
  const std::string& global_layer_type() const { return m_global_type; }

  /// \param layer_type one of layer_types(); InvalidArgument naming it otherwise
  /// \return its parameters
  const Params& params(const std::string& layer_type) const;

  /// \return the number of layers the config lists (0 when it lists none)
  int num_layers() const { return static_cast<int>(m_layer_types.size()); }

  /// \param layer in [0, num_layers()); InvalidArgument otherwise
  /// \return the layer's type
  const std::string& layer_type(int layer) const;

  /// \param layer in [0, num_layers()); InvalidArgument otherwise
  /// \return the layer's parameters, or nullptr when the layer applies no RoPE
  const Params* params_for_layer(int layer) const;

  /// \return the indices of the layers that apply no RoPE, ascending
  std::vector<int> no_rope_layers() const;

 private:
  HfConfig m_config;
  std::map<std::string, Params> m_by_type;
  std::string m_global_type;
  std::vector<std::string> m_layer_types;
  std::vector<bool> m_uses_rope;
};

/// Parses the text of a config.json into per-layer RoPE; the checks and messages of
/// `parse_hf_config`, plus unknown layer types and invalid no-RoPE lists.
/// \param json_text the file's contents
/// \param source names the file in error messages
/// \return the model's RoPE per layer
ModelRope parse_model_rope(const std::string& json_text, const std::string& source = "config.json");

/// Reads and parses a file; a missing or unreadable file is an InvalidArgument too.
/// \param path the config.json to read
/// \return the model's RoPE per layer
ModelRope load_model_rope(const std::string& path);

}  // namespace KokkosRope

#endif
