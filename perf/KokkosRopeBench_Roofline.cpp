// SPDX-License-Identifier: Apache-2.0
// The copy kernel (roofline) of kokkos-rope-bench.
#include "KokkosRopeBench_Roofline.hpp"

#include <chrono>

namespace KokkosRopeBench {

namespace {
struct CopyKernel {
  Kokkos::View<const std::uint64_t*, Mem> src;
  Kokkos::View<std::uint64_t*, Mem> dst;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t i) const { dst(i) = src(i); }
};
}  // namespace

CopyInstance::CopyInstance(std::int64_t bytes) {
  const std::int64_t n = (bytes + 7) / 8;
  src =
      decltype(src)(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "KokkosRope::bench::copy_src"), n);
  dst =
      decltype(dst)(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "KokkosRope::bench::copy_dst"), n);
  auto s = src;  // device lambdas capture Views, never `this`
  auto d = dst;
  Kokkos::parallel_for(
      "KokkosRope::bench::fill", Range(space, 0, n), KOKKOS_LAMBDA(std::int64_t i) {
        s(i) = KokkosRopeTesting::fill_bits(static_cast<std::uint64_t>(i), 0);
        d(i) = 0;
      });
  space.fence("KokkosRope::bench::copy_setup");
}

void CopyInstance::run() {
  Kokkos::parallel_for("KokkosRope::bench::copy", Range(space, 0, src.extent(0)), CopyKernel{src, dst});
  space.fence("KokkosRope::bench::copy");
}

bool CopyInstance::check() {
  std::int64_t bad = 0;
  auto s = src;
  auto d = dst;
  Kokkos::parallel_reduce(
      "KokkosRope::bench::copy_check", Range(space, 0, s.extent(0)),
      KOKKOS_LAMBDA(std::int64_t i, std::int64_t & b) { b += s(i) != d(i) ? 1 : 0; }, bad);
  return bad == 0;
}

double copy_gbps(std::int64_t tensor_bytes) {
  auto it = copy_gbps_by_bytes.find(tensor_bytes);
  if (it != copy_gbps_by_bytes.end()) return it->second;
  CopyInstance c(tensor_bytes);
  c.run();
  double total = 0;
  std::vector<double> times;
  while (times.size() < 5 || total < settings.min_time) {
    const auto t0 = std::chrono::steady_clock::now();
    c.run();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    total += times.back();
  }
  const double g = 2.0 * static_cast<double>(tensor_bytes) / median(times) / 1e9;
  copy_gbps_by_bytes[tensor_bytes] = g;
  return g;
}

}  // namespace KokkosRopeBench
