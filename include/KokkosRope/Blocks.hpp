// SPDX-License-Identifier: Apache-2.0
/// \file Blocks.hpp
/// Device-callable building blocks: rotate one head vector given its cos/sin, for codes that fuse
/// RoPE into their own attention or KV-cache-append kernels. Named as Kokkos Kernels names its
/// batched blocks by the range they use: `SerialRotate::invoke` (one thread) and
/// `TeamVectorRotate::invoke` (a team's threads and vector lanes); `SerialRotateAndStore` and
/// `TeamVectorRotateAndStore` do per head what `rotate_and_cache` does (RotateAndCache.hpp):
/// optional RMS norm, rotation, and a store into a cache row of another element type.
#ifndef KOKKOSROPE_BLOCKS_HPP
#define KOKKOSROPE_BLOCKS_HPP

#include <KokkosRope/KvCache.hpp>
#include <KokkosRope/Options.hpp>
#include <KokkosRope/Params.hpp>
#include <KokkosRope/impl/KokkosRope_CacheElements.hpp>
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

/// The RMS norm of one head row for the store blocks: x / sqrt(mean(x^2) + epsilon) times the
/// weight (NormWeight of KvCache.hpp).
/// \tparam Weight rank-1 View [head_dim] of any floating type
template <class Weight>
struct HeadNorm {
  Weight weight;                          ///< the norm's weight
  float epsilon = 1e-6f;                  ///< the variance epsilon
  NormWeight style = NormWeight::scale;   ///< how the weight applies
};

/// No norm in front of the store blocks' rotation.
struct NoHeadNorm {};

namespace Impl {
/// Element d of head row x after the norm (identity without one), as the compute type.
template <class Acc, class XView, class Norm>
KOKKOS_FORCEINLINE_FUNCTION Acc block_input(const XView& x, int d, const Norm& norm, Acc inv_rms) {
  using T = typename XView::non_const_value_type;
  if constexpr (std::is_same_v<Norm, NoHeadNorm>)
    return static_cast<Acc>(x(d));
  else
    return normed_value<T>(x(d), inv_rms, norm.weight, d, norm.style == NormWeight::offset_one);
}
/// Pair i of x, normalised, rotated and stored to y (rounded to x's type, then y's).
template <class Pairs, class Acc, class XView, class YView, class CosView, class SinView, class Norm>
KOKKOS_FORCEINLINE_FUNCTION void store_pair(const XView& x, const YView& y, const CosView& cos, const SinView& sin,
                                            int i, int half, const Norm& norm, Acc inv_rms, float scale,
                                            Direction direction) {
  using T = typename XView::non_const_value_type;
  using Out = typename YView::non_const_value_type;
  const Acc s = static_cast<Acc>(sin(i));
  const int i1 = Pairs::first(i, half), i2 = Pairs::second(i, half);
  Acc y1, y2;
  rotate_pair(static_cast<Acc>(cos(i)), direction == Direction::backward ? -s : s,
              block_input<Acc>(x, i1, norm, inv_rms), block_input<Acc>(x, i2, norm, inv_rms), y1, y2);
  y(i1) = store_as<T, Out>(y1, scale);
  y(i2) = store_as<T, Out>(y2, scale);
}
}  // namespace Impl

/// Normalises (optionally), rotates and stores one head vector into a row of another element
/// type (e.g. one token's head in a paged fp8 cache), one thread: the per-head step of
/// `rotate_and_cache`, bitwise (without a norm; with one, up to the order of its sum).
/// \tparam Pairs HalfSplit or Interleaved
template <class Pairs>
struct SerialRotateAndStore {
  /// \param x rank-1 View of head_dim elements, read only
  /// \param y rank-1 View of head_dim elements of any cache element type (float, double, half,
  ///        bfloat16, float8_e4m3, float8_e5m2); may be x itself (same type) for in place
  /// \param cos rank-1 View of rotary_dim / 2 (attention factor included if wanted)
  /// \param sin rank-1 View of rotary_dim / 2
  /// \param norm NoHeadNorm{} or HeadNorm{weight, epsilon, style}
  /// \param scale fp8 rows store value / scale; must be 1 for other element types
  /// \param direction forward, or backward (sin negated)
  template <class XView, class YView, class CosView, class SinView, class Norm = NoHeadNorm>
  KOKKOS_INLINE_FUNCTION static void invoke(const XView& x, const YView& y, const CosView& cos, const SinView& sin,
                                            const Norm& norm = {}, float scale = 1,
                                            Direction direction = Direction::forward) {
    using T = typename XView::non_const_value_type;
    using Out = typename YView::non_const_value_type;
    using Acc = Impl::compute_t<T>;
    const int half = static_cast<int>(cos.extent(0)), dim = static_cast<int>(x.extent(0));
    Acc inv_rms = 1;
    if constexpr (!std::is_same_v<Norm, NoHeadNorm>) {
      Acc sum = 0;
      for (int d = 0; d < dim; ++d) sum += static_cast<Acc>(x(d)) * static_cast<Acc>(x(d));
      inv_rms = Impl::inverse_rms(sum, dim, norm.epsilon);
    }
    for (int i = 0; i < half; ++i)
      Impl::store_pair<Pairs>(x, y, cos, sin, i, half, norm, inv_rms, scale, direction);
    for (int d = 2 * half; d < dim; ++d)
      y(d) = Impl::store_as<T, Out>(Impl::block_input<Acc>(x, d, norm, inv_rms), scale);
  }
};

/// SerialRotateAndStore with the row's pairs spread over a team's threads and vector lanes.
/// \tparam Pairs HalfSplit or Interleaved
template <class Pairs>
struct TeamVectorRotateAndStore {
  /// \param member the calling team
  /// \param x rank-1 View of head_dim elements, read only
  /// \param y rank-1 View of head_dim elements of any cache element type; may be x (same type)
  /// \param cos rank-1 View of rotary_dim / 2
  /// \param sin rank-1 View of rotary_dim / 2
  /// \param norm NoHeadNorm{} or HeadNorm{weight, epsilon, style}
  /// \param scale fp8 rows store value / scale; must be 1 for other element types
  /// \param direction forward, or backward (sin negated)
  template <class Member, class XView, class YView, class CosView, class SinView, class Norm = NoHeadNorm>
  KOKKOS_INLINE_FUNCTION static void invoke(const Member& member, const XView& x, const YView& y, const CosView& cos,
                                            const SinView& sin, const Norm& norm = {}, float scale = 1,
                                            Direction direction = Direction::forward) {
    using T = typename XView::non_const_value_type;
    using Out = typename YView::non_const_value_type;
    using Acc = Impl::compute_t<T>;
    const int half = static_cast<int>(cos.extent(0)), dim = static_cast<int>(x.extent(0));
    Acc inv_rms = 1;
    if constexpr (!std::is_same_v<Norm, NoHeadNorm>) {
      Acc sum = 0;
      Kokkos::parallel_reduce(
          Kokkos::TeamVectorRange(member, dim),
          [&](const int d, Acc& partial) { partial += static_cast<Acc>(x(d)) * static_cast<Acc>(x(d)); }, sum);
      inv_rms = Impl::inverse_rms(sum, dim, norm.epsilon);
      member.team_barrier();  // every element read before any is written (y may be x)
    }
    Kokkos::parallel_for(Kokkos::TeamVectorRange(member, half), [&](const int i) {
      Impl::store_pair<Pairs>(x, y, cos, sin, i, half, norm, inv_rms, scale, direction);
    });
    Kokkos::parallel_for(Kokkos::TeamVectorRange(member, 2 * half, dim), [&](const int d) {
      y(d) = Impl::store_as<T, Out>(Impl::block_input<Acc>(x, d, norm, inv_rms), scale);
    });
  }
};

}  // namespace KokkosRope

#endif
