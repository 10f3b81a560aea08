// SPDX-License-Identifier: Apache-2.0
// Runs a fixed set of rotations (every value type, grid and packed layouts, both pair styles,
// tables and on-the-fly evaluation, forward and backward, partial rotary, GQA) twice and prints
// one hash of all outputs. Exits 1 when the two runs differ or nothing was rotated.
// determinism.cmake compares the hash across thread counts.
#include <KokkosRope.hpp>

#include <KokkosRopeTesting_Fill.hpp>
#include <KokkosRopeTesting_Models.hpp>

#include <cstdint>
#include <cstdio>
#include <vector>

namespace {

using Space = Kokkos::DefaultExecutionSpace;
using Memory = Space::memory_space;

std::uint64_t fnv1a(std::uint64_t h, const void* data, std::size_t bytes) {
  const auto* p = static_cast<const unsigned char*>(data);
  for (std::size_t i = 0; i < bytes; ++i) h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

template <class View>
std::uint64_t hash_view(std::uint64_t h, const View& v) {
  auto host = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, v);
  return fnv1a(h, host.data(), host.span() * sizeof(typename View::value_type));
}

template <class View>
void fill(const View& v, std::uint64_t seed) {
  KokkosRopeTesting::fill(Space(), v, seed);
}

KokkosRope::Params llama(KokkosRope::PairStyle pair, int rotary_dim) {
  KokkosRope::Params p = KokkosRopeTesting::llama31(pair);
  p.rotary_dim = rotary_dim;
  return p;
}

template <class T>
std::uint64_t run_grid(std::uint64_t h, KokkosRope::PairStyle pair, bool on_the_fly, KokkosRope::Direction dir) {
  const Space space;
  Kokkos::View<T****, Memory> q("q", 3, 257, 8, 128), k("k", 3, 257, 2, 128);
  fill(q, 1);
  fill(k, 2);
  Kokkos::View<std::int64_t*, Memory> offsets("offsets", 3);
  Kokkos::deep_copy(offsets, 40000);  // KV-cache decode-style offsets, past 2^15
  const auto params = llama(pair, 96);
  KokkosRope::RotateOptions opts;
  opts.direction = dir;
  if (on_the_fly) {
    KokkosRope::OnTheFly<Memory> src(space, params);
    KokkosRope::rotate(space, KokkosRope::bshd, q, k, src, KokkosRope::sequence_offsets(offsets), opts);
  } else {
    KokkosRope::Table<Memory, KokkosRope::Impl::compute_t<T>> src(space, params, 41000);
    KokkosRope::rotate(space, KokkosRope::bshd, q, k, src, KokkosRope::sequence_offsets(offsets), opts);
  }
  space.fence();
  return hash_view(hash_view(h, q), k);
}

template <class T>
std::uint64_t run_packed(std::uint64_t h, KokkosRope::PairStyle pair) {
  const Space space;
  const std::vector<std::int64_t> cu_host{0, 100, 101, 700, 1500};
  Kokkos::View<std::int64_t*, Memory> cu("cu", cu_host.size());
  Kokkos::deep_copy(cu, Kokkos::View<const std::int64_t*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(
                            cu_host.data(), cu_host.size()));
  Kokkos::View<const T***, Memory> q_in = [&] {
    Kokkos::View<T***, Memory> v("q_in", 1500, 4, 128);
    fill(v, 3);
    return v;
  }();
  Kokkos::View<T***, Memory> q_out("q_out", 1500, 4, 128), k("k", 1500, 1, 128);
  fill(k, 4);
  KokkosRope::Table<Memory, KokkosRope::Impl::compute_t<T>> table(space, llama(pair, 128), 1024);
  KokkosRope::rotate_copy(space, KokkosRope::packed(cu), q_in, q_out, table);
  KokkosRope::rotate(space, KokkosRope::packed(cu), k, table);
  space.fence();
  return hash_view(hash_view(h, q_out), k);
}

std::uint64_t run_all() {
  using KokkosRope::Direction;
  using KokkosRope::PairStyle;
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (auto pair : {PairStyle::half_split, PairStyle::interleaved}) {
    h = run_grid<float>(h, pair, false, Direction::forward);
    h = run_grid<float>(h, pair, true, Direction::backward);
    h = run_grid<double>(h, pair, false, Direction::forward);
    h = run_grid<KokkosRope::bfloat16>(h, pair, false, Direction::forward);
    h = run_grid<Kokkos::Experimental::half_t>(h, pair, true, Direction::forward);
    h = run_packed<KokkosRope::bfloat16>(h, pair);
    h = run_packed<float>(h, pair);
  }
  return h;
}

// The hash of the inputs alone: proves the outputs above differ from them (something rotated).
std::uint64_t inputs_only() {
  Kokkos::View<float****, Memory> q("q", 3, 257, 8, 128), k("k", 3, 257, 2, 128);
  fill(q, 1);
  fill(k, 2);
  return hash_view(hash_view(0xcbf29ce484222325ull, q), k);
}

}  // namespace

int main(int argc, char* argv[]) {
  Kokkos::ScopeGuard guard(argc, argv);
  const std::uint64_t first = run_all();
  const std::uint64_t second = run_all();
  std::printf("execution space %s, threads %d\n", Space::name(), Space().concurrency());
  std::printf("output hash %016llx\n", static_cast<unsigned long long>(first));
  if (first != second) {
    std::printf("FAILED: a repeated run gave %016llx\n", static_cast<unsigned long long>(second));
    return 1;
  }
  const std::uint64_t input = inputs_only();
  if (run_grid<float>(0xcbf29ce484222325ull, KokkosRope::PairStyle::half_split, false,
                      KokkosRope::Direction::forward) == input) {
    std::printf("FAILED: the rotation left its input unchanged\n");
    return 1;
  }
  return 0;
}
