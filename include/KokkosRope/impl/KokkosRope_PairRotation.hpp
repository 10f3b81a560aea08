// SPDX-License-Identifier: Apache-2.0
// The rotation of one pair, and of one unit-stride head row on the host: the arithmetic every
// kernel and building block shares.
#ifndef KOKKOSROPE_IMPL_PAIRROTATION_HPP
#define KOKKOSROPE_IMPL_PAIRROTATION_HPP

#include <KokkosRope/Options.hpp>
#include <KokkosRope/Params.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_HostSimd.hpp>

#include <type_traits>

namespace KokkosRope::Impl {

/// The two elements of pair `pair` of a head whose rotary part has `half` pairs.
template <PairStyle Style>
struct PairIndex {
  KOKKOS_FORCEINLINE_FUNCTION static constexpr int first(int pair, int /*half*/) {
    if constexpr (Style == PairStyle::interleaved)
      return 2 * pair;
    else
      return pair;
  }
  KOKKOS_FORCEINLINE_FUNCTION static constexpr int second(int pair, int half) {
    if constexpr (Style == PairStyle::interleaved)
      return 2 * pair + 1;
    else
      return pair + half;
  }
};

/// float arithmetic for float, half and bfloat16; double for double.
template <class T>
using compute_t = std::conditional_t<std::is_same_v<std::remove_cv_t<T>, double>, double, float>;

/// (x1, x2) -> (x1 c - x2 s, x2 c + x1 s): HF's q * cos + rotate_half(q) * sin for one pair.
template <class Acc, class In, class Out>
KOKKOS_FORCEINLINE_FUNCTION void rotate_pair(const Acc c, const Acc s, const In& x1, const In& x2, Out& y1,
                                             Out& y2) {
  using T = std::remove_cv_t<std::remove_reference_t<Out>>;
  const Acc a = static_cast<Acc>(x1);
  const Acc b = static_cast<Acc>(x2);
  y1 = static_cast<T>(a * c - b * s);
  y2 = static_cast<T>(b * c + a * s);
}

/// Pair i of a head vector x rotated in place by cos(i), sin(i) (the blocks' element step).
template <class Pairs, class XView, class CosView, class SinView>
KOKKOS_FORCEINLINE_FUNCTION void rotate_pair_of_vector(const XView& x, const CosView& cos, const SinView& sin,
                                                       int i, int half, Direction direction) {
  using Acc = compute_t<typename XView::value_type>;
  const Acc s = static_cast<Acc>(sin(i));
  const int i1 = Pairs::first(i, half), i2 = Pairs::second(i, half);
  rotate_pair(static_cast<Acc>(cos(i)), direction == Direction::backward ? -s : s, x(i1), x(i2), x(i1),
              x(i2));
}

// The host-rows loops, one per pair style and aliasing case. Restrict-qualified parameters (not
// locals, which GCC does not trust) let the compiler vectorise without run-time alias checks.
template <class Acc, class T>
KOKKOS_FORCEINLINE_FUNCTION void rotate_split_in_place(T* KOKKOS_RESTRICT x1, T* KOKKOS_RESTRICT x2,
                                                       const Acc* KOKKOS_RESTRICT c,
                                                       const Acc* KOKKOS_RESTRICT s, int n) {
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
  for (int i = 0; i < n; ++i) rotate_pair(c[i], s[i], x1[i], x2[i], x1[i], x2[i]);
}

template <class Acc, class T>
KOKKOS_FORCEINLINE_FUNCTION void rotate_split(const T* KOKKOS_RESTRICT a1, const T* KOKKOS_RESTRICT a2,
                                              T* KOKKOS_RESTRICT y1, T* KOKKOS_RESTRICT y2,
                                              const Acc* KOKKOS_RESTRICT c, const Acc* KOKKOS_RESTRICT s,
                                              int n) {
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
  for (int i = 0; i < n; ++i) rotate_pair(c[i], s[i], a1[i], a2[i], y1[i], y2[i]);
}

template <class Acc, class T>
KOKKOS_FORCEINLINE_FUNCTION void rotate_interleaved_in_place(T* KOKKOS_RESTRICT x,
                                                             const Acc* KOKKOS_RESTRICT c,
                                                             const Acc* KOKKOS_RESTRICT s, int n) {
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
  for (int i = 0; i < n; ++i) rotate_pair(c[i], s[i], x[2 * i], x[2 * i + 1], x[2 * i], x[2 * i + 1]);
}

template <class Acc, class T>
KOKKOS_FORCEINLINE_FUNCTION void rotate_interleaved(const T* KOKKOS_RESTRICT a, T* KOKKOS_RESTRICT y,
                                                    const Acc* KOKKOS_RESTRICT c,
                                                    const Acc* KOKKOS_RESTRICT s, int n) {
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
  for (int i = 0; i < n; ++i) rotate_pair(c[i], s[i], a[2 * i], a[2 * i + 1], y[2 * i], y[2 * i + 1]);
}

/// The host-rows path: pairs [first, first + count) of one head row with unit stride. `c` and `s`
/// point at pair `first`'s cos and sin. `in == out` is the in-place case (restrict pointers must
/// not alias); otherwise the rows must not overlap, which the out-of-place entry points require
/// anyway.
template <PairStyle Style, class Acc, class T>
KOKKOS_FORCEINLINE_FUNCTION void rotate_row_pairs(const T* in, T* out, const Acc* c, const Acc* s, int half,
                                                  int first, int count) {
  if constexpr (Style == PairStyle::half_split) {
    if (in == out)
      rotate_split_in_place(out + first, out + half + first, c, s, count);
    else
      rotate_split(in + first, in + half + first, out + first, out + half + first, c, s, count);
  } else {
    if (in == out)
      rotate_interleaved_in_place(out + 2 * first, c, s, count);
    else
      rotate_interleaved(in + 2 * first, out + 2 * first, c, s, count);
  }
}

/// rotate_row_pairs on `heads` head rows of one token: row h at in + h step_in and out + h step_out.
/// bfloat16 rows take the AVX512-BF16 loops where the build targets them (cos/sin loaded once
/// for every head); streaming (rows written once and not read back, as a KV cache's) lets them
/// store with streaming stores where the rows are aligned for them.
template <PairStyle Style, class Acc, class T>
KOKKOS_FORCEINLINE_FUNCTION void rotate_head_rows(const T* in, T* out, std::int64_t step_in, std::int64_t step_out,
                                                  int heads, const Acc* c, const Acc* s, int half, int first,
                                                  int count, [[maybe_unused]] bool streaming = false) {
#if defined(KOKKOSROPE_IMPL_HOST_AVX512BF16)
  if constexpr (std::is_same_v<T, bfloat16> && std::is_same_v<Acc, float>) {
    const int offset = Style == PairStyle::half_split ? first : 2 * first;
    const auto bytes = static_cast<std::int64_t>(sizeof(T));
    if (streaming && HostSimd::streamable(out + offset, step_out * bytes, half * bytes))
      HostSimd::rows<Style, true>(in + offset, out + offset, step_in, step_out, heads, half, c, s, count);
    else
      HostSimd::rows<Style, false>(in + offset, out + offset, step_in, step_out, heads, half, c, s, count);
    return;
  }
#endif
  for (int h = 0; h < heads; ++h, in += step_in, out += step_out)
    rotate_row_pairs<Style>(in, out, c, s, half, first, count);
}

/// N consecutive elements moved by one access: 16 bytes (or 8) aligned to their size, the unit
/// of the vector path (a GPU lane then issues one 128-bit load instead of eight 16-bit ones).
template <class T, int N>
struct alignas(sizeof(T) * N) Pack {
  T v[N];
};

/// Elements per 16-byte access.
template <class T>
inline constexpr int pack_width_v = 16 / static_cast<int>(sizeof(T)) > 0 ? 16 / static_cast<int>(sizeof(T))
                                                                         : 1;

template <int N, class T>
KOKKOS_FORCEINLINE_FUNCTION Pack<std::remove_const_t<T>, N> load_pack(T* p) {
  return *reinterpret_cast<const Pack<std::remove_const_t<T>, N>*>(p);
}

template <int N, class T>
KOKKOS_FORCEINLINE_FUNCTION void store_pack(T* p, const Pack<T, N>& x) {
  *reinterpret_cast<Pack<T, N>*>(p) = x;
}

}  // namespace KokkosRope::Impl

#endif
