// SPDX-License-Identifier: Apache-2.0
/// \file Precision.hpp
/// How angles p * inv_freq become cos and sin, in a table build or inside a kernel.
#ifndef KOKKOSROPE_PRECISION_HPP
#define KOKKOSROPE_PRECISION_HPP

namespace KokkosRope {

/// How a cos/sin source turns angles into cos and sin.
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

}  // namespace KokkosRope

#endif
