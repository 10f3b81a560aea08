// SPDX-License-Identifier: Apache-2.0
#include <KokkosRope/ModelRope.hpp>
#include <KokkosRope/impl/KokkosRope_Error.hpp>

namespace KokkosRope {

ModelRope::ModelRope(HfConfig config, std::map<std::string, Params> by_type, std::string global_type,
                     std::vector<std::string> layer_types, std::vector<bool> uses_rope)
    : m_config(std::move(config)),
      m_by_type(std::move(by_type)),
      m_layer_types(std::move(layer_types)),
      m_uses_rope(std::move(uses_rope)) {
  const auto global = m_by_type.find(global_type);
  if (global == m_by_type.end())
    Impl::throw_invalid_argument("ModelRope",
                                 "invalid global layer type '" + global_type + "': has no parameters");
  m_config.params = global->second;
  m_global_type = global_type;
  for (std::size_t i = 0; i < m_layer_types.size(); ++i)
    if (!m_by_type.count(m_layer_types[i]))
      Impl::throw_invalid_argument("ModelRope", "invalid layer_types[" + std::to_string(i) + "] = '" +
                                                    m_layer_types[i] + "': has no parameters");
  if (!m_uses_rope.empty() && m_uses_rope.size() != m_layer_types.size())
    Impl::throw_invalid_argument("ModelRope", "invalid uses_rope: " + std::to_string(m_uses_rope.size()) +
                                                  " entries for " + std::to_string(m_layer_types.size()) +
                                                  " layers");
}

std::vector<std::string> ModelRope::layer_types() const {
  std::vector<std::string> out;
  for (const auto& [type, params] : m_by_type) out.push_back(type);
  return out;
}

const Params& ModelRope::params(const std::string& layer_type) const {
  const auto it = m_by_type.find(layer_type);
  if (it == m_by_type.end())
    Impl::throw_invalid_argument("ModelRope::params",
                                 "invalid layer type '" + layer_type + "': not a layer type of the model");
  return it->second;
}

const std::string& ModelRope::layer_type(int layer) const {
  if (layer < 0 || layer >= num_layers())
    Impl::throw_invalid_argument("ModelRope", "invalid layer = " + std::to_string(layer) +
                                                  ": the model has " + std::to_string(num_layers()) +
                                                  " layers");
  return m_layer_types[static_cast<std::size_t>(layer)];
}

const Params* ModelRope::params_for_layer(int layer) const {
  const std::string& type = layer_type(layer);
  if (!m_uses_rope.empty() && !m_uses_rope[static_cast<std::size_t>(layer)]) return nullptr;
  return &m_by_type.at(type);
}

std::vector<int> ModelRope::no_rope_layers() const {
  std::vector<int> out;
  for (std::size_t i = 0; i < m_uses_rope.size(); ++i)
    if (!m_uses_rope[i]) out.push_back(static_cast<int>(i));
  return out;
}

}  // namespace KokkosRope
