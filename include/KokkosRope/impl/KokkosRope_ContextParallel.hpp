// SPDX-License-Identifier: Apache-2.0
// Context parallelism's arithmetic (ContextParallel.hpp): the global position of a local token,
// and the host checks of a packed batch's global cu_seqlens.
#ifndef KOKKOSROPE_IMPL_CONTEXTPARALLEL_HPP
#define KOKKOSROPE_IMPL_CONTEXTPARALLEL_HPP

#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_Error.hpp>

#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

namespace KokkosRope::Impl {

/// Global position of local index s of a sequence whose local length is `local_length` (the one
/// formula, shared by the kernel and the host helpers).
KOKKOS_INLINE_FUNCTION std::int64_t context_parallel_position(std::int64_t s, std::int64_t local_length,
                                                              std::int64_t rank, std::int64_t size,
                                                              bool dual_chunk) {
  if (!dual_chunk) return rank * local_length + s;
  const std::int64_t chunk = local_length / 2;
  return s < chunk ? rank * chunk + s : (2 * size - 1 - rank) * chunk + (s - chunk);
}

template <class Int>
void check_global_cu_seqlens(const std::vector<Int>& cu) {
  static_assert(std::is_integral_v<Int>, "KokkosRope::context_parallel: cu_seqlens must hold integers");
  if (cu.size() < 2)
    throw_invalid_argument("context_parallel",
                           "cu_seqlens needs batch + 1 >= 2 entries, has " + std::to_string(cu.size()));
  if (cu[0] != 0)
    throw_invalid_argument("context_parallel",
                           "cu_seqlens must start at 0, starts at " + std::to_string(cu[0]));
  for (std::size_t b = 0; b + 1 < cu.size(); ++b)
    if (cu[b + 1] < cu[b])
      throw_invalid_argument("context_parallel", "cu_seqlens decreases at sequence " + std::to_string(b) +
                                                     " (" + std::to_string(cu[b]) + " -> " +
                                                     std::to_string(cu[b + 1]) + ")");
}

/// Local length of sequence b of a packed batch (a template on the shard so that this header
/// needs no definition of ContextShard).
template <class Int, class Shard>
std::int64_t local_sequence_length(const std::vector<Int>& cu, std::size_t b, const Shard& shard) {
  const std::int64_t n = static_cast<std::int64_t>(cu[b + 1]) - static_cast<std::int64_t>(cu[b]);
  if (n % shard.pieces() != 0)
    throw_invalid_argument("context_parallel", "sequence " + std::to_string(b) + " has length " +
                                                   std::to_string(n) + ", not divisible by " +
                                                   std::to_string(shard.pieces()) + " (" +
                                                   to_string(shard.layout()) + " over size " +
                                                   std::to_string(shard.size()) + ")");
  return n / shard.size();
}

}  // namespace KokkosRope::Impl

#endif
