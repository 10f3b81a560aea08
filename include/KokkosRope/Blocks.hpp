// SPDX-License-Identifier: Apache-2.0
/// \file Blocks.hpp
/// Device-callable building blocks: rotate one head vector given its cos/sin, for codes that fuse
/// RoPE into their own attention or KV-cache-append kernels (the Kokkos Kernels
/// `SerialX::invoke` / `TeamX::invoke` convention).
#ifndef KOKKOSROPE_BLOCKS_HPP
#define KOKKOSROPE_BLOCKS_HPP

#include <KokkosRope/Layouts.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>

#include <type_traits>

namespace KokkosRope {

/// Pairs (i, i + rotary_dim / 2): GPT-NeoX / Hugging Face.
struct HalfSplit {
  KOKKOS_INLINE_FUNCTION static constexpr int first(int pair, int /*half*/) { return pair; }
  KOKKOS_INLINE_FUNCTION static constexpr int second(int pair, int half) { return pair + half; }
};
/// Pairs (2i, 2i + 1): GPT-J / Meta's original weights.
struct Interleaved {
  KOKKOS_INLINE_FUNCTION static constexpr int first(int pair, int /*half*/) { return 2 * pair; }
  KOKKOS_INLINE_FUNCTION static constexpr int second(int pair, int /*half*/) { return 2 * pair + 1; }
};

namespace Impl {

/// float arithmetic for float, half and bfloat16; double for double.
template <class T>
using compute_t = std::conditional_t<std::is_same_v<std::remove_cv_t<T>, double>, double, float>;

/// (x1, x2) -> (x1 c - x2 s, x2 c + x1 s): HF's q * cos + rotate_half(q) * sin for one pair.
template <class Acc, class In, class Out>
KOKKOS_FORCEINLINE_FUNCTION void rotate_pair(const Acc c, const Acc s, const In& x1, const In& x2,
                                             Out& y1, Out& y2) {
  using T = std::remove_cv_t<std::remove_reference_t<Out>>;
  const Acc a = static_cast<Acc>(x1);
  const Acc b = static_cast<Acc>(x2);
  y1 = static_cast<T>(a * c - b * s);
  y2 = static_cast<T>(b * c + a * s);
}

}  // namespace Impl

/// Rotates one head vector in place, one thread. `x`: rank-1 View of head_dim >= rotary_dim
/// elements; `cos`, `sin`: rank-1 of rotary_dim / 2 (attention factor included if wanted).
template <class PairTag>
struct SerialRotate {
  template <class XView, class CosView, class SinView>
  KOKKOS_INLINE_FUNCTION static void invoke(const XView& x, const CosView& cos, const SinView& sin,
                                            Direction direction = Direction::forward) {
    using Acc = Impl::compute_t<typename XView::value_type>;
    const int half = static_cast<int>(cos.extent(0));
    const Acc sign = direction == Direction::backward ? Acc(-1) : Acc(1);
    for (int i = 0; i < half; ++i) {
      const int i1 = PairTag::first(i, half), i2 = PairTag::second(i, half);
      Impl::rotate_pair(static_cast<Acc>(cos(i)), sign * static_cast<Acc>(sin(i)), x(i1), x(i2), x(i1), x(i2));
    }
  }
};

/// The same for a team: the pairs are spread over the team's threads and vector lanes.
template <class PairTag>
struct TeamRotate {
  template <class Member, class XView, class CosView, class SinView>
  KOKKOS_INLINE_FUNCTION static void invoke(const Member& member, const XView& x, const CosView& cos,
                                            const SinView& sin, Direction direction = Direction::forward) {
    using Acc = Impl::compute_t<typename XView::value_type>;
    const int half = static_cast<int>(cos.extent(0));
    const Acc sign = direction == Direction::backward ? Acc(-1) : Acc(1);
    Kokkos::parallel_for(Kokkos::TeamVectorRange(member, half), [&](const int i) {
      const int i1 = PairTag::first(i, half), i2 = PairTag::second(i, half);
      Impl::rotate_pair(static_cast<Acc>(cos(i)), sign * static_cast<Acc>(sin(i)), x(i1), x(i2), x(i1), x(i2));
    });
  }
};

}  // namespace KokkosRope

#endif
