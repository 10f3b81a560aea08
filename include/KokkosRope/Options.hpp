// SPDX-License-Identifier: Apache-2.0
/// \file Options.hpp
/// Options of a rotation: its direction and whether positions are validated.
#ifndef KOKKOSROPE_OPTIONS_HPP
#define KOKKOSROPE_OPTIONS_HPP

namespace KokkosRope {

/// Forward rotation, or its inverse (the gradient of RoPE is RoPE with sin negated).
enum class Direction {
  forward,  ///< rotate by +angle
  backward  ///< rotate by -angle
};

/// What `rotate` and `rotate_copy` do besides the rotation itself.
struct RotateOptions {
  Direction direction = Direction::forward;  ///< forward, or backward (the gradient)
  /// Validate positions against the source's range before the kernel runs. This costs one
  /// small reduction and waits for the instance; codes that guarantee the precondition
  /// (0 <= position < table size, well-formed cu_seqlens) may turn it off.
  bool check_positions = true;
};

}  // namespace KokkosRope

#endif
