// SPDX-License-Identifier: Apache-2.0
/// \file Layouts.hpp
/// Tensor orders, position sources and options of a rotation.
#ifndef KOKKOSROPE_LAYOUTS_HPP
#define KOKKOSROPE_LAYOUTS_HPP

#include <KokkosRope/impl/KokkosRope_Compat.hpp>

namespace KokkosRope {

/// q, k as [batch, seq, heads, head_dim] (rank-4 Views of any Kokkos layout, LayoutStride
/// included, e.g. slices of a fused QKV buffer).
struct BSHD {
  static constexpr int rank = 4;
};
/// q, k as [batch, heads, seq, head_dim] (Hugging Face's order).
struct BHSD {
  static constexpr int rank = 4;
};
/// Packed variable-length batch: q, k as [tokens, heads, head_dim]; sequence b holds tokens
/// [cu_seqlens(b), cu_seqlens(b + 1)) (`CuSeqlens` a rank-1 integer View of batch + 1 entries).
/// `Packed<void>`: the tokens form one sequence.
template <class CuSeqlens = void>
struct Packed {
  static constexpr int rank = 3;
  CuSeqlens cu_seqlens;
};
template <>
struct Packed<void> {
  static constexpr int rank = 3;
};

inline constexpr BSHD bshd{};
inline constexpr BHSD bhsd{};
/// Packed tokens split into sequences by `cu_seqlens` (FlashAttention's varlen convention).
template <class CuSeqlens>
Packed<CuSeqlens> packed(const CuSeqlens& cu_seqlens) {
  static_assert(Kokkos::is_view_v<CuSeqlens> && CuSeqlens::rank() == 1,
                "KokkosRope::packed: cu_seqlens must be a rank-1 View");
  return {cu_seqlens};
}
/// Packed tokens of a single sequence.
inline Packed<void> packed() { return {}; }

/// Positions 0..S-1 of every sequence.
struct ImplicitPositions {};
/// Sequence b starts at position offsets(b) (KV-cache decode, chunked prefill). Rank-1 integer
/// View, one entry per sequence.
template <class Offsets>
struct SequenceOffsets {
  Offsets offsets;
};
/// An explicit position per token: rank 2 [batch][seq] for BSHD/BHSD, rank 1 [tokens] for
/// packed layouts (speculative decoding, arbitrary packing).
template <class PositionView>
struct TokenPositions {
  PositionView positions;
};

template <class Offsets>
SequenceOffsets<Offsets> sequence_offsets(const Offsets& offsets) {
  static_assert(Kokkos::is_view_v<Offsets> && Offsets::rank() == 1,
                "KokkosRope::sequence_offsets: offsets must be a rank-1 View");
  return {offsets};
}
template <class PositionView>
TokenPositions<PositionView> token_positions(const PositionView& positions) {
  static_assert(Kokkos::is_view_v<PositionView>,
                "KokkosRope::token_positions: positions must be a View");
  return {positions};
}

/// Forward rotation, or its inverse (the gradient of RoPE is RoPE with sin negated).
enum class Direction { forward, backward };

struct RotateOptions {
  Direction direction = Direction::forward;
  /// Validate positions against the source's range before the kernel runs. This costs one
  /// small reduction and waits for the instance; codes that guarantee the precondition
  /// (0 <= position < table size, well-formed cu_seqlens) may turn it off.
  bool check_positions = true;
};

}  // namespace KokkosRope

#endif
