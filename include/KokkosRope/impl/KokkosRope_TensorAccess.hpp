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

/// The View a kernel reads a tensor through: the caller's elements (Value: the element type,
/// const for inputs), unmanaged, with any strides, its extents in the kernels' order. Every
/// Kokkos layout and both grid orders reach the kernels as this one type, so a kernel is
/// compiled once per element type, not once per View type the caller happens to hold.
template <class Value, class View>
using kernel_view_t = Kokkos::View<std::conditional_t<View::rank() == 4, Value****, Value***>, Kokkos::LayoutStride,
                                   typename View::memory_space, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

/// Per tensor order: where a token's head rows are, and the View a kernel reads (kernel_view).
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
  template <class Value, class V>
  static kernel_view_t<Value, V> kernel_view(const V& v) {
    return kernel_view_t<Value, V>(v.data(), Kokkos::LayoutStride(v.extent(0), v.stride(0), v.extent(1), v.stride(1),
                                                                  v.extent(2), v.stride(2), v.extent(3), v.stride(3)));
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
  /// In the kernels' [batch, seq, heads, dim] order: extents 1 and 2 swap, with their strides.
  template <class Value, class V>
  static kernel_view_t<Value, V> kernel_view(const V& v) {
    return kernel_view_t<Value, V>(v.data(), Kokkos::LayoutStride(v.extent(0), v.stride(0), v.extent(2), v.stride(2),
                                                                  v.extent(1), v.stride(1), v.extent(3), v.stride(3)));
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
  template <class Value, class V>
  static kernel_view_t<Value, V> kernel_view(const V& v) {
    return kernel_view_t<Value, V>(v.data(),
                                   Kokkos::LayoutStride(v.extent(0), v.stride(0), v.extent(1), v.stride(1), v.extent(2), v.stride(2)));
  }
};
template <class Cu>
struct Access<Packed<Cu>> : PackedAccess {};

template <class T>
inline constexpr bool is_layout_v = std::is_same_v<T, BSHD> || std::is_same_v<T, BHSD>;
template <class C>
inline constexpr bool is_layout_v<Packed<C>> = true;

/// The order a kernel indexes: bhsd tensors reach it as bshd Views (kernel_view swaps the
/// extents), so kernels know the grid order and the packed ones.
template <class Layout>
struct KernelOrder {
  using type = Layout;
  static const Layout& of(const Layout& layout) { return layout; }
};
template <>
struct KernelOrder<BHSD> {
  using type = BSHD;
  static BSHD of(const BHSD&) { return {}; }
};

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
