// SPDX-License-Identifier: Apache-2.0
/// \file Blocks.hpp
/// Device-callable building blocks: rotate one head vector given its cos/sin, for codes that fuse
/// RoPE into their own attention or KV-cache-append kernels. Named as Kokkos Kernels names its
/// batched blocks by the range they use: `SerialRotate::invoke` (one thread) and
/// `TeamVectorRotate::invoke` (a team's threads and vector lanes).
#ifndef KOKKOSROPE_BLOCKS_HPP
#define KOKKOSROPE_BLOCKS_HPP

#include <KokkosRope/Options.hpp>
#include <KokkosRope/Params.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_PairRotation.hpp>

namespace KokkosRope {

/// A pair style as a compile-time tag for the blocks: the element indices of each pair.
/// \tparam Style the run-time PairStyle it stands for
template <PairStyle Style>
struct PairTag : Impl::PairIndex<Style> {
  static constexpr PairStyle style = Style;  ///< the PairStyle of this tag
};
/// Pairs (i, i + rotary_dim / 2): GPT-NeoX / Hugging Face.
using HalfSplit = PairTag<PairStyle::half_split>;
/// Pairs (2i, 2i + 1): GPT-J / Meta's original weights.
using Interleaved = PairTag<PairStyle::interleaved>;

/// Rotates one head vector in place, one thread.
/// \tparam Pairs HalfSplit or Interleaved
template <class Pairs>
struct SerialRotate {
  /// \param x rank-1 View of head_dim >= rotary_dim elements, rotated in place
  /// \param cos rank-1 View of rotary_dim / 2 (attention factor included if wanted)
  /// \param sin rank-1 View of rotary_dim / 2
  /// \param direction forward, or backward (sin negated)
  template <class XView, class CosView, class SinView>
  KOKKOS_INLINE_FUNCTION static void invoke(const XView& x, const CosView& cos, const SinView& sin,
                                            Direction direction = Direction::forward) {
    const int half = static_cast<int>(cos.extent(0));
    for (int i = 0; i < half; ++i) Impl::rotate_pair_of_vector<Pairs>(x, cos, sin, i, half, direction);
  }
};

/// Rotates one head vector in place, its pairs spread over a team's threads and vector lanes.
/// \tparam Pairs HalfSplit or Interleaved
template <class Pairs>
struct TeamVectorRotate {
  /// \param member the calling team
  /// \param x rank-1 View of head_dim >= rotary_dim elements, rotated in place
  /// \param cos rank-1 View of rotary_dim / 2 (attention factor included if wanted)
  /// \param sin rank-1 View of rotary_dim / 2
  /// \param direction forward, or backward (sin negated)
  template <class Member, class XView, class CosView, class SinView>
  KOKKOS_INLINE_FUNCTION static void invoke(const Member& member, const XView& x, const CosView& cos,
                                            const SinView& sin, Direction direction = Direction::forward) {
    const int half = static_cast<int>(cos.extent(0));
    Kokkos::parallel_for(Kokkos::TeamVectorRange(member, half), [&](const int i) {
      Impl::rotate_pair_of_vector<Pairs>(x, cos, sin, i, half, direction);
    });
  }
};

/// The former name of TeamVectorRotate.
/// \tparam Pairs HalfSplit or Interleaved
template <class Pairs>
using TeamRotate [[deprecated("KokkosRope::TeamRotate is TeamVectorRotate")]] = TeamVectorRotate<Pairs>;

}  // namespace KokkosRope

#endif
