// SPDX-License-Identifier: Apache-2.0
// CUDA compile check, compile-time contract (scripts/cuda-compile-check.sh --expect-failure runs
// it): on a unified-memory build the host can reach Kokkos::Cuda's memory, and a rotation on Cuda
// must still take the device's kernel paths and validation, which KokkosRope decides from the
// execution space itself.
#define KOKKOS_ENABLE_IMPL_CUDA_UNIFIED_MEMORY
#include <KokkosRope.hpp>

static_assert(Kokkos::SpaceAccessibility<Kokkos::HostSpace, Kokkos::Cuda::memory_space>::accessible,
              "this unit must model a unified-memory build (the host reaches Cuda's memory)");
static_assert(!KokkosRope::Impl::is_host_execution_space_v<Kokkos::Cuda>,
              "KokkosRope::Impl: Kokkos::Cuda is a device execution space, unified memory or not");
static_assert(KokkosRope::Impl::is_host_execution_space_v<Kokkos::DefaultHostExecutionSpace>);

void kokkosrope_cuda_unified(const Kokkos::Cuda& space,
                             const Kokkos::View<float***, Kokkos::LayoutRight, Kokkos::CudaSpace>& q,
                             const KokkosRope::Table<Kokkos::CudaSpace, float>& table) {
  KokkosRope::rotate(space, KokkosRope::packed(), q, table);
}
