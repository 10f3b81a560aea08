// SPDX-License-Identifier: Apache-2.0
/// \file Params.hpp
/// RoPE parameters as value types: the geometry (head and rotary dimension, base, pair style)
/// and the long-context scaling as a closed set of kinds. Every kind carries the parameters and
/// defaults of Hugging Face transformers' rope utilities (`modeling_rope_utils.py`), so a
/// checkpoint's `config.json` maps onto it field for field. Host only; no Kokkos dependence.
#ifndef KOKKOSROPE_PARAMS_HPP
#define KOKKOSROPE_PARAMS_HPP

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
  double factor = 1.0;
};

/// Static NTK-aware scaling: the base is scaled once to theta * factor^(d/(d-2)), the classic
/// rule first posted by bloc97 ("NTK-Aware Scaled RoPE", r/LocalLLaMA, June 2023) and used by
/// Code Llama-era checkpoints; HF's dynamic NTK generalises it to a sequence-dependent factor.
/// It is not a `rope_type` of the reference framework; `"rope_type": "ntk"` selects it here.
struct NtkScaling {
  double factor = 1.0;
};

/// Dynamic NTK (HF `dynamic`): recomputed for a sequence length L = max(seq_len, max_pos):
/// base' = theta * ((factor * L / max_pos) - (factor - 1))^(d/(d-2)).
struct DynamicNtkScaling {
  double factor = 1.0;
};

/// YaRN (Peng et al. 2023) as HF computes it.
struct YarnScaling {
  double factor = 1.0;
  /// Pretraining context; HF falls back to max_position_embeddings when absent.
  std::optional<std::int64_t> original_max_position_embeddings;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  std::optional<double> mscale;
  std::optional<double> mscale_all_dim;
  std::optional<double> attention_factor;  ///< explicit; overrides the mscale rule
  bool truncate = true;                    ///< floor/ceil the correction range
};

/// LongRoPE (Phi-3): per-pair divisors, the long set when the sequence exceeds the original
/// context.
struct LongRopeScaling {
  std::vector<double> short_factor;
  std::vector<double> long_factor;
  std::optional<std::int64_t> original_max_position_embeddings;
  std::optional<double> factor;            ///< default: max_pos / original
  std::optional<double> attention_factor;  ///< default: sqrt(1 + ln(factor) / ln(original))
};

/// Llama 3 (3.1, 3.2, 3.3): wavelengths below original/high kept, above original/low divided
/// by `factor`, smooth blend (linear in 1/wavelength) in between.
struct Llama3Scaling {
  double factor = 8.0;
  double low_freq_factor = 1.0;
  double high_freq_factor = 4.0;
  std::int64_t original_max_position_embeddings = 8192;
};

using Scaling = std::variant<NoScaling, LinearScaling, NtkScaling, DynamicNtkScaling, YarnScaling,
                             LongRopeScaling, Llama3Scaling>;

/// The reference framework's `rope_type` name of a scaling ("default", "linear", "ntk",
/// "dynamic", "yarn", "longrope", "llama3").
std::string rope_type_name(const Scaling& scaling);

/// Everything that determines a model's rotary embedding.
struct Params {
  int head_dim = 128;
  int rotary_dim = 128;  ///< even, <= head_dim; int(head_dim * partial_rotary_factor) in HF
  double theta = 10000.0;
  PairStyle pair_style = PairStyle::half_split;
  std::int64_t max_position_embeddings = 2048;
  Scaling scaling = NoScaling{};

  /// Throws std::invalid_argument naming the offending field and its value.
  void validate() const;

  /// Number of rotated pairs, rotary_dim / 2.
  int num_pairs() const { return rotary_dim / 2; }

  /// Sets rotary_dim = int(head_dim * factor) exactly as the reference framework truncates it.
  Params& set_partial_rotary_factor(double factor);
};

}  // namespace KokkosRope

#endif
