// SPDX-License-Identifier: Apache-2.0
// HIP compile check, negative control (scripts/hip-compile-check.sh --expect-failure): a
// KokkosRope-style kernel (a functor template, as RotateKernel is) that calls a host-only function.
// hipcc (clang) defers the diagnostic until the __host__ __device__ operator() is emitted for the
// device, i.e. until the kernel is instantiated and launched: this unit proves that the check
// compiles the device side of instantiated kernels, where such a call is an error. Compiled with
// -DKR_FIXED the helper carries the device annotation and the unit must compile: the failure is
// then known to come from the host-only call and nothing else.
#include <KokkosRope/Blocks.hpp>

#include <cstdint>

using Exec = Kokkos::HIP;
using Mem = Kokkos::HIPSpace;

#ifdef KR_FIXED
KOKKOS_INLINE_FUNCTION
#else
inline  // host only: the defect under test
#endif
float attention_scale(float x) {
  return 0.5f * x;
}

template <class XView, class CosView>
struct ScaledRotate {
  XView m_x;
  CosView m_cos, m_sin;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t t) const {
    auto x = Kokkos::subview(m_x, t, Kokkos::ALL);
    KokkosRope::SerialRotate<KokkosRope::HalfSplit>::invoke(x, Kokkos::subview(m_cos, t, Kokkos::ALL),
                                                            Kokkos::subview(m_sin, t, Kokkos::ALL));
    for (std::size_t d = 0; d < x.extent(0); ++d) x(d) = attention_scale(x(d));
  }
};

void kokkosrope_hip_broken_kernel(const Exec& space, const Kokkos::View<float**, Kokkos::LayoutRight, Mem>& x,
                                  const Kokkos::View<const float**, Kokkos::LayoutRight, Mem>& cos,
                                  const Kokkos::View<const float**, Kokkos::LayoutRight, Mem>& sin) {
  using Functor = ScaledRotate<Kokkos::View<float**, Kokkos::LayoutRight, Mem>,
                               Kokkos::View<const float**, Kokkos::LayoutRight, Mem>>;
  Kokkos::parallel_for("KokkosRope::hip_compile::broken",
                       Kokkos::RangePolicy<Exec, Kokkos::IndexType<std::int64_t>>(space, 0, x.extent(0)),
                       Functor{x, cos, sin});
}
