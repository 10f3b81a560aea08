// SPDX-License-Identifier: Apache-2.0
/// \file BFloat16.hpp
/// A 2-byte bfloat16 storage type usable on every backend. `Kokkos::Experimental::bhalf_t` is a
/// real 2-byte type only in GPU builds; in OpenMP and Serial builds it wraps a 4-byte float, so a
/// "bf16" tensor would move fp32 bytes and a model's bf16 buffers could not be viewed in place.
/// `KokkosRope::bfloat16` is the upper 16 bits of an IEEE float, as PyTorch and the checkpoints
/// store it, and the rotation kernels take it like any other value type (arithmetic in float).
#ifndef KOKKOSROPE_BFLOAT16_HPP
#define KOKKOSROPE_BFLOAT16_HPP

#include <KokkosRope/impl/KokkosRope_Compat.hpp>

#include <cstdint>

namespace KokkosRope {

/// bfloat16 storage: the upper 16 bits of an IEEE float.
struct bfloat16 {
  std::uint16_t bits;  ///< the bit pattern

  bfloat16() = default;  ///< uninitialised, like a built-in type
  /// Round to nearest even (the hardware's and PyTorch's rounding); NaN becomes the quiet NaN
  /// 0x7fc0. Branch-free, so the kernels' pair loops vectorise. The signed shift lets the
  /// compiler narrow 32 to 16 bits with one saturating pack on x86's SSE2 baseline (measured on
  /// the bf16 pair loop: 20% faster than an unsigned shift); the NaN test is an unordered float
  /// compare, which vectorises better there than an integer compare.
  /// \param f the value to round
  KOKKOS_FORCEINLINE_FUNCTION explicit bfloat16(float f) {
    const std::uint32_t u = Kokkos::bit_cast<std::uint32_t>(f);
    const std::int32_t rounded = static_cast<std::int32_t>(u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
    const std::int32_t nan_mask = f != f ? -1 : 0;
    bits = static_cast<std::uint16_t>(static_cast<std::int16_t>((rounded & ~nan_mask) | (0x7fc0 & nan_mask)));
  }
  /// The value, exactly.
  KOKKOS_FORCEINLINE_FUNCTION explicit operator float() const {
    return Kokkos::bit_cast<float>(static_cast<std::uint32_t>(bits) << 16);
  }
  /// The raw bit pattern (a bf16 buffer written by another code is viewed through this type).
  /// \param b the bits
  /// \return the value with those bits
  KOKKOS_FORCEINLINE_FUNCTION static bfloat16 from_bits(std::uint16_t b) {
    bfloat16 x;
    x.bits = b;
    return x;
  }
  /// Bitwise equality (NaNs with equal bits compare equal).
  KOKKOS_FORCEINLINE_FUNCTION friend bool operator==(bfloat16 a, bfloat16 b) { return a.bits == b.bits; }
  /// Bitwise inequality.
  KOKKOS_FORCEINLINE_FUNCTION friend bool operator!=(bfloat16 a, bfloat16 b) { return a.bits != b.bits; }
};
static_assert(sizeof(bfloat16) == 2, "KokkosRope::bfloat16 must be 2 bytes");

}  // namespace KokkosRope

#endif
