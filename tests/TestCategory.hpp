// SPDX-License-Identifier: Apache-2.0
// Every test body is written once and instantiated for each execution space the build enables
// (the Kokkos Kernels "category" idea as GoogleTest typed tests; ArborX derives its device list
// from the enabled backends the same way). CTest names carry the space's type, e.g.
// Rotate.HalfSplit<Kokkos::OpenMP>; a CUDA + OpenMP + Serial build runs
// Rotate.HalfSplit<Kokkos::Cuda>, Rotate.HalfSplit<Kokkos::OpenMP> and
// Rotate.HalfSplit<Kokkos::Serial> (GoogleTest's Rotate/0, /1, /2).
#ifndef KOKKOSROPE_TEST_CATEGORY_HPP
#define KOKKOSROPE_TEST_CATEGORY_HPP

#include <Kokkos_Core.hpp>
#include <gtest/gtest.h>

#include <string>
#include <type_traits>
#include <vector>

namespace KokkosRopeTest {

namespace Impl {

template <class... Spaces>
struct SpaceList {};

/// A backend the build does not enable: dropped from the list.
struct Absent {};

#if defined(KOKKOS_ENABLE_OPENMP)
using MaybeOpenMP = Kokkos::OpenMP;
#else
using MaybeOpenMP = Absent;
#endif
#if defined(KOKKOS_ENABLE_THREADS)
using MaybeThreads = Kokkos::Threads;
#else
using MaybeThreads = Absent;
#endif
#if defined(KOKKOS_ENABLE_SERIAL)
using MaybeSerial = Kokkos::Serial;
#else
using MaybeSerial = Absent;
#endif

/// `Done` with each of `Rest` appended unless it is Absent or already there.
template <class Done, class... Rest>
struct Unique {
  using type = Done;
};
template <class... Done, class First, class... Rest>
struct Unique<SpaceList<Done...>, First, Rest...>
    : Unique<std::conditional_t<std::is_same_v<First, Absent> || (std::is_same_v<First, Done> || ...),
                                SpaceList<Done...>, SpaceList<Done..., First>>,
             Rest...> {};

template <class List>
struct ToGTest;
template <class... Spaces>
struct ToGTest<SpaceList<Spaces...>> {
  using type = ::testing::Types<Spaces...>;
  static std::vector<std::string> names() { return {std::string(Spaces::name())...}; }
};

/// The default space first (the device in a Cuda / HIP / SYCL build), then every enabled host
/// backend among OpenMP, Threads and Serial, each once.
using Enabled =
    typename Unique<SpaceList<>, Kokkos::DefaultExecutionSpace, MaybeOpenMP, MaybeThreads, MaybeSerial>::type;

}  // namespace Impl

/// Every execution space the Kokkos build enables among Cuda / HIP / SYCL (the default device),
/// OpenMP, Threads and Serial, each once: the typed tests run on all of them.
using ExecutionSpaces = typename Impl::ToGTest<Impl::Enabled>::type;

/// The names of ExecutionSpaces, in order (what the test names carry), e.g. {"Cuda", "OpenMP"}.
inline std::vector<std::string> execution_space_names() { return Impl::ToGTest<Impl::Enabled>::names(); }

}  // namespace KokkosRopeTest

// GoogleTest's own names (Suite/0, Suite/1, ... with "# TypeParam = Kokkos::OpenMP"): CTest's test
// discovery turns them into Suite.Test<Kokkos::OpenMP>; names of our own would garble them.
#define KOKKOSROPE_TYPED_TEST_SUITE(Suite) TYPED_TEST_SUITE(Suite, ::KokkosRopeTest::ExecutionSpaces)

#endif
