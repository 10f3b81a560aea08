// SPDX-License-Identifier: Apache-2.0
// Reads the cos/sin a rotation applies at given positions: half-split unit vectors
// (x_i, x_{i+half}) = (1, 0) rotate to (cos, sin), through the real kernel on the real backend.
#ifndef KOKKOSROPE_TEST_KERNELPROBE_HPP
#define KOKKOSROPE_TEST_KERNELPROBE_HPP

#include <KokkosRope.hpp>

#include <cstdint>
#include <vector>

namespace KokkosRopeTest {

template <class Real>
struct ProbedCosSin {
  std::vector<std::vector<Real>> cos, sin;  // [position][pair]
};

template <class Real = float, class Space, class Source>
ProbedCosSin<Real> probe_cos_sin(const Space& space, const Source& source, const std::vector<std::int64_t>& positions) {
  using Memory = typename Space::memory_space;
  const int pairs = source.rotary_dim() / 2;
  const int n = static_cast<int>(positions.size());
  Kokkos::View<Real***, Memory> x("probe_x", n, 1, 2 * pairs);
  Kokkos::View<std::int64_t*, Memory> pos("probe_pos", n);
  auto hx = Kokkos::create_mirror_view(x);
  auto hpos = Kokkos::create_mirror_view(pos);
  for (int t = 0; t < n; ++t) {
    hpos(t) = positions[t];
    for (int i = 0; i < pairs; ++i) hx(t, 0, i) = Real(1);
  }
  Kokkos::deep_copy(space, x, hx);
  Kokkos::deep_copy(space, pos, hpos);
  KokkosRope::rotate(space, KokkosRope::packed(), x, source, KokkosRope::token_positions(pos));
  Kokkos::deep_copy(space, hx, x);
  space.fence();
  ProbedCosSin<Real> out;
  for (int t = 0; t < n; ++t) {
    out.cos.emplace_back(pairs);
    out.sin.emplace_back(pairs);
    for (int i = 0; i < pairs; ++i) {
      out.cos[t][i] = hx(t, 0, i);
      out.sin[t][i] = hx(t, 0, pairs + i);
    }
  }
  return out;
}

}  // namespace KokkosRopeTest

#endif
