// SPDX-License-Identifier: Apache-2.0
/// \file Frequencies.hpp
/// Inverse frequencies and attention factor of every scaling kind, on the host, no Kokkos.
/// Two flavours:
///  - `compute_frequencies`: the formulas evaluated in double precision (the "accurate" mode's
///    input, and what the tests compare with a long-double reference);
///  - `compute_hf_frequencies`: the reference framework's float32 pipeline replayed operation by
///    operation (same roundings, same `reciprocal() * scalar` for `scalar / tensor`), so that the
///    "hf_compatible" mode reproduces a checkpoint's training-time numbers.
#ifndef KOKKOSROPE_FREQUENCIES_HPP
#define KOKKOSROPE_FREQUENCIES_HPP

#include <KokkosRope/Params.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace KokkosRope {

/// Inverse frequency per pair and the factor that multiplies cos and sin.
struct Frequencies {
  std::vector<double> inv_freq;   ///< rotary_dim / 2 entries
  double attention_factor = 1.0;  ///< multiplies cos and sin
};

/// The same in the reference framework's float32 arithmetic.
struct FrequenciesF32 {
  std::vector<float> inv_freq;    ///< rotary_dim / 2 entries
  float attention_factor = 1.0f;  ///< multiplies cos and sin
};

/// The frequencies of `params` in double precision.
/// \param params validated first (InvalidArgument naming the field)
/// \param seq_len matters only to the kinds that depend on it (dynamic NTK, LongRoPE); when
///        absent the reference framework's initial state is used (L = max_position_embeddings;
///        LongRoPE short); >= 0
/// \return rotary_dim / 2 inverse frequencies and the attention factor
Frequencies compute_frequencies(const Params& params, std::optional<std::int64_t> seq_len = std::nullopt);
/// The frequencies of `params` as the reference framework computes them in float32.
/// \param params validated first (InvalidArgument naming the field)
/// \param seq_len as for compute_frequencies
/// \return rotary_dim / 2 inverse frequencies and the attention factor, in float32
FrequenciesF32 compute_hf_frequencies(const Params& params,
                                      std::optional<std::int64_t> seq_len = std::nullopt);

/// What a scaling did to each pair.
enum class Band {
  kept,     ///< frequency unchanged (Llama 3 high band, YaRN extrapolated pairs, plain RoPE)
  blended,  ///< between kept and scaled (Llama 3 medium band, YaRN ramp)
  scaled    ///< frequency changed (divided, or a rescaled base)
};
/// The name of a band ("kept", "blended", "scaled").
/// \param band the band to name
/// \return the name
std::string band_name(Band band);

/// Per-pair band, for reporting (`kokkos-rope info`, the llama3_frequencies example).
/// \param params validated first
/// \param seq_len as for compute_frequencies
/// \return one band per pair
std::vector<Band> compute_bands(const Params& params, std::optional<std::int64_t> seq_len = std::nullopt);

/// YaRN's correction range [low, high] in pair indices, after HF's truncation and clamping.
struct CorrectionRange {
  double low = 0.0;   ///< the last pair kept as is
  double high = 0.0;  ///< the first pair fully interpolated
};
/// The correction range of YaRN parameters.
/// \param params validated first; their scaling must be YarnScaling
/// \return the range in pair indices
CorrectionRange yarn_correction_range(const Params& params);

/// The reference's `yarn_get_mscale`: 0.1 * m * ln(factor) + 1 for factor > 1, else 1. YaRN's
/// default attention factor is yarn_mscale(factor, 1); DeepSeek's softmax scale is multiplied by
/// yarn_mscale(factor, mscale_all_dim)^2.
/// \param factor the context extension
/// \param m the coefficient (mscale or mscale_all_dim)
/// \return the scale
double yarn_mscale(double factor, double m);

/// The base after NTK-style rescaling (static NTK, dynamic NTK at `seq_len`); theta otherwise.
/// \param params the parameters
/// \param seq_len as for compute_frequencies
/// \return the base
double effective_theta(const Params& params, std::optional<std::int64_t> seq_len = std::nullopt);

}  // namespace KokkosRope

#endif
