// SPDX-License-Identifier: Apache-2.0
#include <KokkosRope/Params.hpp>
#include <KokkosRope/impl/KokkosRope_Error.hpp>

#include <cmath>
#include <sstream>
#include <type_traits>

namespace KokkosRope {
namespace {

// "invalid <field> = <value>: <why>", values with 17 significant digits.
template <class T>
[[noreturn]] void fail(const std::string& field, const T& value, const std::string& why) {
  std::ostringstream os;
  os.precision(17);
  os << "invalid " << field << " = " << value << ": " << why;
  Impl::throw_invalid_argument({}, os.str());
}

void require_finite(const std::string& field, double v) {
  if (!std::isfinite(v)) fail(field, v, "must be finite");
}

void require_factor(const std::string& field, double v) {
  require_finite(field, v);
  if (v < 1.0) fail(field, v, "a scaling factor must be >= 1");
}

void require_positive(const std::string& field, double v) {
  require_finite(field, v);
  if (!(v > 0.0)) fail(field, v, "must be > 0");
}

void require_original(const std::string& field, const std::optional<std::int64_t>& v) {
  if (v && *v <= 0) fail(field, *v, "must be > 0");
}

struct ScalingValidator {
  const Params& p;
  void operator()(const NoScaling&) const {}
  void operator()(const LinearScaling& s) const { require_factor("linear.factor", s.factor); }
  void operator()(const NtkScaling& s) const {
    require_factor("ntk.factor", s.factor);
    if (p.rotary_dim <= 2) fail("rotary_dim", p.rotary_dim, "NTK scaling needs rotary_dim > 2");
  }
  void operator()(const DynamicNtkScaling& s) const {
    require_factor("dynamic.factor", s.factor);
    if (p.rotary_dim <= 2)
      fail("rotary_dim", p.rotary_dim, "dynamic NTK scaling needs rotary_dim > 2");
  }
  void operator()(const YarnScaling& s) const {
    require_factor("yarn.factor", s.factor);
    require_original("yarn.original_max_position_embeddings", s.original_max_position_embeddings);
    require_positive("yarn.beta_fast", s.beta_fast);
    require_positive("yarn.beta_slow", s.beta_slow);
    if (s.beta_fast < s.beta_slow)
      fail("yarn.beta_fast", s.beta_fast, "must be >= beta_slow (" + std::to_string(s.beta_slow) + ")");
    if (s.mscale) require_finite("yarn.mscale", *s.mscale);
    if (s.mscale_all_dim) require_finite("yarn.mscale_all_dim", *s.mscale_all_dim);
    if (s.attention_factor) require_positive("yarn.attention_factor", *s.attention_factor);
  }
  void operator()(const LongRopeScaling& s) const {
    const std::size_t pairs = static_cast<std::size_t>(p.rotary_dim / 2);
    if (s.short_factor.size() != pairs)
      fail("longrope.short_factor", "list of " + std::to_string(s.short_factor.size()),
           "needs rotary_dim / 2 = " + std::to_string(pairs) + " entries");
    if (s.long_factor.size() != pairs)
      fail("longrope.long_factor", "list of " + std::to_string(s.long_factor.size()),
           "needs rotary_dim / 2 = " + std::to_string(pairs) + " entries");
    for (std::size_t i = 0; i < pairs; ++i) {
      require_positive("longrope.short_factor[" + std::to_string(i) + "]", s.short_factor[i]);
      require_positive("longrope.long_factor[" + std::to_string(i) + "]", s.long_factor[i]);
    }
    require_original("longrope.original_max_position_embeddings",
                     s.original_max_position_embeddings);
    if (s.factor) require_positive("longrope.factor", *s.factor);
    if (s.attention_factor) require_positive("longrope.attention_factor", *s.attention_factor);
  }
  void operator()(const Llama3Scaling& s) const {
    require_factor("llama3.factor", s.factor);
    require_positive("llama3.low_freq_factor", s.low_freq_factor);
    require_positive("llama3.high_freq_factor", s.high_freq_factor);
    // low >= high is computed as the reference does (a step, no blend); the one NaN case, a
    // wavelength exactly on the step with low == high, is rejected where frequencies are computed.
    if (s.original_max_position_embeddings <= 0)
      fail("llama3.original_max_position_embeddings", s.original_max_position_embeddings,
           "must be > 0");
  }
};

struct TypeName {
  std::string operator()(const NoScaling&) const { return "default"; }
  std::string operator()(const LinearScaling&) const { return "linear"; }
  std::string operator()(const NtkScaling&) const { return "ntk"; }
  std::string operator()(const DynamicNtkScaling&) const { return "dynamic"; }
  std::string operator()(const YarnScaling&) const { return "yarn"; }
  std::string operator()(const LongRopeScaling&) const { return "longrope"; }
  std::string operator()(const Llama3Scaling&) const { return "llama3"; }
};

}  // namespace

std::string rope_type_name(const Scaling& scaling) { return std::visit(TypeName{}, scaling); }

void Params::validate() const {
  if (head_dim <= 0) fail("head_dim", head_dim, "must be > 0");
  if (rotary_dim <= 0) fail("rotary_dim", rotary_dim, "must be > 0");
  if (rotary_dim % 2 != 0) fail("rotary_dim", rotary_dim, "must be even (dimensions are rotated in pairs)");
  if (rotary_dim > head_dim)
    fail("rotary_dim", rotary_dim, "must be <= head_dim (" + std::to_string(head_dim) + ")");
  require_finite("theta", theta);
  if (!(theta > 1.0)) fail("theta", theta, "must be > 1 (the base of the frequency progression)");
  if (pair_style != PairStyle::half_split && pair_style != PairStyle::interleaved)
    fail("pair_style", static_cast<int>(pair_style), "unknown pair style");
  if (max_position_embeddings <= 0)
    fail("max_position_embeddings", max_position_embeddings, "must be > 0");
  std::visit(ScalingValidator{*this}, scaling);
  if (rotated_pairs && (*rotated_pairs < 0 || *rotated_pairs > rotary_dim / 2))
    fail("rotated_pairs", *rotated_pairs, "must be in [0, rotary_dim / 2 = " + std::to_string(rotary_dim / 2) + "]");
}

Params& Params::set_partial_rotary_factor(double factor) {
  if (!std::isfinite(factor) || !(factor > 0.0) || factor > 1.0)
    fail("partial_rotary_factor", factor, "must be in (0, 1]");
  rotary_dim = static_cast<int>(head_dim * factor);  // Python's int() truncates, as here
  return *this;
}

}  // namespace KokkosRope
