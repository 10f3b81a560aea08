// SPDX-License-Identifier: Apache-2.0
// CUDA compile check, negative control of the target sources check (scripts/cuda-compile-check.sh
// --expect-failure): an extended __host__ __device__ lambda (KOKKOS_LAMBDA) defined inside a class
// constructor, the defect that once broke a real CUDA build of perf/KokkosRope_Bench.cpp (a fixture
// that filled its views in its constructor). nvcc refuses extended lambdas whose enclosing function
// is a constructor, so the check's compile mode must reject this unit. Compiled with -DKR_FIXED the
// same kernel is launched from a public member function, which nvcc accepts: the failure is then
// known to come from the constructor and nothing else.
#include <Kokkos_Core.hpp>

#include <cstdint>
#include <type_traits>

using Exec = Kokkos::DefaultExecutionSpace;
static_assert(!std::is_same_v<Exec, Kokkos::DefaultHostExecutionSpace>, "compiled for a device backend only");

class Fixture {
 public:
  explicit Fixture(std::int64_t n) : m_x("x", n) {
#ifdef KR_FIXED
    fill();
#else
    auto x = m_x;  // the defect under test: the lambda's enclosing function is the constructor
    Kokkos::parallel_for(
        "KokkosRope::device_compile::lambda_in_constructor",
        Kokkos::RangePolicy<Exec, Kokkos::IndexType<std::int64_t>>(0, n),
        KOKKOS_LAMBDA(std::int64_t i) { x(i) = 0.5f * static_cast<float>(i); });
#endif
  }
  void fill() const {
    auto x = m_x;
    Kokkos::parallel_for(
        "KokkosRope::device_compile::lambda_in_member",
        Kokkos::RangePolicy<Exec, Kokkos::IndexType<std::int64_t>>(0, x.extent(0)),
        KOKKOS_LAMBDA(std::int64_t i) { x(i) = 0.5f * static_cast<float>(i); });
  }
  Kokkos::View<float*, Exec::memory_space> m_x;
};

float kokkosrope_device_lambda_in_constructor(std::int64_t n) {
  Fixture f(n);
  float v = 0;
  Kokkos::deep_copy(v, Kokkos::subview(f.m_x, 0));
  return v;
}
