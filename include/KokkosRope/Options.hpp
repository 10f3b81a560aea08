// SPDX-License-Identifier: Apache-2.0
/// \file Options.hpp
/// Options of a rotation: its direction, how its positions are validated, and (for testing and
/// cross-checking backends) which kernel code path it takes.
#ifndef KOKKOSROPE_OPTIONS_HPP
#define KOKKOSROPE_OPTIONS_HPP

namespace KokkosRope {

/// Forward rotation, or its inverse (the gradient of RoPE is RoPE with sin negated).
enum class Direction {
  forward,  ///< rotate by +angle
  backward  ///< rotate by -angle
};

/// How a rotation validates its positions (0 <= position < the source's positions),
/// `cu_seqlens` (starts at 0, never decreases, ends at the token count) and the local lengths of
/// a dual-chunk context-parallel shard (even).
enum class Validation {
  /// `before_kernel` on host execution spaces, where it costs next to nothing; `in_kernel` on
  /// device execution spaces, where waiting for the device would cost a synchronisation per call.
  automatic,
  /// Checked before anything is written; a violation throws InvalidArgument. Waits for the
  /// instance (a small reduction read back on the host): on a device, a debugging mode.
  before_kernel,
  /// Checked by the rotation kernel itself; the call never waits for the instance. A token that
  /// fails is skipped (its outputs are not written) and flagged in the RotateStatus passed to the
  /// call; without a status the kernel aborts with a message (Kokkos::abort), as a device-side
  /// assertion does.
  in_kernel,
  /// No validation: the caller guarantees the preconditions. Tokens outside the source are
  /// still skipped (never read out of bounds), silently.
  none
};

/// The kernel code path of a rotation. `automatic` picks the fastest path for the execution
/// space and the Views; the others force one, so that a CPU backend runs (and tests) exactly the
/// code a GPU takes. A forced path the Views cannot take throws InvalidArgument.
enum class KernelPath {
  automatic,  ///< host_rows on host spaces, vector on devices where the Views allow, else lanes
  host_rows,  ///< host spaces: a loop over tokens, each head row rotated by a vectorisable loop
  lanes,      ///< teams of tokens, threads over heads, vector lanes over pairs (any strides)
  vector      ///< teams of tokens, each thread moving 16 bytes of a row-major head per access
};

/// What `rotate` and `rotate_copy` do besides the rotation itself.
struct RotateOptions {
  Direction direction = Direction::forward;        ///< forward, or backward (the gradient)
  Validation validation = Validation::automatic;   ///< when and how positions are validated
  KernelPath kernel_path = KernelPath::automatic;  ///< which kernel code path runs
};

}  // namespace KokkosRope

#endif
