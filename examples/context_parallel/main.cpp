// SPDX-License-Identifier: Apache-2.0
// Context parallelism over MPI: a long sequence sharded over the ranks (contiguous and the
// load-balanced dual_chunk layout), each rank rotating q and k of its shard with
// context_parallel(shard), the results gathered to rank 0 and compared bit for bit with one
// single-rank rotation of the whole sequence. Plain (bshd, 2 sequences) and packed (cu_seqlens,
// 5 sequences of different lengths) batches, half-split and interleaved pairs.
//
//   mpirun -np 2 context_parallel [tokens]      default 1048576 (2 q heads, 1 kv head, head_dim 64, float)
//
// The library never calls MPI itself: MPI_Init and the communicator belong to this program; the
// rotation only needs rank, size and the layout. Exit status 1 on any mismatch.
#include <KokkosRope.hpp>
#include <mpi.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
// The sanitizer run (asan preset): Open MPI and PMIx keep allocations from MPI_Init past
// MPI_Finalize, which LeakSanitizer reports as leaks of theirs. Suppressed for their libraries
// only, in this program only; a leak with a frame in KokkosRope or this example still fails.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libmpi.so\nleak:libpmix.so\nleak:libopen-pal.so\nleak:libprrte.so\nleak:libhwloc.so\n";
}
// They are built without frame pointers: ASan's fast unwinder stops at the first frame of theirs
// (a strdup in libc, reported with an unknown caller), where no suppression can match. The slow
// unwinder follows their unwind tables, so their frames, and the suppressions, are seen.
extern "C" const char* __asan_default_options() { return "fast_unwind_on_malloc=0"; }
#endif

namespace {

using Space = Kokkos::DefaultExecutionSpace;
using Memory = Space::memory_space;
// Row-major on every backend (the default layout is LayoutLeft on CUDA): each token is one
// contiguous row, which the MPI gather (whole tokens from h_q.data()), the comparison with the
// reference (memcmp of token ranges) and the bshd view over the same bytes (Grid) rely on.
using Rows = Kokkos::View<float***, Kokkos::LayoutRight, Memory>;  // [tokens, heads, head_dim]

constexpr int q_heads = 2, k_heads = 1, head_dim = 64;

/// Element (global token, head, d) of tensor `salt`: a hash in [-1, 1), the same on every rank,
/// so each rank builds its shard without the global tensor.
struct Fill {
  Rows m_x;
  Kokkos::View<const std::int64_t*, Memory> m_global;  // local token -> global token; empty: identity
  std::uint64_t m_salt;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t t) const {
    const std::uint64_t g = m_global.extent(0) ? static_cast<std::uint64_t>(m_global(t)) : static_cast<std::uint64_t>(t);
    for (int h = 0; h < static_cast<int>(m_x.extent(1)); ++h)
      for (int d = 0; d < static_cast<int>(m_x.extent(2)); ++d) {
        std::uint64_t x = ((g * 131u + h) * 1031u + d) ^ (m_salt * 0x9E3779B97F4A7C15ull);
        x ^= x >> 33, x *= 0xff51afd7ed558ccdull, x ^= x >> 33, x *= 0xc4ceb9fe1a85ec53ull, x ^= x >> 33;
        m_x(t, h, d) = static_cast<float>(static_cast<double>(x >> 40) / 8388608.0 - 1.0);
      }
  }
};

void fill(const Space& space, const Rows& x, const Kokkos::View<const std::int64_t*, Memory>& global, std::uint64_t salt) {
  Kokkos::parallel_for("fill",
                       Kokkos::RangePolicy<Space, Kokkos::IndexType<std::int64_t>>(space, 0, static_cast<std::int64_t>(x.extent(0))),
                       Fill{x, global, salt});
}

template <class T>
Kokkos::View<T*, Memory> upload(const Space& space, const std::vector<T>& host, const char* label) {
  Kokkos::View<T*, Memory> v(std::string(label), host.size());
  Kokkos::deep_copy(space, v, Kokkos::View<const T*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(host.data(), host.size()));
  space.fence();
  return v;
}

/// Rotates q, k ([tokens, heads, dim]) as a plain [batch, tokens / batch, heads, dim] batch
/// (`cu` empty, `batch` sequences) or as a packed batch split by `cu`.
template <class Source, class Positions>
void rotate_batch(const Space& space, bool packed, std::int64_t batch, const std::vector<std::int64_t>& cu,
                  const Rows& q, const Rows& k, const Source& source, const Positions& positions) {
  if (packed) {
    KokkosRope::rotate(space, KokkosRope::packed(upload(space, cu, "cu_seqlens")), q, k, source, positions);
  } else {
    using Grid = Kokkos::View<float****, Kokkos::LayoutRight, Memory, Kokkos::MemoryUnmanaged>;  // same bytes
    const std::int64_t seq = static_cast<std::int64_t>(q.extent(0)) / batch;
    KokkosRope::rotate(space, KokkosRope::bshd, Grid(q.data(), batch, seq, q_heads, head_dim),
                       Grid(k.data(), batch, seq, k_heads, head_dim), source, positions);
  }
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char* argv[]) {
  MPI_Init(&argc, &argv);
  int rank = 0, size = 1;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  int failures = 0;
  {
    Kokkos::ScopeGuard guard(argc, argv);
    const std::int64_t tokens = argc > 1 ? std::atoll(argv[1]) : 1048576;
    const auto start = std::chrono::steady_clock::now();
    try {
      const Space space;
      // Plain batch: 2 sequences of tokens / 2. Packed: 5 sequences of 1/2, 1/4, 1/8, 1/16, 1/16.
      const std::int64_t plain_batch = 2;
      const std::vector<std::int64_t> packed_cu = {0, tokens / 2, tokens / 2 + tokens / 4, tokens - tokens / 8,
                                                   tokens - tokens / 16, tokens};
      if (rank == 0)
        std::printf("context_parallel: %d ranks on %s, %lld tokens, q %d heads, k %d heads, head_dim %d, float\n", size,
                    Space::name(), static_cast<long long>(tokens), q_heads, k_heads, head_dim);
      MPI_Datatype q_row, k_row;  // one token of q / k: counts stay in tokens, far below 2^31
      MPI_Type_contiguous(q_heads * head_dim * static_cast<int>(sizeof(float)), MPI_BYTE, &q_row);
      MPI_Type_contiguous(k_heads * head_dim * static_cast<int>(sizeof(float)), MPI_BYTE, &k_row);
      MPI_Type_commit(&q_row);
      MPI_Type_commit(&k_row);
      std::vector<float> q_all, k_all;  // rank 0: every rank's rotated tokens, in rank order
      if (rank == 0) {
        q_all.resize(static_cast<std::size_t>(tokens) * q_heads * head_dim);
        k_all.resize(static_cast<std::size_t>(tokens) * k_heads * head_dim);
      }

      for (auto style : {KokkosRope::PairStyle::half_split, KokkosRope::PairStyle::interleaved}) {
        KokkosRope::Params p;
        p.head_dim = p.rotary_dim = head_dim;
        p.theta = 10000.0;
        p.pair_style = style;
        p.max_position_embeddings = tokens;
        const KokkosRope::Table<Memory> table(space, p, tokens);  // every rank needs global positions
        for (bool packed : {false, true}) {
          const std::vector<std::int64_t> global_cu =
              packed ? packed_cu : std::vector<std::int64_t>{0, tokens / plain_batch, tokens};
          // Rank 0: the single-rank result.
          Rows q_ref, k_ref;
          if (rank == 0) {
            q_ref = Rows("q_ref", tokens, q_heads, head_dim);
            k_ref = Rows("k_ref", tokens, k_heads, head_dim);
            fill(space, q_ref, {}, 1);
            fill(space, k_ref, {}, 2);
            rotate_batch(space, packed, plain_batch, global_cu, q_ref, k_ref, table, KokkosRope::ImplicitPositions{});
          }
          const auto h_q_ref = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), q_ref);
          const auto h_k_ref = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k_ref);

          for (auto layout : {KokkosRope::ShardLayout::contiguous, KokkosRope::ShardLayout::dual_chunk}) {
            const auto t0 = std::chrono::steady_clock::now();
            // This rank's shard: its global tokens (shard_chunks), its local cu_seqlens.
            const KokkosRope::ContextShard shard(rank, size, layout);
            const auto ranges = KokkosRope::shard_chunks(global_cu, shard);
            const auto local_cu = KokkosRope::local_cu_seqlens(global_cu, shard);
            std::vector<std::int64_t> global_index;
            for (const auto& r : ranges)
              for (std::int64_t g = r.begin; g < r.end; ++g) global_index.push_back(g);
            const std::int64_t local = local_cu.back();
            Rows q("q", local, q_heads, head_dim), k("k", local, k_heads, head_dim);
            const auto index = upload(space, global_index, "global_index");
            fill(space, q, index, 1);
            fill(space, k, index, 2);
            // The rotation itself: the local tensors, the layout, and the shard. That is all.
            rotate_batch(space, packed, plain_batch, local_cu, q, k, table, KokkosRope::context_parallel(shard));
            space.fence();
            const double t_rotate = seconds_since(t0);

            // Gather to rank 0 in rank order.
            const auto h_q = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), q);
            const auto h_k = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), k);
            std::vector<int> counts(size), displs(size);
            if (rank == 0) {
              for (int r = 0, at = 0; r < size; ++r) {
                counts[r] = static_cast<int>(
                    KokkosRope::local_cu_seqlens(global_cu, KokkosRope::ContextShard(r, size, layout)).back());
                displs[r] = at;
                at += counts[r];
              }
            }
            MPI_Gatherv(h_q.data(), static_cast<int>(local), q_row, q_all.data(), counts.data(), displs.data(), q_row, 0,
                        MPI_COMM_WORLD);
            MPI_Gatherv(h_k.data(), static_cast<int>(local), k_row, k_all.data(), counts.data(), displs.data(), k_row, 0,
                        MPI_COMM_WORLD);

            if (rank == 0) {
              // Rank r's block holds its shard_chunks, in order: compare them with the same global rows.
              std::int64_t q_bad = 0, k_bad = 0;
              const std::size_t qr = q_heads * head_dim, kr = k_heads * head_dim;
              for (int r = 0; r < size; ++r) {
                std::int64_t at = displs[r];
                for (const auto& c : KokkosRope::shard_chunks(global_cu, KokkosRope::ContextShard(r, size, layout))) {
                  q_bad += std::memcmp(&q_all[at * qr], h_q_ref.data() + c.begin * qr, c.size() * qr * sizeof(float)) != 0;
                  k_bad += std::memcmp(&k_all[at * kr], h_k_ref.data() + c.begin * kr, c.size() * kr * sizeof(float)) != 0;
                  at += c.size();
                }
              }
              const bool ok = q_bad == 0 && k_bad == 0;
              failures += ok ? 0 : 1;
              std::printf("  %-6s %-10s %-11s R=%d: q, k %s  (shard + rotate %.2f s, gather + compare %.2f s)\n",
                          packed ? "packed" : "bshd", to_string(layout),
                          style == KokkosRope::PairStyle::half_split ? "half_split" : "interleaved", size,
                          ok ? "bitwise equal" : "DIFFER", t_rotate, seconds_since(t0) - t_rotate);
            }
          }
        }
      }
      MPI_Type_free(&q_row);
      MPI_Type_free(&k_row);
    } catch (const std::exception& e) {
      // A bad configuration (e.g. a token count the layouts cannot split) is reported by the
      // library on the rank that hit it; abort the job rather than leave the others in a collective.
      std::fprintf(stderr, "rank %d: %s\n", rank, e.what());
      MPI_Abort(MPI_COMM_WORLD, 2);
    }
    MPI_Bcast(&failures, 1, MPI_INT, 0, MPI_COMM_WORLD);
    if (rank == 0)
      std::printf("context_parallel: %s, %.1f s\n", failures == 0 ? "all 8 cases bitwise equal" : "MISMATCH",
                  seconds_since(start));
  }
  MPI_Finalize();
  return failures == 0 ? 0 : 1;
}
