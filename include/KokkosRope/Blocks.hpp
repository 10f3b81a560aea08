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

/// Host path of the kernels: one head row with unit stride, through restrict pointers so the
/// compiler vectorises the pair loop without runtime alias checks (measured: the View-indexed
/// loop vectorises only partly). `in == out` is the in-place case; otherwise the rows must not
/// overlap, which the out-of-place entry points require anyway. (Device-callable so a GPU build
/// that instantiates it for a host space compiles cleanly; GPUs take the lane-parallel path.)
template <class PairTag, class Acc, class T>
KOKKOS_FORCEINLINE_FUNCTION void rotate_row_host(const T* in, T* out, const Acc* KOKKOS_RESTRICT c, const Acc* KOKKOS_RESTRICT s,
                            int half) {
  if constexpr (std::is_same_v<PairTag, HalfSplit>) {
    if (in == out) {
      T* KOKKOS_RESTRICT x1 = out;
      T* KOKKOS_RESTRICT x2 = out + half;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
      for (int i = 0; i < half; ++i) rotate_pair(c[i], s[i], x1[i], x2[i], x1[i], x2[i]);
    } else {
      const T* KOKKOS_RESTRICT a1 = in;
      const T* KOKKOS_RESTRICT a2 = in + half;
      T* KOKKOS_RESTRICT y1 = out;
      T* KOKKOS_RESTRICT y2 = out + half;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
      for (int i = 0; i < half; ++i) rotate_pair(c[i], s[i], a1[i], a2[i], y1[i], y2[i]);
    }
  } else {
    if (in == out) {
      T* KOKKOS_RESTRICT x = out;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
      for (int i = 0; i < half; ++i) rotate_pair(c[i], s[i], x[2 * i], x[2 * i + 1], x[2 * i], x[2 * i + 1]);
    } else {
      const T* KOKKOS_RESTRICT a = in;
      T* KOKKOS_RESTRICT y = out;
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
      for (int i = 0; i < half; ++i) rotate_pair(c[i], s[i], a[2 * i], a[2 * i + 1], y[2 * i], y[2 * i + 1]);
    }
  }
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
