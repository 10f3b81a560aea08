// SPDX-License-Identifier: Apache-2.0
// CUDA compile check, negative control (scripts/cuda-compile-check.sh --expect-failure): a cos/sin
// table in host memory handed to a rotation on Kokkos::Cuda. Without a check it compiles and the
// kernel faults on the first read; it must fail to compile with KokkosRope's message instead.
// With -DKR_FIXED the table lives in CudaSpace and the unit must compile.
#include <KokkosRope.hpp>

using Exec = Kokkos::Cuda;
#ifdef KR_FIXED
using TableSpace = Kokkos::CudaSpace;
#else
using TableSpace = Kokkos::HostSpace;  // the defect under test
#endif

void kokkosrope_cuda_host_source(const Exec& space,
                                 const Kokkos::View<float***, Kokkos::LayoutRight, Kokkos::CudaSpace>& q,
                                 const KokkosRope::Table<TableSpace, float>& table) {
  KokkosRope::rotate(space, KokkosRope::packed(), q, table);
}
