// SPDX-License-Identifier: Apache-2.0
/// \file ContextParallel.hpp
/// Context parallelism: a sequence sharded over `size` ranks, each rank rotating its local tensor
/// with the tokens' global positions. Two shardings of a sequence of length N (every sequence of a
/// packed batch is sharded the same way):
///  - contiguous: rank r holds [r N/R, (r + 1) N/R);
///  - dual_chunk (Transformer Engine's load-balanced layout for causal attention): the sequence is
///    split into 2R chunks; rank r holds chunk r, then chunk 2R - 1 - r.
/// The positions descriptor `context_parallel(shard)` goes where `sequence_offsets(...)` goes:
/// global positions are computed in the kernel from the local index, so no position array is
/// built. Only rank, size and layout are needed: no MPI here, no communicator.
#ifndef KOKKOSROPE_CONTEXTPARALLEL_HPP
#define KOKKOSROPE_CONTEXTPARALLEL_HPP

#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_ContextParallel.hpp>
#include <KokkosRope/impl/KokkosRope_Error.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace KokkosRope {

/// How a sequence is cut over the ranks.
enum class ShardLayout {
  contiguous,  ///< rank r holds [r N/R, (r + 1) N/R)
  dual_chunk   ///< 2R chunks; rank r holds chunk r, then chunk 2R - 1 - r
};

/// The name of a shard layout ("contiguous", "dual_chunk").
/// \param layout the layout to name
/// \return the name
inline const char* to_string(ShardLayout layout) {
  return layout == ShardLayout::contiguous ? "contiguous" : "dual_chunk";
}

/// This rank's place in the context-parallel group. Validated on construction: 1 <= size and
/// 0 <= rank < size.
class ContextShard {
 public:
  /// \param rank this rank, in [0, size)
  /// \param size the number of ranks that share a sequence, >= 1
  /// \param layout how a sequence is cut
  ContextShard(int rank, int size, ShardLayout layout) : m_rank(rank), m_size(size), m_layout(layout) {
    if (size < 1)
      Impl::throw_invalid_argument("context_parallel", "size " + std::to_string(size) + " must be >= 1");
    if (rank < 0)
      Impl::throw_invalid_argument("context_parallel", "rank " + std::to_string(rank) + " is negative");
    if (rank >= size)
      Impl::throw_invalid_argument("context_parallel",
                                   "rank " + std::to_string(rank) + " >= size " + std::to_string(size));
  }
  /// \return this rank.
  int rank() const { return m_rank; }
  /// \return the number of ranks.
  int size() const { return m_size; }
  /// \return how a sequence is cut.
  ShardLayout layout() const { return m_layout; }
  /// \return how many pieces a sequence is cut into: size (contiguous) or 2 size (dual_chunk).
  std::int64_t pieces() const {
    return m_layout == ShardLayout::dual_chunk ? 2 * std::int64_t(m_size) : m_size;
  }

  /// Local length of a sequence; throws unless it divides evenly.
  /// \param global_length the sequence's length over all ranks
  /// \return global_length / size
  std::int64_t local_length(std::int64_t global_length) const {
    if (global_length < 0 || global_length % pieces() != 0)
      Impl::throw_invalid_argument(
          "context_parallel", "sequence length " + std::to_string(global_length) + " is not divisible by " +
                                  std::to_string(pieces()) + " (" + to_string(m_layout) + " over size " +
                                  std::to_string(m_size) + " needs a multiple of " +
                                  std::to_string(pieces()) + ")");
    return global_length / m_size;
  }
  /// Global position of a local token.
  /// \param s the token's index in this rank's part of the sequence
  /// \param local_length the length of this rank's part of the sequence
  /// \return the position in the whole sequence
  std::int64_t global_position(std::int64_t s, std::int64_t local_length) const {
    return Impl::context_parallel_position(s, local_length, m_rank, m_size,
                                           m_layout == ShardLayout::dual_chunk);
  }

 private:
  int m_rank, m_size;
  ShardLayout m_layout;
};

/// Positions descriptor: each local sequence is this rank's shard of a longer sequence, which
/// starts at position offsets(b).
/// \tparam Offsets a rank-1 integer View, one entry per sequence, or void: every sequence starts
///         at 0
template <class Offsets = void>
struct ContextParallel {
  ContextShard shard;  ///< this rank's place in the group
  Offsets offsets;     ///< the first global position of each sequence
};
/// Context parallelism, every sequence starting at position 0.
template <>
struct ContextParallel<void> {
  ContextShard shard;  ///< this rank's place in the group
};

/// `rotate(space, layout, q, k, source, context_parallel(shard))`: q and k hold this rank's tokens
/// (local cu_seqlens for packed batches), rotated at their global positions. dual_chunk needs an
/// even local length per sequence: checked on the host for bshd/bhsd/packed(); for
/// packed(cu_seqlens) by a reduction (Validation::before_kernel) or in the kernel
/// (Validation::in_kernel, flagged as StatusReason::odd_dual_chunk), like the other device checks.
/// \param shard this rank's place in the group
/// \return the positions descriptor
inline ContextParallel<void> context_parallel(const ContextShard& shard) {
  return {shard};
}
/// Context parallelism on top of per-sequence offsets (chunked prefill of a sharded sequence):
/// position = offsets(b) + the global position within the sequence.
/// \param shard this rank's place in the group
/// \param offsets rank-1 integer View, one entry per sequence, accessible from the rotation's
///        execution space
/// \return the positions descriptor
template <class Offsets>
ContextParallel<Offsets> context_parallel(const ContextShard& shard, const Offsets& offsets) {
  static_assert(Kokkos::is_view_v<Offsets> && Offsets::rank() == 1,
                "KokkosRope::context_parallel: offsets must be a rank-1 View");
  return {shard, offsets};
}

/// A half-open range of global token indices.
struct TokenRange {
  std::int64_t begin;  ///< the first token
  std::int64_t end;    ///< one past the last token
  /// \return the number of tokens.
  std::int64_t size() const { return end - begin; }
};

/// The global token ranges this rank holds, in local order, for one sequence of `global_length`
/// tokens (for codes that scatter a sequence to the ranks or gather it back).
/// \param global_length the sequence's length over all ranks
/// \param shard this rank's place in the group
/// \return the ranges, in local order
inline std::vector<TokenRange> shard_chunks(std::int64_t global_length, const ContextShard& shard) {
  const std::int64_t local = shard.local_length(global_length);
  const std::int64_t r = shard.rank(), R = shard.size();
  if (shard.layout() == ShardLayout::contiguous) return {{r * local, (r + 1) * local}};
  const std::int64_t chunk = local / 2;
  return {{r * chunk, (r + 1) * chunk}, {(2 * R - 1 - r) * chunk, (2 * R - r) * chunk}};
}

/// This rank's cu_seqlens of a packed batch whose global cu_seqlens are `global_cu_seqlens`
/// (every sequence's length must divide as the layout needs).
/// \param global_cu_seqlens 0, then the running sum of the global sequence lengths
/// \param shard this rank's place in the group
/// \return this rank's cu_seqlens, batch + 1 entries
template <class Int>
std::vector<Int> local_cu_seqlens(const std::vector<Int>& global_cu_seqlens, const ContextShard& shard) {
  Impl::check_global_cu_seqlens(global_cu_seqlens);
  std::vector<Int> local(global_cu_seqlens.size(), Int(0));
  for (std::size_t b = 0; b + 1 < global_cu_seqlens.size(); ++b)
    local[b + 1] = static_cast<Int>(local[b] + Impl::local_sequence_length(global_cu_seqlens, b, shard));
  return local;
}

/// The global token ranges this rank holds of a packed batch, in local order (sequence by
/// sequence, each as in `shard_chunks`); empty ranges are left out.
/// \param global_cu_seqlens 0, then the running sum of the global sequence lengths
/// \param shard this rank's place in the group
/// \return the ranges, in local order
template <class Int>
std::vector<TokenRange> shard_chunks(const std::vector<Int>& global_cu_seqlens, const ContextShard& shard) {
  Impl::check_global_cu_seqlens(global_cu_seqlens);
  std::vector<TokenRange> ranges;
  for (std::size_t b = 0; b + 1 < global_cu_seqlens.size(); ++b) {
    Impl::local_sequence_length(global_cu_seqlens, b, shard);  // names the sequence on error
    const std::int64_t start = static_cast<std::int64_t>(global_cu_seqlens[b]);
    for (const TokenRange& r :
         shard_chunks(static_cast<std::int64_t>(global_cu_seqlens[b + 1]) - start, shard))
      if (r.size() > 0) ranges.push_back({start + r.begin, start + r.end});
  }
  return ranges;
}

}  // namespace KokkosRope

#endif
