// SPDX-License-Identifier: Apache-2.0
// The fused rotation kernel, q and k heads of a token together, with three code paths
// (Options.hpp, KernelPath):
//  - host_rows: a flat loop over tokens; the token's cos/sin rows read in place (tables) or
//    evaluated into a small local buffer, then every head row rotated by a vectorisable pointer
//    loop. No teams, no scratch: what a CPU core runs fastest.
//  - lanes: a team per group of tokens; their cos/sin evaluated once into team scratch; threads
//    over head rows, vector lanes over consecutive pairs. Any strides.
//  - vector: as lanes, but each thread moves 16 bytes of a row-major head per access (e.g. 8
//    bf16 of the first half with the matching 8 of the second half), tokens grouped per team so
//    that a team has work for a few warps even where a token has few heads.
// Every path validates each token in the kernel (positions, cu_seqlens, dual-chunk lengths) when
// asked to, and skips a token that fails. A token has one position, or three (multimodal RoPE),
// each pair then reading its stream's: host_rows gathers the pairs' cos/sin, the team paths stage
// them per pair as before.
#ifndef KOKKOSROPE_IMPL_ROTATEKERNEL_HPP
#define KOKKOSROPE_IMPL_ROTATEKERNEL_HPP

#include <KokkosRope/Options.hpp>
#include <KokkosRope/Params.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_PairRotation.hpp>
#include <KokkosRope/impl/KokkosRope_PositionMaps.hpp>
#include <KokkosRope/impl/KokkosRope_TensorAccess.hpp>

#include <cstdint>
#include <type_traits>
#include <utility>

namespace KokkosRope::Impl {

struct HostRowsTag {};
struct TeamTag {};

/// Row pointers of a source evaluator whose rows hold Acc contiguously (host_rows reads them in
/// place); other evaluators are copied into a local buffer first.
template <class Eval, class Acc, class = void>
inline constexpr bool has_rows_of_v = false;
template <class Eval, class Acc>
inline constexpr bool has_rows_of_v<Eval, Acc, std::void_t<typename Eval::row_type>> =
    std::is_same_v<typename Eval::row_type, Acc>;

/// A hint to fetch the `bytes` bytes at p, to be read soon: the host compilers' prefetch, nothing
/// elsewhere. Never faults, never reads.
KOKKOS_FORCEINLINE_FUNCTION void prefetch_bytes(const void* p, std::size_t bytes) {
#if (defined(__GNUC__) || defined(__clang__)) && !defined(__CUDA_ARCH__) && \
    !defined(__HIP_DEVICE_COMPILE__) && !defined(__SYCL_DEVICE_ONLY__)
  for (std::size_t b = 0; b < bytes; b += 64)
    __builtin_prefetch(static_cast<const char*>(p) + b);
#else
  (void)p, (void)bytes;
#endif
}

/// host_rows: a hint to fetch the cos/sin rows of token g (the next one the calling thread takes)
/// while the current token is rotated. Explicit positions land anywhere in a table of many MB
/// (Llama 3.1's 131072 positions: 64 MiB), so each token's rows would otherwise be a cache miss on
/// the critical path. Nothing is read; positions outside the table are left alone.
template <class Acc, class Eval, class Tokens, class Positions>
KOKKOS_FORCEINLINE_FUNCTION void prefetch_table_rows(const Eval& eval, const Tokens& tokens,
                                                     const Positions& positions, std::int64_t g,
                                                     std::int64_t num_tokens, std::int64_t position_limit,
                                                     int half) {
  if constexpr (has_rows_of_v<Eval, Acc>) {
    if (g >= num_tokens) return;
    const std::int64_t row = common_position(positions(tokens(g)));
    if (row < 0 || row >= position_limit) return;
    prefetch_bytes(eval.cos_row(row), static_cast<std::size_t>(half) * sizeof(Acc));
    prefetch_bytes(eval.sin_row(row), static_cast<std::size_t>(half) * sizeof(Acc));
  } else {
    (void)eval, (void)tokens, (void)positions, (void)g, (void)num_tokens, (void)position_limit, (void)half;
  }
}

/// What a launch needs beyond the Views, maps and evaluator (chosen on the host per call).
struct KernelConfig {
  std::int64_t num_tokens = 0;
  std::int64_t position_limit = -1;  // -1: no limit (on-the-fly evaluation)
  int half = 0;
  int head_dim = 0;
  int q_heads = 0;
  int k_heads = 0;
  int tokens_per_team = 1;
  KernelPath path = KernelPath::host_rows;  // resolved: never automatic
  bool copy_tail_q = false;                 // rotary_dim < head_dim and q_out is not q_in
  bool copy_tail_k = false;
  bool interleaved = false;  // pairs (2i, 2i + 1); otherwise (i, i + half)
  bool backward = false;     // rotate by -angle (the gradient of the forward rotation)
  bool use_scratch = true;   // cos/sin staged in team scratch (else each lane evaluates its own)
};

/// True when token c at position(s) pos may be rotated: its token map, position map, positions
/// and the caller's own `extra` reason bits find nothing wrong. Otherwise the token is flagged
/// (or the kernel aborts) and the kernel skips it.
template <class Tokens, class Positions, class Flagger, class Position>
KOKKOS_INLINE_FUNCTION bool accept_token(const Tokens& tokens, const Positions& positions, const Flagger& flagger,
                                         std::int64_t position_limit, const TokenCoord& c, const Position& pos,
                                         unsigned extra) {
  const std::int64_t lo = lowest_position(pos), hi = highest_position(pos);
  unsigned why = tokens.check(c) | positions.check(c) | extra;
  if (lo < 0) why |= reason_position_negative;
  if (position_limit >= 0 && hi >= position_limit) why |= reason_position_past_source;
  if (why == 0) return true;
  flagger.flag(c.t, lo < 0 ? lo : hi, why);
  return false;
}

// Pair style and direction are run-time members, not template parameters: both are uniform
// across a launch, and keeping them out of the type makes each rotate call instantiate one
// kernel instead of four.
template <class ExecutionSpace, class Layout, class Acc, class QIn, class QOut, class KIn, class KOut,
          class Eval, class Tokens, class Positions, class Flagger>
struct RotateKernel {
  using team_policy = Kokkos::TeamPolicy<ExecutionSpace, TeamTag>;
  using member_type = typename team_policy::member_type;
  using scratch_space = typename ExecutionSpace::scratch_memory_space;
  using acc_scratch = Kokkos::View<Acc*, scratch_space, Kokkos::MemoryUnmanaged>;
  using index_scratch = Kokkos::View<std::int64_t*, scratch_space, Kokkos::MemoryUnmanaged>;
  using access = Access<Layout>;
  /// std::int64_t, or StreamPositions for multimodal RoPE.
  using Position = decltype(std::declval<const Positions&>()(TokenCoord{}));
  static constexpr int position_fields = std::is_same_v<Position, StreamPositions> ? 3 : 1;
  static constexpr int chunk_pairs = 64;                   // host_rows: pairs per local cos/sin buffer
  static constexpr int coord_fields = 3 + position_fields;  // b, s, t, positions (first -1: skipped)

  QIn m_q_in;
  QOut m_q_out;
  KIn m_k_in;
  KOut m_k_out;
  Eval m_eval;
  Tokens m_tokens;
  Positions m_positions;
  Flagger m_flagger;
  KernelConfig m_cfg;
  std::int64_t m_token_offset = 0;  // league index 0 is this token (launches are chunked at 2^31)

  /// Team scratch for `tokens` tokens of `half` pairs.
  static std::size_t scratch_bytes(int tokens, int half, bool use_scratch) {
    return index_scratch::shmem_size(coord_fields * tokens) +
           (use_scratch ? acc_scratch::shmem_size(2 * static_cast<std::size_t>(half) * tokens) : 0);
  }

  // ---- validation ------------------------------------------------------------------------------

  /// True when the token may be rotated; otherwise it is flagged (or the kernel aborts).
  KOKKOS_INLINE_FUNCTION bool accept(const TokenCoord& c, const Position& pos) const {
    return accept_token(m_tokens, m_positions, m_flagger, m_cfg.position_limit, c, pos, 0u);
  }

  // ---- host_rows ---------------------------------------------------------------------------------

  // Every head row of one tensor for pairs [first, first + count): row pointers advance by the
  // head stride, the pair style is chosen once per tensor.
  template <PairStyle Style, class In, class Out>
  KOKKOS_FORCEINLINE_FUNCTION void rotate_rows_of(const In& in, const Out& out, int heads,
                                                  const TokenCoord& c, const Acc* cs, const Acc* sn,
                                                  int first, int count) const {
    rotate_head_rows<Style>(&access::at(in, c, 0, 0), &access::at(out, c, 0, 0), access::head_stride(in),
                            access::head_stride(out), heads, cs, sn, m_cfg.half, first, count);
  }

  template <class In, class Out>
  KOKKOS_INLINE_FUNCTION void rotate_rows(const In& in, const Out& out, int heads, bool copy_tail,
                                          const TokenCoord& c, const Acc* cs, const Acc* sn, int first,
                                          int count) const {
    if (heads == 0) return;
    if (m_cfg.interleaved)
      rotate_rows_of<PairStyle::interleaved>(in, out, heads, c, cs, sn, first, count);
    else
      rotate_rows_of<PairStyle::half_split>(in, out, heads, c, cs, sn, first, count);
    if (copy_tail && first + count == m_cfg.half)
      for (int h = 0; h < heads; ++h) {
        const auto* row_in = &access::at(in, c, h, 0);
        auto* row_out = &access::at(out, c, h, 0);
        for (int d = 2 * m_cfg.half; d < m_cfg.head_dim; ++d) row_out[d] = row_in[d];
      }
  }

  // Compiled for host execution spaces only: GPUs take the team paths (a per-thread copy of whole
  // head rows would only cost them registers).
  KOKKOS_INLINE_FUNCTION void operator()(HostRowsTag, const std::int64_t g) const {
    if constexpr (is_host_execution_space_v<ExecutionSpace>) host_rows(g);
  }

  KOKKOS_INLINE_FUNCTION void host_rows(const std::int64_t g) const {
    const TokenCoord c = m_tokens(g);
    const Position pos = m_positions(c);
    if (!accept(c, pos)) return;
    prefetch_table_rows<Acc>(m_eval, m_tokens, m_positions, g + 1, m_cfg.num_tokens, m_cfg.position_limit,
                             m_cfg.half);
    if constexpr (has_rows_of_v<Eval, Acc>) {
      const std::int64_t row = common_position(pos);
      if (!m_cfg.backward && row >= 0) {  // the table's rows, read in place
        const Acc* cs = m_eval.cos_row(row);
        const Acc* sn = m_eval.sin_row(row);
        rotate_rows(m_q_in, m_q_out, m_cfg.q_heads, m_cfg.copy_tail_q, c, cs, sn, 0, m_cfg.half);
        rotate_rows(m_k_in, m_k_out, m_cfg.k_heads, m_cfg.copy_tail_k, c, cs, sn, 0, m_cfg.half);
        return;
      }
    }
    Acc cos_buffer[chunk_pairs], sin_buffer[chunk_pairs];
    for (int first = 0; first < m_cfg.half; first += chunk_pairs) {
      const int count = m_cfg.half - first < chunk_pairs ? m_cfg.half - first : chunk_pairs;
      for (int i = 0; i < count; ++i) {
        m_eval(position_of_pair(pos, first + i), first + i, cos_buffer[i], sin_buffer[i]);
        if (m_cfg.backward) sin_buffer[i] = -sin_buffer[i];
      }
      rotate_rows(m_q_in, m_q_out, m_cfg.q_heads, m_cfg.copy_tail_q, c, cos_buffer, sin_buffer, first, count);
      rotate_rows(m_k_in, m_k_out, m_cfg.k_heads, m_cfg.copy_tail_k, c, cos_buffer, sin_buffer, first, count);
    }
  }

  // ---- team paths ----------------------------------------------------------------------------------

  /// cos/sin of pair i of token j of the team: from scratch, or evaluated here.
  KOKKOS_FORCEINLINE_FUNCTION void cos_sin(const acc_scratch& cs, int j, const Position& pos, int i, Acc& c,
                                           Acc& s) const {
    if (m_cfg.use_scratch) {
      c = cs(2 * m_cfg.half * j + i);
      s = cs(2 * m_cfg.half * j + m_cfg.half + i);
    } else {
      m_eval(position_of_pair(pos, i), i, c, s);
      if (m_cfg.backward) s = -s;
    }
  }

  /// lanes: one head row, vector lanes over its pairs, then its unrotated tail.
  template <class In, class Out>
  KOKKOS_INLINE_FUNCTION void lanes_row(const member_type& member, const In& in, const Out& out,
                                        bool copy_tail, const TokenCoord& c, int h, const acc_scratch& cs,
                                        int j, const Position& pos) const {
    const int half = m_cfg.half;
    const bool interleaved = m_cfg.interleaved;
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(member, half), [&](const int i) {
      Acc cv, sv;
      cos_sin(cs, j, pos, i, cv, sv);
      const int i1 = interleaved ? PairIndex<PairStyle::interleaved>::first(i, half)
                                 : PairIndex<PairStyle::half_split>::first(i, half);
      const int i2 = interleaved ? PairIndex<PairStyle::interleaved>::second(i, half)
                                 : PairIndex<PairStyle::half_split>::second(i, half);
      rotate_pair(cv, sv, access::at(in, c, h, i1), access::at(in, c, h, i2), access::at(out, c, h, i1),
                  access::at(out, c, h, i2));
    });
    if (copy_tail)
      Kokkos::parallel_for(Kokkos::ThreadVectorRange(member, 2 * half, m_cfg.head_dim),
                           [&](const int d) { access::at(out, c, h, d) = access::at(in, c, h, d); });
  }

  template <int P, class U, class T>
  KOKKOS_FORCEINLINE_FUNCTION static void copy_unit(const U* in, T* out) {
    if constexpr (std::is_same_v<std::remove_const_t<U>, T>) {
      store_pack<P>(out, load_pack<P>(in));
    } else {
      for (int e = 0; e < P; ++e) out[e] = static_cast<T>(static_cast<Acc>(in[e]));
    }
  }

  /// vector: 16-byte units of a row-major head row; unit u < rotary units rotates pairs, the
  /// rest copy the unrotated tail.
  template <class In, class Out>
  KOKKOS_INLINE_FUNCTION void vector_unit(const In& in, const Out& out, const TokenCoord& c, int h, int u,
                                          const acc_scratch& cs, int j, const Position& pos) const {
    using T = typename Out::non_const_value_type;
    constexpr int P = pack_width_v<T>;
    const int half = m_cfg.half;
    const auto* row_in = &access::at(in, c, h, 0);
    T* row_out = &access::at(out, c, h, 0);
    if (!m_cfg.interleaved) {
      if (u < half / P) {
        const int i0 = u * P;
        const auto x1 = load_pack<P>(row_in + i0);
        const auto x2 = load_pack<P>(row_in + half + i0);
        Pack<T, P> y1, y2;
        for (int e = 0; e < P; ++e) {
          Acc cv, sv;
          cos_sin(cs, j, pos, i0 + e, cv, sv);
          rotate_pair(cv, sv, x1.v[e], x2.v[e], y1.v[e], y2.v[e]);
        }
        store_pack<P>(row_out + i0, y1);
        store_pack<P>(row_out + half + i0, y2);
        return;
      }
      copy_unit<P>(row_in + 2 * half + (u - half / P) * P, row_out + 2 * half + (u - half / P) * P);
    } else {
      const int d0 = u * P;
      if (d0 < 2 * half) {
        const auto x = load_pack<P>(row_in + d0);
        Pack<T, P> y;
        for (int e = 0; e < P / 2; ++e) {
          Acc cv, sv;
          cos_sin(cs, j, pos, d0 / 2 + e, cv, sv);
          rotate_pair(cv, sv, x.v[2 * e], x.v[2 * e + 1], y.v[2 * e], y.v[2 * e + 1]);
        }
        store_pack<P>(row_out + d0, y);
        return;
      }
      copy_unit<P>(row_in + d0, row_out + d0);
    }
  }

  /// vector: 16-byte units per head row of an Out tensor: the rotary part (a half_split unit
  /// holds P pairs, P elements of each half; an interleaved one P / 2 pairs), then the tail.
  template <class Out>
  KOKKOS_INLINE_FUNCTION int units_per_row(bool copy_tail) const {
    constexpr int P = pack_width_v<typename Out::non_const_value_type>;
    const int rotary_units = m_cfg.interleaved ? 2 * m_cfg.half / P : m_cfg.half / P;
    return rotary_units + (copy_tail ? (m_cfg.head_dim - 2 * m_cfg.half) / P : 0);
  }

  KOKKOS_INLINE_FUNCTION void operator()(TeamTag, const member_type& member) const {
    const int per_team = m_cfg.tokens_per_team;
    const std::int64_t first = m_token_offset + static_cast<std::int64_t>(member.league_rank()) * per_team;
    const int tokens =
        static_cast<int>(m_cfg.num_tokens - first < per_team ? m_cfg.num_tokens - first : per_team);
    const index_scratch coords(member.team_scratch(0), coord_fields * per_team);
    const acc_scratch cs(member.team_scratch(0), m_cfg.use_scratch ? 2 * m_cfg.half * per_team : 0);
    // Each token once (TeamVectorRange: a flag is counted once, not once per lane).
    Kokkos::parallel_for(Kokkos::TeamVectorRange(member, tokens), [&](const int j) {
      const TokenCoord c = m_tokens(first + j);
      const Position pos = m_positions(c);
      coords(coord_fields * j + 0) = c.b;
      coords(coord_fields * j + 1) = c.s;
      coords(coord_fields * j + 2) = c.t;
      if constexpr (position_fields == 1)
        coords(coord_fields * j + 3) = pos;
      else
        for (int r = 0; r < 3; ++r) coords(coord_fields * j + 3 + r) = pos.m_stream[r];
      if (!accept(c, pos)) coords(coord_fields * j + 3) = -1;
    });
    member.team_barrier();
    const auto coord = [&](int j) {
      return TokenCoord{coords(coord_fields * j), coords(coord_fields * j + 1), coords(coord_fields * j + 2)};
    };
    const auto skipped = [&](int j) { return coords(coord_fields * j + 3) < 0; };
    const auto position = [&](int j) -> Position {
      if constexpr (position_fields == 1)
        return coords(coord_fields * j + 3);
      else
        return Position{{coords(coord_fields * j + 3), coords(coord_fields * j + 4), coords(coord_fields * j + 5)},
                        m_positions.m_streams};
    };
    const int half = m_cfg.half;
    if (m_cfg.use_scratch) {
      Kokkos::parallel_for(Kokkos::TeamVectorRange(member, tokens * half), [&](const int idx) {
        const int j = idx / half, i = idx - j * half;
        if (skipped(j)) return;
        Acc cv, sv;
        m_eval(position_of_pair(position(j), i), i, cv, sv);
        cs(2 * half * j + i) = cv;
        cs(2 * half * j + half + i) = m_cfg.backward ? -sv : sv;
      });
      member.team_barrier();
    }
    const int q_heads = m_cfg.q_heads, heads = m_cfg.q_heads + m_cfg.k_heads;
    if (m_cfg.path == KernelPath::vector) {
      const int q_units = units_per_row<QOut>(m_cfg.copy_tail_q);
      const int k_units = units_per_row<KOut>(m_cfg.copy_tail_k);
      const int per_token = q_heads * q_units + m_cfg.k_heads * k_units;
      Kokkos::parallel_for(Kokkos::TeamVectorRange(member, tokens * per_token), [&](const int idx) {
        const int j = idx / per_token, r = idx - j * per_token;
        if (skipped(j)) return;
        const Position pos = position(j);
        if (r < q_heads * q_units)
          vector_unit(m_q_in, m_q_out, coord(j), r / q_units, r % q_units, cs, j, pos);
        else
          vector_unit(m_k_in, m_k_out, coord(j), (r - q_heads * q_units) / k_units,
                      (r - q_heads * q_units) % k_units, cs, j, pos);
      });
    } else {
      Kokkos::parallel_for(Kokkos::TeamThreadRange(member, tokens * heads), [&](const int idx) {
        const int j = idx / heads, h = idx - j * heads;
        if (skipped(j)) return;
        const Position pos = position(j);
        if (h < q_heads)
          lanes_row(member, m_q_in, m_q_out, m_cfg.copy_tail_q, coord(j), h, cs, j, pos);
        else
          lanes_row(member, m_k_in, m_k_out, m_cfg.copy_tail_k, coord(j), h - q_heads, cs, j, pos);
      });
    }
  }
};

}  // namespace KokkosRope::Impl

#endif
