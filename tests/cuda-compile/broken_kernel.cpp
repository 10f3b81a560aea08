// SPDX-License-Identifier: Apache-2.0
// Device compile checks, negative control (scripts/cuda-compile-check.sh and
// scripts/hip-compile-check.sh, --expect-failure): a KokkosRope-style kernel (a functor template,
// as RotateKernel is) on the default (device) execution space that calls a host-only function.
// nvcc alone only warns about it (#20014-D) and builds an object, so the CUDA check's flags must
// turn that into an error; hipcc (clang) reports it only when the device side of the instantiated
// kernel is emitted, which proves the HIP check compiles that side. Compiled with -DKR_FIXED the
// helper carries the device annotation and the unit must compile: the failure is then known to
// come from the host-only call and nothing else.
#include <KokkosRope/Blocks.hpp>

#include <cstdint>
#include <type_traits>

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;
static_assert(!std::is_same_v<Exec, Kokkos::DefaultHostExecutionSpace>, "compiled for a device backend only");

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

void kokkosrope_device_broken_kernel(const Exec& space,
                                     const Kokkos::View<float**, Kokkos::LayoutRight, Mem>& x,
                                     const Kokkos::View<const float**, Kokkos::LayoutRight, Mem>& cos,
                                     const Kokkos::View<const float**, Kokkos::LayoutRight, Mem>& sin) {
  using Functor = ScaledRotate<Kokkos::View<float**, Kokkos::LayoutRight, Mem>,
                               Kokkos::View<const float**, Kokkos::LayoutRight, Mem>>;
  Kokkos::parallel_for("KokkosRope::device_compile::broken",
                       Kokkos::RangePolicy<Exec, Kokkos::IndexType<std::int64_t>>(space, 0, x.extent(0)),
                       Functor{x, cos, sin});
}
