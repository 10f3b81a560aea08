// SPDX-License-Identifier: Apache-2.0
// The maps a rotation kernel applies to each token: flat token index -> (sequence, index in the
// sequence) for each tensor order, and (sequence, index) -> position for each positions
// descriptor (Positions.hpp, ContextParallel.hpp).
#ifndef KOKKOSROPE_IMPL_POSITIONMAPS_HPP
#define KOKKOSROPE_IMPL_POSITIONMAPS_HPP

#include <KokkosRope/ContextParallel.hpp>
#include <KokkosRope/Positions.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_ContextParallel.hpp>
#include <KokkosRope/impl/KokkosRope_TensorAccess.hpp>

#include <cstdint>

namespace KokkosRope::Impl {

/// The positions descriptors a rotation accepts.
enum class PositionsKind { none, implicit, sequence_offsets, token_positions, multimodal, context_parallel };
template <class T>
inline constexpr PositionsKind positions_kind_v = PositionsKind::none;
template <>
inline constexpr PositionsKind positions_kind_v<ImplicitPositions> = PositionsKind::implicit;
template <class O>
inline constexpr PositionsKind positions_kind_v<SequenceOffsets<O>> = PositionsKind::sequence_offsets;
template <class P>
inline constexpr PositionsKind positions_kind_v<TokenPositions<P>> = PositionsKind::token_positions;
template <class P>
inline constexpr PositionsKind positions_kind_v<MultimodalPositions<P>> = PositionsKind::multimodal;
template <class O>
inline constexpr PositionsKind positions_kind_v<ContextParallel<O>> = PositionsKind::context_parallel;

// ---- flat token index -> coordinates ---------------------------------------------------------
// Each map also says, per token, what in-kernel validation finds wrong with it (StatusReason
// bits; 0: nothing).

/// StatusReason bits (Status.hpp) as the maps report them.
inline constexpr unsigned reason_position_negative = 1u, reason_position_past_source = 2u,
                          reason_malformed_cu_seqlens = 4u, reason_odd_dual_chunk = 8u,
                          reason_slot_past_cache = 16u;

/// BSHD / BHSD: g = b * S + s.
struct GridTokens {
  std::int64_t m_seq;
  KOKKOS_INLINE_FUNCTION TokenCoord operator()(std::int64_t g) const {
    const std::int64_t b = g / m_seq;
    return {b, g - b * m_seq, g};
  }
  KOKKOS_INLINE_FUNCTION unsigned check(const TokenCoord&) const { return 0; }
};

/// Packed, one sequence.
struct SingleSequenceTokens {
  KOKKOS_INLINE_FUNCTION TokenCoord operator()(std::int64_t g) const { return {0, g, g}; }
  KOKKOS_INLINE_FUNCTION unsigned check(const TokenCoord&) const { return 0; }
};

/// Packed with cu_seqlens: binary search for the sequence holding token g (once per token).
template <class Cu>
struct VarlenTokens {
  Cu m_cu;
  std::int64_t m_batch;
  std::int64_t m_tokens;
  KOKKOS_INLINE_FUNCTION TokenCoord operator()(std::int64_t g) const {
    std::int64_t lo = 0, hi = m_batch - 1;  // largest b with cu(b) <= g
    while (lo < hi) {
      const std::int64_t mid = (lo + hi + 1) / 2;
      if (static_cast<std::int64_t>(m_cu(mid)) <= g)
        lo = mid;
      else
        hi = mid - 1;
    }
    return {lo, g - static_cast<std::int64_t>(m_cu(lo)), g};
  }
  // The token's sequence must hold it and follow its predecessor; the first and last tokens
  // check the ends. (Exhaustive checks are Validation::before_kernel's.)
  KOKKOS_INLINE_FUNCTION unsigned check(const TokenCoord& c) const {
    const auto at = [&](std::int64_t b) { return static_cast<std::int64_t>(m_cu(b)); };
    bool bad = c.t < at(c.b) || c.t >= at(c.b + 1) || (c.b > 0 && at(c.b - 1) > at(c.b));
    if (c.t == 0) bad = bad || at(0) != 0;
    if (c.t == m_tokens - 1) bad = bad || at(m_batch) != m_tokens;
    return bad ? reason_malformed_cu_seqlens : 0u;
  }
};

// ---- coordinates -> position -----------------------------------------------------------------

/// The first position of sequence b: 0, or offsets(b).
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

struct ImplicitPositionMap {
  KOKKOS_INLINE_FUNCTION std::int64_t operator()(const TokenCoord& c) const { return c.s; }
  KOKKOS_INLINE_FUNCTION unsigned check(const TokenCoord&) const { return 0; }
};
template <class Offsets>
struct OffsetPositionMap {
  ViewOffsets<Offsets> m_offsets;
  KOKKOS_INLINE_FUNCTION std::int64_t operator()(const TokenCoord& c) const { return m_offsets(c.b) + c.s; }
  KOKKOS_INLINE_FUNCTION unsigned check(const TokenCoord&) const { return 0; }
};
template <class PositionView>
struct TokenPositionMap {
  PositionView m_positions;
  KOKKOS_INLINE_FUNCTION std::int64_t operator()(const TokenCoord& c) const {
    if constexpr (PositionView::rank() == 2)
      return static_cast<std::int64_t>(m_positions(c.b, c.s));
    else
      return static_cast<std::int64_t>(m_positions(c.t));
  }
  KOKKOS_INLINE_FUNCTION unsigned check(const TokenCoord&) const { return 0; }
};

// ---- multimodal RoPE ------------------------------------------------------------------------------

/// The stream each pair reads, from an MropeSection (a copy the kernels hold).
struct PairStreams {
  int m_first_height = 0;  // sectioned: pairs [m_first_height, m_first_width) read height
  int m_first_width = 0;   // sectioned: pairs [m_first_width, ..) read width
  int m_height_end = 0;    // interleaved: i % 3 == 1 && i < m_height_end reads height
  int m_width_end = 0;     // interleaved: i % 3 == 2 && i < m_width_end reads width
  bool m_interleaved = false;
  static PairStreams of(const MropeSection& section) {
    PairStreams p;
    p.m_first_height = section.temporal;
    p.m_first_width = section.temporal + section.height;
    p.m_height_end = 3 * section.height;
    p.m_width_end = 3 * section.width;
    p.m_interleaved = section.layout == MropeLayout::interleaved;
    return p;
  }
  KOKKOS_INLINE_FUNCTION int operator()(int pair) const {
    if (m_interleaved) {
      const int r = pair % 3;
      return (r == 1 && pair < m_height_end) ? 1 : (r == 2 && pair < m_width_end) ? 2 : 0;
    }
    return pair < m_first_height ? 0 : pair < m_first_width ? 1 : 2;
  }
};

/// A token's three positions (temporal, height, width) and the stream of each pair.
struct StreamPositions {
  std::int64_t m_stream[3];
  PairStreams m_streams;
  KOKKOS_INLINE_FUNCTION std::int64_t of_pair(int pair) const { return m_stream[m_streams(pair)]; }
};

/// [3][batch][seq] (grid layouts) or [3][tokens] (packed) positions.
template <class PositionView>
struct MultimodalPositionMap {
  PositionView m_positions;
  PairStreams m_streams;
  KOKKOS_INLINE_FUNCTION StreamPositions operator()(const TokenCoord& c) const {
    StreamPositions p{{0, 0, 0}, m_streams};
    for (int r = 0; r < 3; ++r) {
      if constexpr (PositionView::rank() == 3)
        p.m_stream[r] = static_cast<std::int64_t>(m_positions(r, c.b, c.s));
      else
        p.m_stream[r] = static_cast<std::int64_t>(m_positions(r, c.t));
    }
    return p;
  }
  KOKKOS_INLINE_FUNCTION unsigned check(const TokenCoord&) const { return 0; }
};

// What the kernels and checks need of a token's position, one position or three.
KOKKOS_FORCEINLINE_FUNCTION std::int64_t position_of_pair(std::int64_t p, int) { return p; }
KOKKOS_FORCEINLINE_FUNCTION std::int64_t position_of_pair(const StreamPositions& p, int pair) {
  return p.of_pair(pair);
}
KOKKOS_FORCEINLINE_FUNCTION std::int64_t lowest_position(std::int64_t p) { return p; }
KOKKOS_FORCEINLINE_FUNCTION std::int64_t lowest_position(const StreamPositions& p) {
  const std::int64_t a = p.m_stream[0] < p.m_stream[1] ? p.m_stream[0] : p.m_stream[1];
  return a < p.m_stream[2] ? a : p.m_stream[2];
}
KOKKOS_FORCEINLINE_FUNCTION std::int64_t highest_position(std::int64_t p) { return p; }
KOKKOS_FORCEINLINE_FUNCTION std::int64_t highest_position(const StreamPositions& p) {
  const std::int64_t a = p.m_stream[0] > p.m_stream[1] ? p.m_stream[0] : p.m_stream[1];
  return a > p.m_stream[2] ? a : p.m_stream[2];
}
/// The one position every pair reads, or -1 when pairs read different positions.
KOKKOS_FORCEINLINE_FUNCTION std::int64_t common_position(std::int64_t p) { return p; }
KOKKOS_FORCEINLINE_FUNCTION std::int64_t common_position(const StreamPositions& p) {
  return p.m_stream[0] == p.m_stream[1] && p.m_stream[0] == p.m_stream[2] ? p.m_stream[0] : -1;
}

// ---- context parallelism -----------------------------------------------------------------------

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

template <class Length, class Offsets>
struct ContextParallelPositionMap {
  Length m_length;
  Offsets m_offsets;
  std::int64_t m_rank, m_size;
  bool m_dual_chunk;
  KOKKOS_INLINE_FUNCTION std::int64_t operator()(const TokenCoord& c) const {
    return m_offsets(c.b) + context_parallel_position(c.s, m_length(c.b), m_rank, m_size, m_dual_chunk);
  }
  KOKKOS_INLINE_FUNCTION unsigned check(const TokenCoord& c) const {
    return m_dual_chunk && m_length(c.b) % 2 != 0 ? reason_odd_dual_chunk : 0u;
  }
};

}  // namespace KokkosRope::Impl

#endif
