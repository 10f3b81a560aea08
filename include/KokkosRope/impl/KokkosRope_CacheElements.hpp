// SPDX-License-Identifier: Apache-2.0
// The element steps of the serving kernel and of its building blocks: the RMS of a head row, an
// element after the QK norm, and a value stored into a cache of another element type.
#ifndef KOKKOSROPE_IMPL_CACHEELEMENTS_HPP
#define KOKKOSROPE_IMPL_CACHEELEMENTS_HPP

#include <KokkosRope/Fp8.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>

#include <type_traits>

namespace KokkosRope::Impl {

/// 1 / sqrt(mean(x^2) + epsilon) of a head row of `dim` elements whose squares sum to `sum`.
template <class Acc>
KOKKOS_FORCEINLINE_FUNCTION Acc inverse_rms(const Acc sum, int dim, float epsilon) {
  return Acc(1) / Kokkos::sqrt(sum / static_cast<Acc>(dim) + static_cast<Acc>(epsilon));
}

/// A value already of the input's type T stored into an Out cache: divided by the scale for fp8,
/// or converted (what a separate copy into the cache would store).
template <class Out, class Acc, class T>
KOKKOS_FORCEINLINE_FUNCTION Out convert_stored(const T t, const float scale) {
  if constexpr (std::is_same_v<Out, T>)
    return t;
  else if constexpr (is_float8_v<Out>)
    return Out(static_cast<float>(t) / scale);
  else
    return static_cast<Out>(static_cast<Acc>(t));
}

/// A value of the input's type T stored into an Out cache: rounded to T first (what a separate
/// rotation would have stored), then converted as convert_stored.
template <class T, class Out, class Acc>
KOKKOS_FORCEINLINE_FUNCTION Out store_as(const Acc y, const float scale) {
  return convert_stored<Out, Acc>(static_cast<T>(y), scale);
}

/// Element d of a head row after the norm (inv_rms: 1 / sqrt(mean(x^2) + eps)), rounded to T as a
/// separate norm would store it.
template <class T, class Acc, class Weight>
KOKKOS_FORCEINLINE_FUNCTION Acc normed_value(const T x, const Acc inv_rms, const Weight& weight, int d,
                                             bool offset_one) {
  const Acc w = static_cast<Acc>(weight(d));
  if (offset_one) return static_cast<Acc>(static_cast<T>(static_cast<Acc>(x) * inv_rms * (Acc(1) + w)));
  return static_cast<Acc>(
      static_cast<T>(w * static_cast<Acc>(static_cast<T>(static_cast<Acc>(x) * inv_rms))));
}

}  // namespace KokkosRope::Impl

#endif
