// SPDX-License-Identifier: Apache-2.0
/// \file KokkosRopeTesting_Fill.hpp
/// Deterministic pseudo-random data: element i of a View's span in [-1, 1), a function of i and a
/// seed alone (splitmix-style hash), so every run, thread count and backend sees the same inputs.
#ifndef KOKKOSROPE_TESTS_COMMON_KOKKOSROPETESTING_FILL_HPP
#define KOKKOSROPE_TESTS_COMMON_KOKKOSROPETESTING_FILL_HPP

#include <Kokkos_Core.hpp>

#include <cstddef>
#include <cstdint>
#include <vector>

namespace KokkosRopeTesting {

/// The 64 hash bits of element `i` of stream `seed` (also a source of reproducible integers).
KOKKOS_INLINE_FUNCTION std::uint64_t fill_bits(std::uint64_t i, std::uint64_t seed) {
  const std::uint64_t z = (i + seed) * 0x9e3779b97f4a7c15ull;
  return (z ^ (z >> 31)) * 0xbf58476d1ce4e5b9ull;
}

/// The value of element `i` of stream `seed`: uniform in [-1, 1), 53 bits of the hash, as float.
KOKKOS_INLINE_FUNCTION float fill_value(std::uint64_t i, std::uint64_t seed) {
  return static_cast<float>(static_cast<double>(fill_bits(i, seed) >> 11) * 0x1.0p-52 - 1.0);
}

/// The first n values of stream `seed` on the host, converted to T (host-side test data).
template <class T>
std::vector<T> fill_values(std::size_t n, std::uint64_t seed) {
  std::vector<T> v(n);
  for (std::size_t i = 0; i < n; ++i) v[i] = static_cast<T>(fill_value(i, seed));
  return v;
}

/// Writes fill_value(i, seed) to element i of `flat`, converted to its value type.
template <class Flat>
struct FillFunctor {
  Flat flat;
  std::uint64_t seed;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    flat(i) = typename Flat::value_type(fill_value(static_cast<std::uint64_t>(i), seed));
  }
};

/// Fills the whole span of `v` (padding of strided Views included) on the instance `space`; no
/// fence, as any other kernel launched on the instance.
template <class ExecSpace, class View>
void fill(const ExecSpace& space, const View& v, std::uint64_t seed) {
  using T = typename View::non_const_value_type;
  using Flat = Kokkos::View<T*, typename View::memory_space, Kokkos::MemoryUnmanaged>;
  Kokkos::parallel_for("KokkosRopeTesting::fill",
                       Kokkos::RangePolicy<ExecSpace, Kokkos::IndexType<std::int64_t>>(space, 0, v.span()),
                       FillFunctor<Flat>{Flat(v.data(), v.span()), seed});
}

}  // namespace KokkosRopeTesting

#endif
