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

#include <KokkosRope/Layouts.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_RotateKernel.hpp>

#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace KokkosRope {

enum class ShardLayout { contiguous, dual_chunk };

inline const char* to_string(ShardLayout layout) {
  return layout == ShardLayout::contiguous ? "contiguous" : "dual_chunk";
}

namespace Impl {

[[noreturn]] inline void context_parallel_error(const std::string& what) {
  throw std::invalid_argument("KokkosRope::context_parallel: " + what);
}

/// Global position of local index s of a sequence whose local length is `local_length` (the one
/// formula, shared by the kernel and the host helpers).
KOKKOS_INLINE_FUNCTION std::int64_t context_parallel_position(std::int64_t s, std::int64_t local_length,
                                                              std::int64_t rank, std::int64_t size,
                                                              bool dual_chunk) {
  if (!dual_chunk) return rank * local_length + s;
  const std::int64_t chunk = local_length / 2;
  return s < chunk ? rank * chunk + s : (2 * size - 1 - rank) * chunk + (s - chunk);
}

}  // namespace Impl

/// This rank's place in the context-parallel group. Validated on construction: 1 <= size and
/// 0 <= rank < size.
class ContextShard {
 public:
  ContextShard(int rank, int size, ShardLayout layout) : m_rank(rank), m_size(size), m_layout(layout) {
    if (size < 1) Impl::context_parallel_error("size " + std::to_string(size) + " must be >= 1");
    if (rank < 0) Impl::context_parallel_error("rank " + std::to_string(rank) + " is negative");
    if (rank >= size)
      Impl::context_parallel_error("rank " + std::to_string(rank) + " >= size " + std::to_string(size));
  }
  int rank() const { return m_rank; }
  int size() const { return m_size; }
  ShardLayout layout() const { return m_layout; }
  /// How many pieces a sequence is cut into: size (contiguous) or 2 size (dual_chunk).
  std::int64_t pieces() const { return m_layout == ShardLayout::dual_chunk ? 2 * std::int64_t(m_size) : m_size; }

  /// Local length of a sequence of `global_length` tokens; throws unless it divides evenly.
  std::int64_t local_length(std::int64_t global_length) const {
    if (global_length < 0 || global_length % pieces() != 0)
      Impl::context_parallel_error("sequence length " + std::to_string(global_length) + " is not divisible by " +
                                   std::to_string(pieces()) + " (" + to_string(m_layout) + " over size " +
                                   std::to_string(m_size) + " needs a multiple of " + std::to_string(pieces()) + ")");
    return global_length / m_size;
  }
  /// Global position of local index s in a sequence of local length `local_length`.
  std::int64_t global_position(std::int64_t s, std::int64_t local_length) const {
    return Impl::context_parallel_position(s, local_length, m_rank, m_size, m_layout == ShardLayout::dual_chunk);
  }

 private:
  int m_rank, m_size;
  ShardLayout m_layout;
};

/// Positions descriptor: each local sequence is this rank's shard of a longer sequence, which
/// starts at position offsets(b) (`Offsets` void: at 0).
template <class Offsets = void>
struct ContextParallel {
  ContextShard shard;
  Offsets offsets;
};
template <>
struct ContextParallel<void> {
  ContextShard shard;
};

/// `rotate(space, layout, q, k, source, context_parallel(shard))`: q and k hold this rank's tokens
/// (local cu_seqlens for packed batches), rotated at their global positions. dual_chunk needs an
/// even local length per sequence: checked on the host for bshd/bhsd/packed(), by a reduction for
/// packed(cu_seqlens) (skipped with `check_positions = false`, like the other device checks).
inline ContextParallel<void> context_parallel(const ContextShard& shard) { return {shard}; }
/// Context parallelism on top of per-sequence offsets (chunked prefill of a sharded sequence):
/// position = offsets(b) + the global position within the sequence.
template <class Offsets>
ContextParallel<Offsets> context_parallel(const ContextShard& shard, const Offsets& offsets) {
  static_assert(Kokkos::is_view_v<Offsets> && Offsets::rank() == 1,
                "KokkosRope::context_parallel: offsets must be a rank-1 View");
  return {shard, offsets};
}

/// A half-open range of global token indices.
struct TokenRange {
  std::int64_t begin, end;
  std::int64_t size() const { return end - begin; }
};

/// The global token ranges this rank holds, in local order, for one sequence of `global_length`
/// tokens (for codes that scatter a sequence to the ranks or gather it back).
inline std::vector<TokenRange> shard_chunks(std::int64_t global_length, const ContextShard& shard) {
  const std::int64_t local = shard.local_length(global_length);
  const std::int64_t r = shard.rank(), R = shard.size();
  if (shard.layout() == ShardLayout::contiguous) return {{r * local, (r + 1) * local}};
  const std::int64_t chunk = local / 2;
  return {{r * chunk, (r + 1) * chunk}, {(2 * R - 1 - r) * chunk, (2 * R - r) * chunk}};
}

namespace Impl {
template <class Int>
void check_global_cu_seqlens(const std::vector<Int>& cu) {
  static_assert(std::is_integral_v<Int>, "KokkosRope::context_parallel: cu_seqlens must hold integers");
  if (cu.size() < 2)
    context_parallel_error("cu_seqlens needs batch + 1 >= 2 entries, has " + std::to_string(cu.size()));
  if (cu[0] != 0) context_parallel_error("cu_seqlens must start at 0, starts at " + std::to_string(cu[0]));
  for (std::size_t b = 0; b + 1 < cu.size(); ++b)
    if (cu[b + 1] < cu[b])
      context_parallel_error("cu_seqlens decreases at sequence " + std::to_string(b) + " (" + std::to_string(cu[b]) +
                             " -> " + std::to_string(cu[b + 1]) + ")");
}
template <class Int>
std::int64_t local_sequence_length(const std::vector<Int>& cu, std::size_t b, const ContextShard& shard) {
  const std::int64_t n = static_cast<std::int64_t>(cu[b + 1]) - static_cast<std::int64_t>(cu[b]);
  if (n % shard.pieces() != 0)
    context_parallel_error("sequence " + std::to_string(b) + " has length " + std::to_string(n) +
                           ", not divisible by " + std::to_string(shard.pieces()) + " (" + to_string(shard.layout()) +
                           " over size " + std::to_string(shard.size()) + ")");
  return n / shard.size();
}
}  // namespace Impl

/// This rank's cu_seqlens of a packed batch whose global cu_seqlens are `global_cu_seqlens`
/// (every sequence's length must divide as the layout needs).
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
template <class Int>
std::vector<TokenRange> shard_chunks(const std::vector<Int>& global_cu_seqlens, const ContextShard& shard) {
  Impl::check_global_cu_seqlens(global_cu_seqlens);
  std::vector<TokenRange> ranges;
  for (std::size_t b = 0; b + 1 < global_cu_seqlens.size(); ++b) {
    Impl::local_sequence_length(global_cu_seqlens, b, shard);  // names the sequence on error
    const std::int64_t start = static_cast<std::int64_t>(global_cu_seqlens[b]);
    for (const TokenRange& r : shard_chunks(static_cast<std::int64_t>(global_cu_seqlens[b + 1]) - start, shard))
      if (r.size() > 0) ranges.push_back({start + r.begin, start + r.end});
  }
  return ranges;
}

namespace Impl {

// ---- the position map inside the kernel ------------------------------------------------------

/// Local length of every sequence: the same for grid layouts and a single packed sequence.
struct ConstantLength {
  std::int64_t m_length;
  KOKKOS_INLINE_FUNCTION std::int64_t operator()(std::int64_t) const { return m_length; }
};
/// Local length of sequence b from the local cu_seqlens (two loads; the token map has just read
/// the same entries).
template <class Cu>
struct CuSeqlensLength {
  Cu m_cu;
  KOKKOS_INLINE_FUNCTION std::int64_t operator()(std::int64_t b) const {
    return static_cast<std::int64_t>(m_cu(b + 1)) - static_cast<std::int64_t>(m_cu(b));
  }
};
struct NoOffsets {
  KOKKOS_INLINE_FUNCTION std::int64_t operator()(std::int64_t) const { return 0; }
};
template <class Offsets>
struct ViewOffsets {
  Offsets m_offsets;
  KOKKOS_INLINE_FUNCTION std::int64_t operator()(std::int64_t b) const {
    return static_cast<std::int64_t>(m_offsets(b));
  }
};

template <class Length, class Offsets>
struct ContextParallelPositionMap {
  Length m_length;
  Offsets m_offsets;
  std::int64_t m_rank, m_size;
  bool m_dual_chunk;
  KOKKOS_INLINE_FUNCTION std::int64_t operator()(const TokenCoord& c) const {
    return m_offsets(c.b) + context_parallel_position(c.s, m_length(c.b), m_rank, m_size, m_dual_chunk);
  }
};

/// Finds the first sequence with an odd local length (dual_chunk needs two equal chunks).
template <class Cu>
struct OddLengthCheck {
  Cu m_cu;
  using first_type = Kokkos::ValLocScalar<std::int64_t, std::int64_t>;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t b, first_type& first) const {
    const std::int64_t n = static_cast<std::int64_t>(m_cu(b + 1)) - static_cast<std::int64_t>(m_cu(b));
    if (n % 2 != 0 && b < first.val) {
      first.val = b;
      first.loc = n;
    }
  }
};

template <class T>
inline constexpr bool is_context_parallel_v = false;
template <class O>
inline constexpr bool is_context_parallel_v<ContextParallel<O>> = true;

/// The position map of `context_parallel(...)` for q in `layout` (called by make_maps):
/// checks what the host can (and, with `check`, odd local lengths of a packed batch).
template <class ExecutionSpace, class Layout, class O, class QView>
auto make_context_parallel_map(const ExecutionSpace& space, const char* where, const Layout& layout,
                               const ContextParallel<O>& cp, const QView& q, std::int64_t batch, bool check) {
  const ContextShard& shard = cp.shard;
  const bool dual = shard.layout() == ShardLayout::dual_chunk;
  const auto fail = [&](const std::string& what) {
    throw std::invalid_argument(std::string("KokkosRope::") + where + ": context_parallel " + what);
  };
  const auto length = [&]() {
    if constexpr (Layout::rank == 4 || std::is_same_v<Layout, Packed<void>>) {
      std::int64_t local = 0;
      if constexpr (Layout::rank == 4) local = Access<Layout>::seq(q);
      else local = Access<Layout>::tokens(q);
      if (dual && local % 2 != 0)
        fail("dual_chunk needs an even local sequence length (two chunks), q has " + std::to_string(local) +
             " tokens per sequence");
      return ConstantLength{local};
    } else {
      using Cu = decltype(layout.cu_seqlens);
      if (dual && check && batch > 0) {
        typename OddLengthCheck<Cu>::first_type first{};
        Kokkos::parallel_reduce("KokkosRope::check_context_parallel",
                                Kokkos::RangePolicy<ExecutionSpace, Kokkos::IndexType<std::int64_t>>(space, 0, batch),
                                OddLengthCheck<Cu>{layout.cu_seqlens},
                                Kokkos::MinLoc<std::int64_t, std::int64_t>(first));
        if (first.val < batch)
          fail("dual_chunk needs an even local length (two chunks) for every sequence; sequence " +
               std::to_string(first.val) + " has " + std::to_string(first.loc) + " tokens");
      }
      return CuSeqlensLength<Cu>{layout.cu_seqlens};
    }
  }();
  const auto offsets = [&]() {
    if constexpr (std::is_void_v<O>) {
      return NoOffsets{};
    } else {
      static_assert(std::is_integral_v<typename O::value_type>, "KokkosRope::context_parallel: offsets must hold integers");
      static_assert(Kokkos::SpaceAccessibility<ExecutionSpace, typename O::memory_space>::accessible,
                    "KokkosRope::context_parallel: offsets must be accessible from the execution space");
      if (static_cast<std::int64_t>(cp.offsets.extent(0)) != batch)
        fail("offsets has " + std::to_string(cp.offsets.extent(0)) + " entries, batch is " + std::to_string(batch));
      return ViewOffsets<O>{cp.offsets};
    }
  }();
  return ContextParallelPositionMap<decltype(length), decltype(offsets)>{length, offsets, shard.rank(), shard.size(),
                                                                         dual};
}

}  // namespace Impl
}  // namespace KokkosRope

#endif
