// SPDX-License-Identifier: Apache-2.0
// Element access per tensor order (Layouts.hpp): one token's coordinates, the extents of q and k.
#ifndef KOKKOSROPE_IMPL_TENSORACCESS_HPP
#define KOKKOSROPE_IMPL_TENSORACCESS_HPP

#include <KokkosRope/Layouts.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>

#include <cstdint>
#include <type_traits>

namespace KokkosRope::Impl {

/// Where a token sits: sequence b, index s within it, flat token t.
struct TokenCoord {
  std::int64_t b, s, t;
};

template <class Layout>
struct Access;

template <>
struct Access<BSHD> {
  template <class V>
  KOKKOS_FORCEINLINE_FUNCTION static decltype(auto) at(const V& v, const TokenCoord& c, int h, int d) {
    return v(c.b, c.s, h, d);
  }
  template <class V>
  static std::int64_t batch(const V& v) {
    return v.extent(0);
  }
  template <class V>
  static std::int64_t seq(const V& v) {
    return v.extent(1);
  }
  template <class V>
  static int heads(const V& v) {
    return static_cast<int>(v.extent(2));
  }
  template <class V>
  KOKKOS_FORCEINLINE_FUNCTION static std::int64_t head_stride(const V& v) {
    return static_cast<std::int64_t>(v.stride(2));
  }
  template <class V>
  static int dim(const V& v) {
    return static_cast<int>(v.extent(3));
  }
};

template <>
struct Access<BHSD> {
  template <class V>
  KOKKOS_FORCEINLINE_FUNCTION static decltype(auto) at(const V& v, const TokenCoord& c, int h, int d) {
    return v(c.b, h, c.s, d);
  }
  template <class V>
  static std::int64_t batch(const V& v) {
    return v.extent(0);
  }
  template <class V>
  static std::int64_t seq(const V& v) {
    return v.extent(2);
  }
  template <class V>
  static int heads(const V& v) {
    return static_cast<int>(v.extent(1));
  }
  template <class V>
  KOKKOS_FORCEINLINE_FUNCTION static std::int64_t head_stride(const V& v) {
    return static_cast<std::int64_t>(v.stride(1));
  }
  template <class V>
  static int dim(const V& v) {
    return static_cast<int>(v.extent(3));
  }
};

struct PackedAccess {
  template <class V>
  KOKKOS_FORCEINLINE_FUNCTION static decltype(auto) at(const V& v, const TokenCoord& c, int h, int d) {
    return v(c.t, h, d);
  }
  template <class V>
  static std::int64_t tokens(const V& v) {
    return v.extent(0);
  }
  template <class V>
  static int heads(const V& v) {
    return static_cast<int>(v.extent(1));
  }
  template <class V>
  KOKKOS_FORCEINLINE_FUNCTION static std::int64_t head_stride(const V& v) {
    return static_cast<std::int64_t>(v.stride(1));
  }
  template <class V>
  static int dim(const V& v) {
    return static_cast<int>(v.extent(2));
  }
};
template <class Cu>
struct Access<Packed<Cu>> : PackedAccess {};

template <class T>
inline constexpr bool is_layout_v = std::is_same_v<T, BSHD> || std::is_same_v<T, BHSD>;
template <class C>
inline constexpr bool is_layout_v<Packed<C>> = true;

/// Tokens of a tensor: B*S for grid layouts, T for packed ones.
template <class Layout, class View>
std::int64_t num_tokens(const View& v) {
  if constexpr (Layout::rank == 4)
    return Access<Layout>::batch(v) * Access<Layout>::seq(v);
  else
    return Access<Layout>::tokens(v);
}

}  // namespace KokkosRope::Impl

#endif
