// SPDX-License-Identifier: Apache-2.0
/// \file Fp8.hpp
/// 1-byte OCP FP8 storage types for fp8 KV caches, usable on every backend like
/// `KokkosRope::bfloat16`: `float8_e4m3` (PyTorch's `float8_e4m3fn`: bias 7, no infinities, S.1111.111
/// is NaN, largest finite 448, subnormals down to 2^-9) and `float8_e5m2` (PyTorch's `float8_e5m2`:
/// bias 15, IEEE-like, S.11111.00 is infinity, S.11111.xx NaN, largest finite 57344, subnormals down
/// to 2^-16). Arithmetic is done in float; these types only store.
///
/// Conversion from float (the same rules for both formats, as CUDA's `__NV_SATFINITE` and PTX's
/// `cvt.satfinite` do):
///  - round to nearest, ties to even, at the format's spacing (the subnormal spacing below the
///    smallest normal, so values round up into the smallest normal, and values at or below half
///    the smallest subnormal become a zero of the input's sign);
///  - saturating: a finite value at or beyond the largest finite value becomes ±largest finite,
///    and so does ±infinity (also for e5m2, which could store infinity: a cache write never
///    produces one; a stored e5m2 infinity bit pattern still reads back as infinity);
///  - NaN stays NaN: the code S.1111111 (sign kept, every exponent and mantissa bit set), which is
///    e4m3's only NaN and a quiet NaN of e5m2 (PyTorch writes the same code).
///
/// Conversion to float is exact (NaN codes give a quiet float NaN of the same sign). Both
/// directions use only `Kokkos::bit_cast` and integer operations, no tables, so they run in any
/// execution space.
#ifndef KOKKOSROPE_FP8_HPP
#define KOKKOSROPE_FP8_HPP

#include <KokkosRope/impl/KokkosRope_Compat.hpp>

#include <cstdint>

namespace KokkosRope {

namespace Impl {

/// Float to an FP8 code with ManBits mantissa bits and exponent bias Bias; MaxCode is the largest
/// finite code. Round to nearest even, saturating (infinity too), NaN to sign | 0x7f. Every case
/// is computed and the right one selected, without branches, so a loop over a row vectorises.
template <int ManBits, int Bias, std::uint8_t MaxCode>
KOKKOS_FORCEINLINE_FUNCTION std::uint8_t fp8_from_float(float f) {
  constexpr int float_shift = 23 - ManBits;  // float mantissa bits dropped in the normal range
  constexpr std::uint32_t rebias = static_cast<std::uint32_t>(127 - Bias) << 23;
  constexpr std::uint32_t min_normal = static_cast<std::uint32_t>(127 - Bias + 1) << 23;
  constexpr std::uint32_t max_finite =
      ((static_cast<std::uint32_t>(MaxCode >> ManBits) << 23) + rebias) |
      (static_cast<std::uint32_t>(MaxCode & ((1u << ManBits) - 1u)) << float_shift);
  const std::uint32_t u = Kokkos::bit_cast<std::uint32_t>(f);
  const std::uint32_t sign = (u >> 24) & 0x80u;
  const std::uint32_t a = u & 0x7fffffffu;
  // Normal range: rebias the exponent and round the mantissa; a carry moves into the exponent
  // correctly and never passes MaxCode (a < max_finite, which is representable).
  const std::uint32_t r = a - rebias;
  const std::uint32_t normal =
      (r + ((1u << (float_shift - 1)) - 1u) + ((r >> float_shift) & 1u)) >> float_shift;
  // Below the smallest normal: the code is the value in units of the subnormal spacing
  // 2^(1 - Bias - ManBits); a float is mant * 2^(e - 150) (e = 1 for float subnormals), so the
  // code is mant >> s, s = 151 - Bias - ManBits - e, rounded to nearest even as above. A code of
  // 1 << ManBits is the smallest normal, as wanted. s >= 25 leaves less than half a unit: 0.
  // s is clamped to [1, 25] so that the lanes of the other cases shift by a valid amount.
  const std::uint32_t e = a >> 23;
  const std::uint32_t mant = (a & 0x7fffffu) | (static_cast<std::uint32_t>(e != 0u) << 23);
  const int s_exact = 151 - Bias - ManBits - static_cast<int>(e + static_cast<std::uint32_t>(e == 0u));
  const auto s = static_cast<std::uint32_t>(Kokkos::min(Kokkos::max(s_exact, 1), 25));
  const std::uint32_t half = 1u << (s - 1u);
  const std::uint32_t subnormal = (mant + (half - 1u) + ((mant >> s) & 1u)) >> s;
  const std::uint32_t finite = a >= min_normal ? normal : subnormal;
  const std::uint32_t saturated = a >= max_finite ? static_cast<std::uint32_t>(MaxCode) : finite;
  const std::uint32_t code = a > 0x7f800000u ? 0x7fu : saturated;  // NaN
  return static_cast<std::uint8_t>(sign | code);
}

/// An FP8 code to float, exactly. HasInf: the all-ones exponent with mantissa 0 is infinity
/// (e5m2); otherwise only the all-ones code is NaN (e4m3) and the rest of that binade is finite.
template <int ManBits, int Bias, bool HasInf>
KOKKOS_FORCEINLINE_FUNCTION float fp8_to_float(std::uint8_t b) {
  constexpr std::uint32_t man_mask = (1u << ManBits) - 1u;
  constexpr std::uint32_t exp_max = 0x7fu >> ManBits;
  const std::uint32_t sign = static_cast<std::uint32_t>(b & 0x80u) << 24;
  const std::uint32_t e = (b & 0x7fu) >> ManBits;
  const std::uint32_t m = b & man_mask;
  std::uint32_t out;
  if (HasInf ? e == exp_max : (b & 0x7fu) == 0x7fu) {
    // Infinity, or a quiet NaN keeping the sign and the fp8 mantissa as its payload.
    out = sign | 0x7f800000u | (m == 0u && HasInf ? 0u : (0x400000u | (m << (23 - ManBits))));
  } else if (e != 0u) {
    out = sign | ((e + static_cast<std::uint32_t>(127 - Bias)) << 23) | (m << (23 - ManBits));
  } else if (m == 0u) {
    out = sign;  // signed zero
  } else {
    // Subnormal m * 2^(1 - Bias - ManBits): normalise around m's leading bit p.
    std::uint32_t p = 0;
    for (std::uint32_t k = 1; k < static_cast<std::uint32_t>(ManBits); ++k)
      if ((m >> k) != 0u) p = k;
    const std::uint32_t exp_field = p + static_cast<std::uint32_t>(127 + 1 - Bias - ManBits);
    out = sign | (exp_field << 23) | ((m ^ (1u << p)) << (23 - p));
  }
  return Kokkos::bit_cast<float>(out);
}

}  // namespace Impl

/// OCP FP8 storage with `MantissaBits` mantissa bits (and 7 - MantissaBits exponent bits) of bias
/// `Bias`; `MaxFiniteCode` is the largest finite value's code, `HasInfinity` whether S.1..1.0..0
/// reads as infinity. Use the two formats below.
template <int MantissaBits, int Bias, std::uint8_t MaxFiniteCode, bool HasInfinity>
struct basic_float8 {
  std::uint8_t bits;  ///< the bit pattern

  basic_float8() = default;  ///< uninitialised, like a built-in type
  /// Round to nearest even; saturating: a value at or beyond the largest finite value (±infinity
  /// included) becomes ±largest finite; NaN becomes 0x7f or 0xff (the sign kept). A double
  /// argument is first rounded to float.
  /// \param f the value to round
  KOKKOS_FORCEINLINE_FUNCTION explicit basic_float8(float f)
      : bits(Impl::fp8_from_float<MantissaBits, Bias, MaxFiniteCode>(f)) {}
  /// The value, exactly (a NaN code: a quiet float NaN of the same sign).
  /// \return the value as a float
  KOKKOS_FORCEINLINE_FUNCTION explicit operator float() const {
    return Impl::fp8_to_float<MantissaBits, Bias, HasInfinity>(bits);
  }
  /// The raw bit pattern (an fp8 buffer written by another code is viewed through this type).
  /// \param b the bits
  /// \return the value with those bits
  KOKKOS_FORCEINLINE_FUNCTION static basic_float8 from_bits(std::uint8_t b) {
    basic_float8 x;
    x.bits = b;
    return x;
  }
  /// Bitwise equality (NaNs with equal bits compare equal; +0 and -0 do not).
  /// \param a one value
  /// \param b the other
  /// \return whether the bit patterns are equal
  KOKKOS_FORCEINLINE_FUNCTION friend bool operator==(basic_float8 a, basic_float8 b) {
    return a.bits == b.bits;
  }
  /// Bitwise inequality.
  /// \param a one value
  /// \param b the other
  /// \return whether the bit patterns differ
  KOKKOS_FORCEINLINE_FUNCTION friend bool operator!=(basic_float8 a, basic_float8 b) {
    return a.bits != b.bits;
  }
};

/// OCP FP8 E4M3 storage (PyTorch's `torch.float8_e4m3fn`): 1 sign, 4 exponent (bias 7) and 3
/// mantissa bits; no infinities; S.1111.111 is NaN; largest finite ±448 (code 0x7e / 0xfe), which
/// values beyond it and ±infinity saturate to; smallest normal 2^-6, smallest subnormal 2^-9.
using float8_e4m3 = basic_float8<3, 7, 0x7e, false>;

/// OCP FP8 E5M2 storage (PyTorch's `torch.float8_e5m2`): 1 sign, 5 exponent (bias 15) and 2
/// mantissa bits, IEEE-like: S.11111.00 is infinity, S.11111.xx (xx != 0) NaN; largest finite
/// ±57344 (code 0x7b / 0xfb), which values beyond it and ±infinity saturate to (an infinity is
/// never stored, as with CUDA's satfinite conversion; a stored one reads back as infinity);
/// smallest normal 2^-14, smallest subnormal 2^-16.
using float8_e5m2 = basic_float8<2, 15, 0x7b, true>;

namespace Impl {
/// Whether T is one of the FP8 storage types (a cache of them takes a scale).
template <class T>
inline constexpr bool is_float8_v = false;
template <int M, int B, std::uint8_t C, bool I>
inline constexpr bool is_float8_v<basic_float8<M, B, C, I>> = true;
}  // namespace Impl

static_assert(sizeof(float8_e4m3) == 1 && sizeof(float8_e5m2) == 1, "KokkosRope's fp8 types must be 1 byte");

}  // namespace KokkosRope

#endif
