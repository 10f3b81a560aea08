// SPDX-License-Identifier: Apache-2.0
/// \file Positions.hpp
/// Where the tokens of q and k sit in their sequences: implicitly 0..S-1, after a per-sequence
/// offset, at an explicit position each, or, for multimodal RoPE (M-RoPE: Qwen2-VL, Qwen2.5-VL,
/// Qwen3-VL, Qwen3.5), at three positions each (temporal, height, width), each rotary pair
/// reading one of them. (Context parallelism: ContextParallel.hpp.)
#ifndef KOKKOSROPE_POSITIONS_HPP
#define KOKKOSROPE_POSITIONS_HPP

#include <KokkosRope/Params.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>

namespace KokkosRope {

/// Positions 0..S-1 of every sequence.
struct ImplicitPositions {};

/// Sequence b starts at position offsets(b) (KV-cache decode, chunked prefill).
/// \tparam Offsets a rank-1 integer View, one entry per sequence
template <class Offsets>
struct SequenceOffsets {
  Offsets offsets;  ///< the first position of each sequence
};

/// An explicit position per token (speculative decoding, arbitrary packing).
/// \tparam PositionView an integer View: rank 2 [batch][seq] for BSHD/BHSD, rank 1 [tokens] for
///         packed layouts
template <class PositionView>
struct TokenPositions {
  PositionView positions;  ///< the position of each token
};

/// Three positions per token (temporal, height, width) and the section that maps pairs to them.
/// A token whose three positions are equal (text) is rotated exactly as with one position.
/// \tparam PositionView an integer View: rank 3 [3][batch][seq] for BSHD/BHSD, rank 2 [3][tokens]
///         for packed layouts (the reference's `position_ids` of shape [3, batch, seq])
template <class PositionView>
struct MultimodalPositions {
  PositionView positions;  ///< stream, then the token's coordinates
  MropeSection section;    ///< which pairs read which stream
};

/// Positions that start at offsets(b) in sequence b.
/// \param offsets rank-1 integer View, one entry per sequence, accessible from the rotation's
///        execution space
/// \return the positions descriptor
template <class Offsets>
SequenceOffsets<Offsets> sequence_offsets(const Offsets& offsets) {
  static_assert(Kokkos::is_view_v<Offsets> && Offsets::rank() == 1,
                "KokkosRope::sequence_offsets: offsets must be a rank-1 View");
  return {offsets};
}

/// One position per token.
/// \param positions integer View, [batch][seq] for bshd/bhsd or [tokens] for packed layouts,
///        accessible from the rotation's execution space
/// \return the positions descriptor
template <class PositionView>
TokenPositions<PositionView> token_positions(const PositionView& positions) {
  static_assert(Kokkos::is_view_v<PositionView>, "KokkosRope::token_positions: positions must be a View");
  return {positions};
}

/// Three positions per token for multimodal RoPE.
/// \param positions integer View, [3][batch][seq] for bshd/bhsd or [3][tokens] for packed
///        layouts (streams temporal, height, width), accessible from the rotation's execution space
/// \param section pairs per stream and their layout (e.g. `mrope_section_of(config)`)
/// \return the positions descriptor
template <class PositionView>
MultimodalPositions<PositionView> multimodal_positions(const PositionView& positions, const MropeSection& section) {
  static_assert(Kokkos::is_view_v<PositionView>, "KokkosRope::multimodal_positions: positions must be a View");
  return {positions, section};
}

}  // namespace KokkosRope

#endif
