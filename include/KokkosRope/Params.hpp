// SPDX-License-Identifier: Apache-2.0
/// \file Params.hpp
/// RoPE parameters as value types: the geometry (head and rotary dimension, base, pair style)
/// and the long-context scaling as a closed set of kinds. Every kind carries the parameters and
/// defaults of Hugging Face transformers' rope utilities (`modeling_rope_utils.py`), so a
/// checkpoint's `config.json` maps onto it field for field. Host only; no Kokkos dependence.
#ifndef KOKKOSROPE_PARAMS_HPP
#define KOKKOSROPE_PARAMS_HPP

#include <KokkosRope/Error.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace KokkosRope {

/// How the rotary dimensions are paired.
enum class PairStyle {
  half_split,  ///< (i, i + rotary_dim/2): GPT-NeoX / Hugging Face `rotate_half`.
  interleaved  ///< (2i, 2i + 1): GPT-J / Meta's original Llama weights.
};

/// Plain RoPE: inv_freq_i = theta^(-2i/rotary_dim).
struct NoScaling {};

/// Position interpolation (Chen et al. 2023): every frequency divided by `factor`.
struct LinearScaling {
  double factor = 1.0;  ///< the divisor of every frequency, >= 1
};

/// Static NTK-aware scaling: the base is scaled once to theta * factor^(d/(d-2)), the classic
/// rule first posted by bloc97 ("NTK-Aware Scaled RoPE", r/LocalLLaMA, June 2023) and used by
/// Code Llama-era checkpoints; HF's dynamic NTK generalises it to a sequence-dependent factor.
/// It is not a `rope_type` of the reference framework; `"rope_type": "ntk"` selects it here.
struct NtkScaling {
  double factor = 1.0;  ///< the context extension, >= 1
};

/// Dynamic NTK (HF `dynamic`): recomputed for a sequence length L = max(seq_len, max_pos):
/// base' = theta * ((factor * L / max_pos) - (factor - 1))^(d/(d-2)).
struct DynamicNtkScaling {
  double factor = 1.0;  ///< the context extension at L = factor max_pos, >= 1
};

/// YaRN (Peng et al. 2023) as HF computes it.
struct YarnScaling {
  double factor = 1.0;  ///< the context extension, >= 1
  /// Pretraining context; HF falls back to max_position_embeddings when absent.
  std::optional<std::int64_t> original_max_position_embeddings;
  double beta_fast = 32.0;                 ///< rotations at which the ramp starts (high frequencies)
  double beta_slow = 1.0;                  ///< rotations at which the ramp ends (low frequencies)
  std::optional<double> mscale;            ///< DeepSeek's attention-scale coefficient
  std::optional<double> mscale_all_dim;    ///< DeepSeek's divisor coefficient of the attention scale
  std::optional<double> attention_factor;  ///< explicit; overrides the mscale rule
  bool truncate = true;                    ///< floor/ceil the correction range
};

/// LongRoPE (Phi-3): per-pair divisors, the long set when the sequence exceeds the original
/// context.
struct LongRopeScaling {
  std::vector<double> short_factor;  ///< rotary_dim / 2 divisors within the original context
  std::vector<double> long_factor;   ///< rotary_dim / 2 divisors past it
  std::optional<std::int64_t> original_max_position_embeddings;  ///< the pretraining context
  std::optional<double> factor;                                  ///< default: max_pos / original
  std::optional<double> attention_factor;  ///< default: sqrt(1 + ln(factor) / ln(original))
};

/// Llama 3 (3.1, 3.2, 3.3): wavelengths below original/high kept, above original/low divided
/// by `factor`, smooth blend (linear in 1/wavelength) in between. With low_freq_factor >=
/// high_freq_factor there is no blend, as in the reference: a clean step between kept and divided
/// pairs (Llama 4 Scout: factor 16, low = high = 1).
struct Llama3Scaling {
  double factor = 8.0;                                   ///< the divisor of the low band, >= 1
  double low_freq_factor = 1.0;                          ///< original / low is the low band's wavelength
  double high_freq_factor = 4.0;                         ///< original / high is the kept band's wavelength
  std::int64_t original_max_position_embeddings = 8192;  ///< the pretraining context
};

/// A scaling kind with its parameters.
using Scaling = std::variant<NoScaling, LinearScaling, NtkScaling, DynamicNtkScaling, YarnScaling,
                             LongRopeScaling, Llama3Scaling>;

/// The reference framework's `rope_type` name of a scaling ("default", "linear", "ntk",
/// "dynamic", "yarn", "longrope", "llama3").
/// \param scaling the scaling to name
/// \return the name
std::string rope_type_name(const Scaling& scaling);

/// How multimodal RoPE assigns the rotary pairs of a head to the three position streams.
enum class MropeLayout {
  /// Qwen2-VL, Qwen2.5-VL, Qwen3.5: the first `temporal` pairs read the temporal position, the
  /// next `height` pairs the height position, the last `width` pairs the width position.
  sectioned,
  /// Qwen3-VL (`mrope_interleaved`): pair i reads height if i % 3 == 1 and i < 3 height, width if
  /// i % 3 == 2 and i < 3 width, temporal otherwise.
  interleaved
};

/// A config's `mrope_section`: rotary pairs per position stream. The three counts sum to the
/// rotary pairs of the cos/sin source (rotary_dim / 2).
struct MropeSection {
  int temporal = 0;  ///< pairs of the temporal stream (stream 0)
  int height = 0;    ///< pairs of the height stream (stream 1)
  int width = 0;     ///< pairs of the width stream (stream 2)
  MropeLayout layout = MropeLayout::sectioned;  ///< which pairs read which stream
};

/// Everything that determines a model's rotary embedding.
struct Params {
  int head_dim = 128;      ///< the dimension of a q or k head
  int rotary_dim = 128;    ///< even, <= head_dim; int(head_dim * partial_rotary_factor) in HF
  double theta = 10000.0;  ///< the base of the frequency progression, > 1
  PairStyle pair_style = PairStyle::half_split;  ///< how the rotary dimensions are paired
  std::int64_t max_position_embeddings = 2048;   ///< the model's context length
  Scaling scaling = NoScaling{};                 ///< the long-context scaling
  /// Pairs from this index on get frequency 0 (the identity rotation) while the frequencies of
  /// the others keep the full rotary_dim in their exponent: Gemma 4's `proportional` RoPE, which
  /// rotates int(partial_rotary_factor * head_dim / 2) pairs and fills the head with zero-frequency
  /// pairs. Absent: every pair rotates. In [0, rotary_dim / 2].
  std::optional<int> rotated_pairs;

  /// Throws InvalidArgument naming the offending field and its value.
  void validate() const;

  /// \return number of rotated pairs, rotary_dim / 2.
  int num_pairs() const { return rotary_dim / 2; }

  /// Sets rotary_dim = int(head_dim * factor) exactly as the reference framework truncates it.
  /// \param factor in (0, 1]
  /// \return *this
  Params& set_partial_rotary_factor(double factor);
};

}  // namespace KokkosRope

#endif
