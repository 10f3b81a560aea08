// SPDX-License-Identifier: Apache-2.0
// Rotates a small Llama 3 query tensor through the installed package and checks one value.
#include <KokkosRope.hpp>

#include <cmath>
#include <cstdio>

int main(int argc, char* argv[]) {
  Kokkos::ScopeGuard guard(argc, argv);
  using Space = Kokkos::DefaultExecutionSpace;
  KokkosRope::Params p;
  p.head_dim = p.rotary_dim = 64;
  p.theta = 500000.0;
  p.max_position_embeddings = 131072;
  p.scaling = KokkosRope::Llama3Scaling{};
  const Space space;
  KokkosRope::Table<Space::memory_space> table(space, p, 16);
  Kokkos::View<float****, Space::memory_space> q("q", 1, 16, 2, 64);
  Kokkos::deep_copy(space, q, 1.0f);
  KokkosRope::rotate(space, KokkosRope::bshd, q, table);
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), q);
  // Position 5, pair 0 (frequency 1): x1' = cos(5) - sin(5).
  const double expected = std::cos(5.0) - std::sin(5.0);
  const double got = h(0, 5, 1, 0);
  std::printf("KokkosRope %s on %s: q[0,5,1,0] = %.7f (expected %.7f)\n", KOKKOSROPE_VERSION_STRING,
              Space::name(), got, expected);
  return std::fabs(got - expected) < 1e-5 ? 0 : 1;
}
