// SPDX-License-Identifier: Apache-2.0
/// \file Precision.hpp
/// How angles p * inv_freq become cos and sin, in a table build or inside a kernel.
#ifndef KOKKOSROPE_PRECISION_HPP
#define KOKKOSROPE_PRECISION_HPP

#include <KokkosRope/impl/KokkosRope_Compat.hpp>

#include <cstdint>
#include <type_traits>

namespace KokkosRope {

enum class Precision {
  /// The angle p * inv_freq is formed in double from the double-precision frequency and reduced
  /// modulo 2 pi before the trigonometric call: float cos/sin are within 2.5e-7 of the exact
  /// values at every position up to 2^21 (and far beyond), where one float product loses
  /// ~1e-2 rad at p = 131072. Double tables are within ~1e-15.
  accurate,
  /// The reference framework's float32 pipeline: float32 inv_freq as Hugging Face computes it,
  /// one float32 product p * inv_freq, float32 cos/sin, then the attention factor. Reproduces
  /// a checkpoint's training-time values (to the last ulp of the trigonometric functions).
  hf_compatible
};

namespace Impl {

inline constexpr double two_pi_hi = 6.283185307179586232e+00;  // nearest double to 2 pi
inline constexpr double two_pi_lo = 2.449293598294706e-16;      // 2 pi - two_pi_hi
inline constexpr double inv_two_pi = 0.15915494309189535;

/// cos/sin of pos * inv_freq with the angle reduced in double. Real = float computes the final
/// trigonometric functions in float on an argument in [-pi, pi]; Real = double in double.
template <class Real>
KOKKOS_INLINE_FUNCTION void accurate_cos_sin(std::int64_t pos, double inv_freq, Real& c, Real& s) {
  // angle = hi + lo exactly (the fma recovers the product's rounding error), then reduced by a
  // two-part 2 pi: the reduced angle is correct to ~1e-16 for any position below 2^40.
  const double p = static_cast<double>(pos);
  const double hi = p * inv_freq;
  const double lo = Kokkos::fma(p, inv_freq, -hi);
  const double turns = Kokkos::round(hi * inv_two_pi);
  const double reduced = (Kokkos::fma(-turns, two_pi_hi, hi) - turns * two_pi_lo) + lo;
  if constexpr (std::is_same_v<Real, double>) {
    c = Kokkos::cos(reduced);
    s = Kokkos::sin(reduced);
  } else {
    const float r = static_cast<float>(reduced);
    c = Kokkos::cos(r);
    s = Kokkos::sin(r);
  }
}

/// The reference framework's recipe: one float product, float trigonometry.
KOKKOS_INLINE_FUNCTION void hf_cos_sin(std::int64_t pos, float inv_freq, float& c, float& s) {
  const float angle = static_cast<float>(pos) * inv_freq;
  c = Kokkos::cos(angle);
  s = Kokkos::sin(angle);
}

}  // namespace Impl
}  // namespace KokkosRope

#endif
