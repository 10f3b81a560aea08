// SPDX-License-Identifier: Apache-2.0
/// \file KokkosRopeTesting_Models.hpp
/// The rotary parameters and attention geometry of the models the tests, the tool's cross-check
/// and the benchmark use, written once from the checkpoints' config.json.
#ifndef KOKKOSROPE_TESTS_COMMON_KOKKOSROPETESTING_MODELS_HPP
#define KOKKOSROPE_TESTS_COMMON_KOKKOSROPETESTING_MODELS_HPP

#include <KokkosRope.hpp>

namespace KokkosRopeTesting {

/// Attention geometry of a model: query and key/value heads of one layer, and the head size.
struct ModelShape {
  const char* name;
  int q_heads, kv_heads, head_dim;
};

/// Llama 3.1 8B, 70B and 405B (grouped-query attention, 8 key/value heads; one rotary embedding).
inline constexpr ModelShape llama31_8b{"llama3.1-8b", 32, 8, 128};
inline constexpr ModelShape llama31_70b{"llama3.1-70b", 64, 8, 128};
inline constexpr ModelShape llama31_405b{"llama3.1-405b", 128, 8, 128};

/// Llama 3.1's rotary embedding (all three sizes share it): rope_theta 500000, head_dim 128,
/// "llama3" scaling (factor 8, low 1, high 4, original 8192), 131072 positions.
inline KokkosRope::Params llama31(KokkosRope::PairStyle pair = KokkosRope::PairStyle::half_split) {
  KokkosRope::Params p;
  p.head_dim = p.rotary_dim = 128;
  p.theta = 500000.0;
  p.max_position_embeddings = 131072;
  p.pair_style = pair;
  p.scaling = KokkosRope::Llama3Scaling{8.0, 1.0, 4.0, 8192};
  return p;
}

/// gpt-oss (20B and 120B share it): rope_theta 150000, head_dim 64, YaRN factor 32 over an
/// original 4096 positions, without truncation of the correction range, 131072 positions.
inline KokkosRope::Params gpt_oss() {
  KokkosRope::Params p;
  p.head_dim = p.rotary_dim = 64;
  p.theta = 150000.0;
  p.max_position_embeddings = 131072;
  KokkosRope::YarnScaling y;
  y.factor = 32.0;
  y.original_max_position_embeddings = 4096;
  y.truncate = false;
  p.scaling = y;
  return p;
}

}  // namespace KokkosRopeTesting

#endif
