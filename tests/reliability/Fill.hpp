// SPDX-License-Identifier: Apache-2.0
// Deterministic pseudo-random test data: element i of a View's span in [-1, 1), a function of i
// and a seed alone (splitmix-style hash), so every run and thread count sees the same inputs.
#ifndef KOKKOSROPE_TEST_RELIABILITY_FILL_HPP
#define KOKKOSROPE_TEST_RELIABILITY_FILL_HPP

#include <Kokkos_Core.hpp>

#include <cstdint>

namespace KokkosRopeTest {

template <class View>
void fill(const typename View::execution_space& space, const View& v, std::uint64_t seed) {
  using T = typename View::value_type;
  using Space = typename View::execution_space;
  Kokkos::View<T*, typename View::memory_space, Kokkos::MemoryUnmanaged> flat(v.data(), v.span());
  Kokkos::parallel_for("fill", Kokkos::RangePolicy<Space, Kokkos::IndexType<std::int64_t>>(space, 0, v.span()),
                       KOKKOS_LAMBDA(const std::int64_t i) {
                         std::uint64_t z = (static_cast<std::uint64_t>(i) + seed) * 0x9e3779b97f4a7c15ull;
                         z = (z ^ (z >> 31)) * 0xbf58476d1ce4e5b9ull;
                         flat(i) = T(static_cast<float>(static_cast<double>(z >> 11) * 0x1.0p-52 - 1.0));
                       });
}

}  // namespace KokkosRopeTest

#endif
