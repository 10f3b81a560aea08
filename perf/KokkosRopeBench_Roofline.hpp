// SPDX-License-Identifier: Apache-2.0
/// \file KokkosRopeBench_Roofline.hpp
/// The roofline of every variant: a copy kernel moving the same bytes on the same execution space.
#ifndef KOKKOSROPE_PERF_KOKKOSROPEBENCH_ROOFLINE_HPP
#define KOKKOSROPE_PERF_KOKKOSROPEBENCH_ROOFLINE_HPP

#include "KokkosRopeBench_Context.hpp"

namespace KokkosRopeBench {

/// Copies `bytes` (rounded up to 8-byte words) from one buffer to another; check() compares them.
struct CopyInstance : Instance {
  Exec space;
  Kokkos::View<std::uint64_t*, Mem> src, dst;
  explicit CopyInstance(std::int64_t bytes);
  void run() override;
  bool check();
  std::vector<double> result_q() override { return {}; }
  std::vector<double> result_k() override { return {}; }
};

/// GB/s of the copy kernel moving `tensor_bytes` (read) + `tensor_bytes` (written): taken from the
/// copy benchmark of the same shape when it ran earlier in this process, else measured here.
double copy_gbps(std::int64_t tensor_bytes);

}  // namespace KokkosRopeBench

#endif
