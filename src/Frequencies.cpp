// SPDX-License-Identifier: Apache-2.0
#include <KokkosRope/Frequencies.hpp>
#include <KokkosRope/impl/KokkosRope_Error.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace KokkosRope {
namespace {

constexpr double two_pi = 6.283185307179586476925286766559;

// ---- shared pieces of the formulas (double) --------------------------------------------------

std::int64_t original_or(const std::optional<std::int64_t>& original, std::int64_t fallback) {
  return original ? *original : fallback;
}

double yarn_attention_factor(const YarnScaling& s) {
  if (s.attention_factor) return *s.attention_factor;
  // Python truthiness: both present and non-zero.
  if (s.mscale && s.mscale_all_dim && *s.mscale != 0.0 && *s.mscale_all_dim != 0.0)
    return yarn_mscale(s.factor, *s.mscale) / yarn_mscale(s.factor, *s.mscale_all_dim);
  return yarn_mscale(s.factor, 1.0);
}

double longrope_factor(const Params& p, const LongRopeScaling& s) {
  if (s.factor) return *s.factor;
  return static_cast<double>(p.max_position_embeddings) /
         static_cast<double>(original_or(s.original_max_position_embeddings, p.max_position_embeddings));
}

double longrope_attention_factor(const Params& p, const LongRopeScaling& s) {
  if (s.attention_factor) return *s.attention_factor;
  const double factor = longrope_factor(p, s);
  if (factor <= 1.0) return 1.0;
  const double original = static_cast<double>(
      original_or(s.original_max_position_embeddings, p.max_position_embeddings));
  return std::sqrt(1.0 + std::log(factor) / std::log(original));
}

bool longrope_uses_long(const Params& p, const LongRopeScaling& s, std::optional<std::int64_t> seq_len) {
  return seq_len && *seq_len > original_or(s.original_max_position_embeddings, p.max_position_embeddings);
}

// YaRN correction range in double, before the ramp: HF's find_correction_range.
CorrectionRange yarn_range(const Params& p, const YarnScaling& s) {
  const double dim = p.rotary_dim;
  const double original = static_cast<double>(
      original_or(s.original_max_position_embeddings, p.max_position_embeddings));
  auto correction_dim = [&](double rotations) {
    return dim * std::log(original / (rotations * two_pi)) / (2.0 * std::log(p.theta));
  };
  double low = correction_dim(s.beta_fast);
  double high = correction_dim(s.beta_slow);
  if (s.truncate) {
    low = std::floor(low);
    high = std::ceil(high);
  }
  return {std::max(low, 0.0), std::min(high, dim - 1.0)};
}

// The range as the ramp uses it: HF widens a zero-width range by 0.001.
CorrectionRange yarn_ramp_range(const Params& p, const YarnScaling& s) {
  CorrectionRange r = yarn_range(p, s);
  if (r.low == r.high) r.high += 0.001;
  return r;
}

// ramp_i = clamp((i - low) / (high - low), 0, 1): 0 keeps pair i, 1 divides it by the factor.
std::vector<double> yarn_ramp(const Params& p, const YarnScaling& s) {
  const CorrectionRange r = yarn_ramp_range(p, s);
  std::vector<double> ramp(static_cast<std::size_t>(p.rotary_dim / 2));
  for (std::size_t i = 0; i < ramp.size(); ++i)
    ramp[i] = std::clamp((static_cast<double>(i) - r.low) / (r.high - r.low), 0.0, 1.0);
  return ramp;
}

// With low_freq_factor == high_freq_factor the blend divides by zero: the reference gives NaN for
// a pair whose wavelength is exactly on the step (any other pair is kept or divided cleanly).
void llama3_check_step(const Llama3Scaling& s, int pair) {
  if (s.low_freq_factor != s.high_freq_factor) return;
  std::ostringstream os;
  os.precision(17);
  os << "invalid llama3.low_freq_factor = " << s.low_freq_factor << ": equals high_freq_factor and pair " << pair
     << "'s wavelength is exactly original_max_position_embeddings / low_freq_factor (the blend would divide by zero)";
  Impl::throw_invalid_argument({}, os.str());
}

double llama3_smooth(const Llama3Scaling& s, double wavelen) {
  return (static_cast<double>(s.original_max_position_embeddings) / wavelen - s.low_freq_factor) /
         (s.high_freq_factor - s.low_freq_factor);
}

// ---- the double-precision formulas ----------------------------------------------------------

struct ExactFrequencies {
  const Params& p;
  std::optional<std::int64_t> seq_len;

  std::vector<double> plain(double theta) const {
    const int pairs = p.rotary_dim / 2;
    std::vector<double> inv(static_cast<std::size_t>(pairs));
    for (int i = 0; i < pairs; ++i)
      inv[static_cast<std::size_t>(i)] = 1.0 / std::pow(theta, (2.0 * i) / p.rotary_dim);
    return inv;
  }

  Frequencies operator()(const NoScaling&) const { return {plain(p.theta), 1.0}; }
  Frequencies operator()(const LinearScaling& s) const {
    auto inv = plain(p.theta);
    for (auto& f : inv) f /= s.factor;
    return {inv, 1.0};
  }
  Frequencies operator()(const NtkScaling&) const { return {plain(effective_theta(p, seq_len)), 1.0}; }
  Frequencies operator()(const DynamicNtkScaling&) const {
    return {plain(effective_theta(p, seq_len)), 1.0};
  }
  Frequencies operator()(const YarnScaling& s) const {
    const auto extrapolated = plain(p.theta);
    const auto ramp = yarn_ramp(p, s);
    std::vector<double> inv(extrapolated.size());
    for (std::size_t i = 0; i < inv.size(); ++i) {
      const double interpolated = extrapolated[i] / s.factor;
      inv[i] = interpolated * ramp[i] + extrapolated[i] * (1.0 - ramp[i]);
    }
    return {inv, yarn_attention_factor(s)};
  }
  Frequencies operator()(const LongRopeScaling& s) const {
    auto inv = plain(p.theta);
    const auto& ext = longrope_uses_long(p, s, seq_len) ? s.long_factor : s.short_factor;
    for (std::size_t i = 0; i < inv.size(); ++i) inv[i] /= ext[i];
    return {inv, longrope_attention_factor(p, s)};
  }
  Frequencies operator()(const Llama3Scaling& s) const {
    auto inv = plain(p.theta);
    const double original = static_cast<double>(s.original_max_position_embeddings);
    const double low_wavelen = original / s.low_freq_factor;
    const double high_wavelen = original / s.high_freq_factor;
    for (std::size_t i = 0; i < inv.size(); ++i) {
      double& f = inv[i];
      const double wavelen = two_pi / f;
      if (wavelen > low_wavelen) {
        f /= s.factor;
      } else if (!(wavelen < high_wavelen)) {
        llama3_check_step(s, static_cast<int>(i));
        const double smooth = llama3_smooth(s, wavelen);
        f = (1.0 - smooth) * f / s.factor + smooth * f;
      }
    }
    return {inv, 1.0};
  }
};

// ---- the reference framework's float32 pipeline ---------------------------------------------
// PyTorch (CPU) semantics replayed: a Python scalar meeting a float32 tensor is converted to
// float32; `scalar / tensor` is `tensor.reciprocal() * scalar` (torch/_tensor.py __rtruediv__);
// `tensor / scalar` is a true float division; no operation is fused. pow and cos are correctly
// rounded here, where PyTorch's vectorised versions are within 1 ulp.

float f32(double x) { return static_cast<float>(x); }
float rdiv(double scalar, float x) { return (1.0f / x) * f32(scalar); }

// base ** (arange(0, dim, 2).float() / dim), the tensor every kind starts from.
std::vector<float> hf_pos_freqs(double base, int dim) {
  std::vector<float> out(static_cast<std::size_t>(dim / 2));
  const float base_f = f32(base);
  for (int i = 0; i < dim / 2; ++i) {
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(dim);
    out[static_cast<std::size_t>(i)] = f32(std::pow(static_cast<double>(base_f), static_cast<double>(exponent)));
  }
  return out;
}

std::vector<float> hf_plain(double base, int dim) {
  auto inv = hf_pos_freqs(base, dim);
  for (auto& f : inv) f = rdiv(1.0, f);
  return inv;
}

struct HfFrequencies {
  const Params& p;
  std::optional<std::int64_t> seq_len;

  FrequenciesF32 operator()(const NoScaling&) const { return {hf_plain(p.theta, p.rotary_dim), 1.0f}; }
  FrequenciesF32 operator()(const LinearScaling& s) const {
    auto inv = hf_plain(p.theta, p.rotary_dim);
    for (auto& f : inv) f = f / f32(s.factor);
    return {inv, 1.0f};
  }
  FrequenciesF32 operator()(const NtkScaling&) const {
    return {hf_plain(effective_theta(p, seq_len), p.rotary_dim), 1.0f};
  }
  FrequenciesF32 operator()(const DynamicNtkScaling&) const {
    return {hf_plain(effective_theta(p, seq_len), p.rotary_dim), 1.0f};
  }
  FrequenciesF32 operator()(const YarnScaling& s) const {
    const auto pos = hf_pos_freqs(p.theta, p.rotary_dim);
    const CorrectionRange r = yarn_ramp_range(p, s);
    const float low_f = f32(r.low);
    const float width_f = f32(r.high - r.low);
    std::vector<float> inv(pos.size());
    for (std::size_t i = 0; i < inv.size(); ++i) {
      const float extrapolation = rdiv(1.0, pos[i]);
      const float interpolation = rdiv(1.0, f32(s.factor) * pos[i]);
      const float ramp = std::clamp((static_cast<float>(i) - low_f) / width_f, 0.0f, 1.0f);
      const float extrapolation_factor = 1.0f - ramp;
      inv[i] = interpolation * (1.0f - extrapolation_factor) + extrapolation * extrapolation_factor;
    }
    return {inv, f32(yarn_attention_factor(s))};
  }
  FrequenciesF32 operator()(const LongRopeScaling& s) const {
    const auto pos = hf_pos_freqs(p.theta, p.rotary_dim);
    const auto& ext = longrope_uses_long(p, s, seq_len) ? s.long_factor : s.short_factor;
    std::vector<float> inv(pos.size());
    for (std::size_t i = 0; i < inv.size(); ++i) inv[i] = rdiv(1.0, f32(ext[i]) * pos[i]);
    return {inv, f32(longrope_attention_factor(p, s))};
  }
  FrequenciesF32 operator()(const Llama3Scaling& s) const {
    auto inv = hf_plain(p.theta, p.rotary_dim);
    const double original = static_cast<double>(s.original_max_position_embeddings);
    const float low_wavelen = f32(original / s.low_freq_factor);
    const float high_wavelen = f32(original / s.high_freq_factor);
    const float factor = f32(s.factor);
    const float low = f32(s.low_freq_factor);
    const float width = f32(s.high_freq_factor - s.low_freq_factor);
    for (std::size_t i = 0; i < inv.size(); ++i) {
      float& f = inv[i];
      const float wavelen = rdiv(two_pi, f);
      const float llama = wavelen > low_wavelen ? f / factor : f;
      const bool medium = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
      if (!medium) {
        f = llama;
        continue;
      }
      llama3_check_step(s, static_cast<int>(i));
      const float smooth = (rdiv(original, wavelen) - low) / width;
      f = (1.0f - smooth) * llama / factor + smooth * llama;
    }
    return {inv, 1.0f};
  }
};

struct BandOf {
  const Params& p;
  std::optional<std::int64_t> seq_len;
  std::vector<Band> all(Band b) const { return std::vector<Band>(static_cast<std::size_t>(p.rotary_dim / 2), b); }
  std::vector<Band> base_rescaled() const {
    auto b = all(Band::scaled);
    b[0] = Band::kept;  // theta^0 = 1 whatever the base
    return b;
  }
  std::vector<Band> operator()(const NoScaling&) const { return all(Band::kept); }
  std::vector<Band> operator()(const LinearScaling& s) const {
    return all(s.factor == 1.0 ? Band::kept : Band::scaled);
  }
  std::vector<Band> operator()(const NtkScaling& s) const {
    return s.factor == 1.0 ? all(Band::kept) : base_rescaled();
  }
  std::vector<Band> operator()(const DynamicNtkScaling&) const {
    return effective_theta(p, seq_len) == p.theta ? all(Band::kept) : base_rescaled();
  }
  std::vector<Band> operator()(const YarnScaling& s) const {
    const auto ramp = yarn_ramp(p, s);
    auto b = all(Band::kept);
    for (std::size_t i = 0; i < b.size(); ++i)
      b[i] = ramp[i] == 0.0 ? Band::kept : (ramp[i] == 1.0 ? Band::scaled : Band::blended);
    return b;
  }
  std::vector<Band> operator()(const LongRopeScaling& s) const {
    const auto& ext = longrope_uses_long(p, s, seq_len) ? s.long_factor : s.short_factor;
    auto b = all(Band::kept);
    for (std::size_t i = 0; i < b.size(); ++i) b[i] = ext[i] == 1.0 ? Band::kept : Band::scaled;
    return b;
  }
  std::vector<Band> operator()(const Llama3Scaling& s) const {
    const double original = static_cast<double>(s.original_max_position_embeddings);
    auto b = all(Band::kept);
    for (int i = 0; i < p.rotary_dim / 2; ++i) {
      const double wavelen = two_pi * std::pow(p.theta, (2.0 * i) / p.rotary_dim);
      Band& band = b[static_cast<std::size_t>(i)];
      if (wavelen > original / s.low_freq_factor) band = Band::scaled;
      else if (!(wavelen < original / s.high_freq_factor)) band = Band::blended;
    }
    return b;
  }
};

}  // namespace

double yarn_mscale(double factor, double m) { return factor <= 1.0 ? 1.0 : 0.1 * m * std::log(factor) + 1.0; }

double effective_theta(const Params& params, std::optional<std::int64_t> seq_len) {
  const double dim = params.rotary_dim;
  if (const auto* ntk = std::get_if<NtkScaling>(&params.scaling))
    return params.theta * std::pow(ntk->factor, dim / (dim - 2.0));
  if (const auto* dyn = std::get_if<DynamicNtkScaling>(&params.scaling)) {
    const double max_pos = static_cast<double>(params.max_position_embeddings);
    const double length = std::max(static_cast<double>(seq_len.value_or(params.max_position_embeddings)), max_pos);
    return params.theta *
           std::pow((dyn->factor * length / max_pos) - (dyn->factor - 1.0), dim / (dim - 2.0));
  }
  return params.theta;
}

namespace {
// Gemma 4's proportional RoPE: the pairs past rotated_pairs have frequency 0 (torch.zeros in the
// reference, after the rotated ones computed with the full dimension in the exponent).
template <class T>
void zero_unrotated_pairs(const Params& params, std::vector<T>& inv_freq) {
  if (!params.rotated_pairs) return;
  for (std::size_t i = static_cast<std::size_t>(*params.rotated_pairs); i < inv_freq.size(); ++i) inv_freq[i] = T(0);
}

void check_seq_len(const std::optional<std::int64_t>& seq_len) {
  if (seq_len && *seq_len < 0) Impl::throw_invalid_argument({}, "invalid seq_len = " + std::to_string(*seq_len) + ": must be >= 0");
}
}  // namespace

Frequencies compute_frequencies(const Params& params, std::optional<std::int64_t> seq_len) {
  params.validate();
  check_seq_len(seq_len);
  auto f = std::visit(ExactFrequencies{params, seq_len}, params.scaling);
  zero_unrotated_pairs(params, f.inv_freq);
  return f;
}

FrequenciesF32 compute_hf_frequencies(const Params& params, std::optional<std::int64_t> seq_len) {
  params.validate();
  check_seq_len(seq_len);
  auto f = std::visit(HfFrequencies{params, seq_len}, params.scaling);
  zero_unrotated_pairs(params, f.inv_freq);
  return f;
}

std::vector<Band> compute_bands(const Params& params, std::optional<std::int64_t> seq_len) {
  params.validate();
  return std::visit(BandOf{params, seq_len}, params.scaling);
}

std::string band_name(Band band) {
  switch (band) {
    case Band::kept: return "kept";
    case Band::blended: return "blended";
    case Band::scaled: return "scaled";
  }
  return "unknown";
}

CorrectionRange yarn_correction_range(const Params& params) {
  params.validate();
  const auto* yarn = std::get_if<YarnScaling>(&params.scaling);
  if (!yarn) Impl::throw_invalid_argument({}, "invalid scaling = " + rope_type_name(params.scaling) + ": yarn_correction_range needs YaRN scaling");
  return yarn_range(params, *yarn);
}

}  // namespace KokkosRope
