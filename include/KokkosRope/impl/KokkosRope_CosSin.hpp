// SPDX-License-Identifier: Apache-2.0
// cos/sin of pos * inv_freq in the two precision modes of Precision.hpp, callable in kernels.
#ifndef KOKKOSROPE_IMPL_COSSIN_HPP
#define KOKKOSROPE_IMPL_COSSIN_HPP

#include <KokkosRope/impl/KokkosRope_Compat.hpp>

#include <cstdint>
#include <type_traits>

namespace KokkosRope::Impl {

inline constexpr double two_pi_hi = 6.283185307179586232e+00;  // nearest double to 2 pi
inline constexpr double two_pi_lo = 2.449293598294706e-16;     // 2 pi - two_pi_hi
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

}  // namespace KokkosRope::Impl

#endif
