// SPDX-License-Identifier: Apache-2.0
/// \file Rotate.hpp
/// Applying RoPE to query and key tensors: q and k together in one launch (k optional), in place
/// (`rotate`) or out of place (`rotate_copy`), forward or backward, in any tensor order of
/// Layouts.hpp, with cos/sin from any source of Sources.hpp. Every entry point takes the
/// execution-space instance first and runs all its kernels on it.
#ifndef KOKKOSROPE_ROTATE_HPP
#define KOKKOSROPE_ROTATE_HPP

#include <KokkosRope/Blocks.hpp>
#include <KokkosRope/ContextParallel.hpp>
#include <KokkosRope/Layouts.hpp>
#include <KokkosRope/Sources.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_RotateKernel.hpp>

#include <climits>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

namespace KokkosRope {
namespace Impl {

template <class T>
inline constexpr bool is_layout_v = std::is_same_v<T, BSHD> || std::is_same_v<T, BHSD>;
template <class C>
inline constexpr bool is_layout_v<Packed<C>> = true;

/// 0: implicit, 1: per-sequence offsets, 2: per-token positions, 3: context-parallel shard,
/// -1: not a position source.
template <class T>
inline constexpr int positions_kind_v = -1;
template <>
inline constexpr int positions_kind_v<ImplicitPositions> = 0;
template <class O>
inline constexpr int positions_kind_v<SequenceOffsets<O>> = 1;
template <class P>
inline constexpr int positions_kind_v<TokenPositions<P>> = 2;
template <class O>
inline constexpr int positions_kind_v<ContextParallel<O>> = 3;

[[noreturn]] inline void shape_error(const char* where, const std::string& what) {
  throw std::invalid_argument(std::string("KokkosRope::") + where + ": " + what);
}

inline std::string str(std::int64_t v) { return std::to_string(v); }

/// Compile-time checks shared by every entry point.
template <class ExecutionSpace, class Layout, class View>
constexpr void static_check_view() {
  static_assert(Kokkos::is_execution_space_v<ExecutionSpace>,
                "KokkosRope::rotate: the first argument must be an execution space instance");
  static_assert(is_layout_v<Layout>,
                "KokkosRope::rotate: the layout must be bshd, bhsd or packed(...)");
  static_assert(Kokkos::is_view_v<View>, "KokkosRope::rotate: q and k must be Kokkos Views");
  static_assert(View::rank() == Layout::rank,
                "KokkosRope::rotate: q/k rank must be 4 for bshd/bhsd, 3 for packed layouts");
  static_assert(Kokkos::SpaceAccessibility<ExecutionSpace, typename View::memory_space>::accessible,
                "KokkosRope::rotate: q/k must be accessible from the execution space");
}

/// Tokens of a tensor: B*S for grid layouts, T for packed ones.
template <class Layout, class View>
std::int64_t num_tokens(const View& v) {
  if constexpr (Layout::rank == 4) return Access<Layout>::batch(v) * Access<Layout>::seq(v);
  else return Access<Layout>::tokens(v);
}

/// q and k must agree on everything but the number of heads (grouped-query attention).
template <class Layout, class A, class B>
void check_same_tokens(const char* where, const char* a_name, const A& a, const char* b_name, const B& b) {
  using acc = Access<Layout>;
  if constexpr (Layout::rank == 4) {
    if (acc::batch(a) != acc::batch(b) || acc::seq(a) != acc::seq(b))
      shape_error(where, std::string(b_name) + " has batch x seq " + str(acc::batch(b)) + " x " +
                             str(acc::seq(b)) + ", " + a_name + " has " + str(acc::batch(a)) + " x " +
                             str(acc::seq(a)));
  } else {
    if (acc::tokens(a) != acc::tokens(b))
      shape_error(where, std::string(b_name) + " has " + str(acc::tokens(b)) + " tokens, " + a_name +
                             " has " + str(acc::tokens(a)));
  }
  if (acc::dim(a) != acc::dim(b))
    shape_error(where, std::string(b_name) + " head_dim " + str(acc::dim(b)) + " differs from " +
                           a_name + " head_dim " + str(acc::dim(a)));
}

template <class Layout, class In, class Out>
void check_same_shape(const char* where, const char* in_name, const In& in, const char* out_name, const Out& out) {
  for (int r = 0; r < Layout::rank; ++r)
    if (in.extent(r) != out.extent(r))
      shape_error(where, std::string(out_name) + " extent(" + std::to_string(r) + ") = " +
                             str(out.extent(r)) + " differs from " + in_name + " extent(" +
                             std::to_string(r) + ") = " + str(in.extent(r)));
}

// Validation reductions (run on the caller's instance; the result comes back to the host).
template <class Cu>
struct CuSeqlensCheck {
  Cu m_cu;
  std::int64_t m_batch, m_tokens;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t b, std::int64_t& bad) const {
    if (b == 0 && m_cu(0) != 0) ++bad;
    if (b == m_batch && static_cast<std::int64_t>(m_cu(m_batch)) != m_tokens) ++bad;
    if (b < m_batch && m_cu(b + 1) < m_cu(b)) ++bad;
  }
};

template <class Tokens, class Positions>
struct PositionRange {
  Tokens m_tokens;
  Positions m_positions;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t g, std::int64_t& lo, std::int64_t& hi) const {
    const std::int64_t p = m_positions(m_tokens(g));
    if (p < lo) lo = p;
    if (p > hi) hi = p;
  }
};

template <class ExecutionSpace, class Tokens, class Positions>
void check_position_range(const ExecutionSpace& space, const char* where, std::int64_t tokens,
                          const Tokens& token_map, const Positions& position_map, std::int64_t limit) {
  std::int64_t lo = 0, hi = 0;
  const PositionRange<Tokens, Positions> range{token_map, position_map};
  bool checked = false;
  if constexpr (is_host_space_v<ExecutionSpace>) {
    if (tokens <= 4096) {
      // Decode-sized calls on a host space: a plain loop after waiting for the instance (which
      // may still be writing the positions) costs a fraction of a parallel reduction's launch.
      space.fence("KokkosRope::check_positions");
      lo = hi = position_map(token_map(0));
      for (std::int64_t g = 0; g < tokens; ++g) range(g, lo, hi);
      checked = true;
    }
  }
  if (!checked)
    Kokkos::parallel_reduce("KokkosRope::check_positions",
                            Kokkos::RangePolicy<ExecutionSpace, Kokkos::IndexType<std::int64_t>>(space, 0, tokens),
                            range, Kokkos::Min<std::int64_t>(lo), Kokkos::Max<std::int64_t>(hi));
  if (lo < 0) shape_error(where, "position " + str(lo) + " is negative");
  if (limit >= 0 && hi >= limit)
    shape_error(where, "position " + str(hi) + " is past the cos/sin source (" + str(limit) +
                           " positions); build the table for more positions");
}

template <class ExecutionSpace, class Layout, class Tokens, class Positions, class Source>
void check_positions(const ExecutionSpace& space, const char* where, std::int64_t tokens, std::int64_t seq,
                     const Tokens& token_map, const Positions& position_map, const Source& source) {
  const std::int64_t limit = source.position_limit();
  if constexpr (std::is_same_v<Positions, ImplicitPositionMap> && Layout::rank == 4) {
    if (limit >= 0 && seq > limit)
      shape_error(where, "sequence length " + str(seq) + " is past the cos/sin source (" +
                             str(limit) + " positions)");
  } else {
    check_position_range(space, where, tokens, token_map, position_map, limit);
  }
}

/// The token map and position map of a layout + positions pair, checked against the tensors.
template <class ExecutionSpace, class Layout, class PositionsArg, class QView>
auto make_maps(const ExecutionSpace& space, const char* where, const Layout& layout,
               const PositionsArg& positions, const QView& q, bool check) {
  using access = Access<Layout>;
  const std::int64_t tokens = num_tokens<Layout>(q);
  auto tokens_map = [&]() {
    if constexpr (Layout::rank == 4) {
      return GridTokens{access::seq(q) > 0 ? access::seq(q) : 1};
    } else if constexpr (std::is_same_v<Layout, Packed<void>>) {
      return SingleSequenceTokens{};
    } else {
      using Cu = decltype(layout.cu_seqlens);
      static_assert(std::is_integral_v<typename Cu::value_type>, "KokkosRope::packed: cu_seqlens must hold integers");
      static_assert(Kokkos::SpaceAccessibility<ExecutionSpace, typename Cu::memory_space>::accessible,
                    "KokkosRope::packed: cu_seqlens must be accessible from the execution space");
      const std::int64_t batch = static_cast<std::int64_t>(layout.cu_seqlens.extent(0)) - 1;
      if (batch < 1) shape_error(where, "cu_seqlens needs batch + 1 >= 2 entries, has " + str(batch + 1));
      if (check) {
        std::int64_t bad = 0;
        Kokkos::parallel_reduce("KokkosRope::check_cu_seqlens",
                                Kokkos::RangePolicy<ExecutionSpace, Kokkos::IndexType<std::int64_t>>(space, 0, batch + 1),
                                CuSeqlensCheck<Cu>{layout.cu_seqlens, batch, tokens}, bad);
        if (bad != 0)
          shape_error(where, "cu_seqlens must start at 0, never decrease and end at the token count " + str(tokens));
      }
      return VarlenTokens<Cu>{layout.cu_seqlens, batch};
    }
  }();
  const std::int64_t batch = [&]() -> std::int64_t {
    if constexpr (Layout::rank == 4) return access::batch(q);
    else if constexpr (std::is_same_v<Layout, Packed<void>>) return 1;
    else return static_cast<std::int64_t>(layout.cu_seqlens.extent(0)) - 1;
  }();
  auto position_map = [&]() {
    if constexpr (positions_kind_v<PositionsArg> == 0) {
      return ImplicitPositionMap{};
    } else if constexpr (positions_kind_v<PositionsArg> == 3) {
      return make_context_parallel_map(space, where, layout, positions, q, batch, check);
    } else {
      if constexpr (positions_kind_v<PositionsArg> == 1) {
        using O = decltype(positions.offsets);
        static_assert(std::is_integral_v<typename O::value_type>, "KokkosRope::sequence_offsets: offsets must hold integers");
        static_assert(Kokkos::SpaceAccessibility<ExecutionSpace, typename O::memory_space>::accessible,
                      "KokkosRope::sequence_offsets: offsets must be accessible from the execution space");
        if (static_cast<std::int64_t>(positions.offsets.extent(0)) != batch)
          shape_error(where, "offsets has " + str(positions.offsets.extent(0)) + " entries, batch is " + str(batch));
        return OffsetPositionMap<O>{positions.offsets};
      } else {
        using P = decltype(positions.positions);
        static_assert(std::is_integral_v<typename P::value_type>, "KokkosRope::token_positions: positions must hold integers");
        static_assert(Kokkos::SpaceAccessibility<ExecutionSpace, typename P::memory_space>::accessible,
                      "KokkosRope::token_positions: positions must be accessible from the execution space");
        if constexpr (Layout::rank == 4) {
          static_assert(P::rank() == 2, "KokkosRope::token_positions: bshd/bhsd need positions [batch][seq]");
          if (static_cast<std::int64_t>(positions.positions.extent(0)) != access::batch(q) ||
              static_cast<std::int64_t>(positions.positions.extent(1)) != access::seq(q))
            shape_error(where, "positions is " + str(positions.positions.extent(0)) + " x " +
                                   str(positions.positions.extent(1)) + ", q has batch x seq " +
                                   str(access::batch(q)) + " x " + str(access::seq(q)));
        } else {
          static_assert(P::rank() == 1, "KokkosRope::token_positions: packed layouts need positions [tokens]");
          if (static_cast<std::int64_t>(positions.positions.extent(0)) != tokens)
            shape_error(where, "positions has " + str(positions.positions.extent(0)) + " entries, q has " +
                                   str(tokens) + " tokens");
        }
        return TokenPositionMap<P>{positions.positions};
      }
    }
  }();
  return std::make_pair(tokens_map, position_map);
}

template <class ExecutionSpace, class Layout, class QIn, class QOut, class KIn, class KOut,
          class Source, class PositionsArg>
void rotate_impl(const char* where, const ExecutionSpace& space, const Layout& layout, const QIn& q_in,
                 const QOut& q_out, const KIn& k_in, const KOut& k_out, int k_heads,
                 const Source& source, const PositionsArg& positions, const RotateOptions& options) {
  using access = Access<Layout>;
  using Acc = std::conditional_t<std::is_same_v<typename QIn::non_const_value_type, double> ||
                                     std::is_same_v<typename KIn::non_const_value_type, double>,
                                 double, float>;
  static_assert(positions_kind_v<PositionsArg> >= 0,
                "KokkosRope::rotate: positions must be ImplicitPositions{}, sequence_offsets(v), token_positions(v) or context_parallel(shard[, v])");
  Kokkos::Profiling::ScopedRegion region(std::string("KokkosRope::") + where);

  const int head_dim = access::dim(q_in);
  const int rotary_dim = source.rotary_dim();
  if (rotary_dim <= 0 || rotary_dim % 2 != 0)
    shape_error(where, "rotary_dim " + std::to_string(rotary_dim) + " of the cos/sin source must be even and > 0");
  if (rotary_dim > head_dim)
    shape_error(where, "rotary_dim " + std::to_string(rotary_dim) + " of the cos/sin source exceeds q head_dim " +
                           std::to_string(head_dim));
  const std::int64_t tokens = num_tokens<Layout>(q_in);
  const int q_heads = access::heads(q_in);
  if (static_cast<std::int64_t>(q_heads) + k_heads > INT_MAX / 2)
    shape_error(where, "too many heads: " + std::to_string(q_heads) + " + " + std::to_string(k_heads));

  auto maps = make_maps(space, where, layout, positions, q_in, options.check_positions);
  if (tokens == 0 || q_heads + k_heads == 0) return;  // empty batch: nothing to do, nothing to check
  std::int64_t seq = 0;
  if constexpr (Layout::rank == 4) seq = access::seq(q_in);
  if (options.check_positions)
    check_positions<ExecutionSpace, Layout>(space, where, tokens, seq, maps.first, maps.second, source);

  const int half = rotary_dim / 2;
  const bool copy_tail = rotary_dim < head_dim && q_in.data() != q_out.data();
  constexpr int last = Layout::rank - 1;
  const bool unit_stride = q_in.stride(last) == 1 && q_out.stride(last) == 1 && k_in.stride(last) == 1 &&
                           k_out.stride(last) == 1;
  const auto shape = LaunchShape<ExecutionSpace>::choose(half, q_heads + k_heads);
  const bool backward = options.direction == Direction::backward;
  const bool interleaved = source.pair_style() == PairStyle::interleaved;

  source.visit([&](const auto& eval) {
    using Kernel = RotateKernel<ExecutionSpace, Layout, Acc, QIn, QOut, KIn, KOut, std::decay_t<decltype(eval)>,
                                std::decay_t<decltype(maps.first)>, std::decay_t<decltype(maps.second)>>;
    for (std::int64_t first = 0; first < tokens; first += INT_MAX) {
      const int league = static_cast<int>(tokens - first < INT_MAX ? tokens - first : INT_MAX);
      Kokkos::TeamPolicy<ExecutionSpace> policy(space, league, shape.team_size, shape.vector_length);
      policy.set_scratch_size(0, Kokkos::PerTeam(Kernel::scratch_bytes(half)));
      Kokkos::parallel_for(std::string("KokkosRope::") + where, policy,
                           Kernel{q_in, q_out, k_in, k_out, eval, maps.first, maps.second, first, half, head_dim,
                                  q_heads, k_heads, copy_tail, unit_stride, interleaved, backward});
    }
  });
}

template <class View>
inline constexpr bool is_mutable_view_v =
    Kokkos::is_view_v<View> && !std::is_const_v<typename View::value_type>;

}  // namespace Impl

/// Rotates q and k in place. `k` may have a different number of heads than `q` (GQA/MQA).
template <class ExecutionSpace, class Layout, class QView, class KView, class Source,
          class Positions = ImplicitPositions,
          std::enable_if_t<Kokkos::is_view_v<KView> && is_cos_sin_source_v<Source>, int> = 0>
void rotate(const ExecutionSpace& space, const Layout& layout, const QView& q, const KView& k,
            const Source& source, const Positions& positions = {}, const RotateOptions& options = {}) {
  Impl::static_check_view<ExecutionSpace, Layout, QView>();
  Impl::static_check_view<ExecutionSpace, Layout, KView>();
  static_assert(Impl::is_mutable_view_v<QView> && Impl::is_mutable_view_v<KView>,
                "KokkosRope::rotate: in-place q and k must be non-const Views (use rotate_copy for const inputs)");
  Impl::check_same_tokens<Layout>("rotate", "q", q, "k", k);
  Impl::rotate_impl("rotate", space, layout, q, q, k, k, Impl::Access<Layout>::heads(k), source,
                    positions, options);
}

/// Rotates q alone in place.
template <class ExecutionSpace, class Layout, class QView, class Source, class Positions = ImplicitPositions,
          std::enable_if_t<Kokkos::is_view_v<QView> && is_cos_sin_source_v<Source>, int> = 0>
void rotate(const ExecutionSpace& space, const Layout& layout, const QView& q, const Source& source,
            const Positions& positions = {}, const RotateOptions& options = {}) {
  Impl::static_check_view<ExecutionSpace, Layout, QView>();
  static_assert(Impl::is_mutable_view_v<QView>,
                "KokkosRope::rotate: in-place q must be a non-const View (use rotate_copy for const inputs)");
  Impl::rotate_impl("rotate", space, layout, q, q, q, q, 0, source, positions, options);
}

/// Out of place: q_out, k_out = RoPE(q_in, k_in); the unrotated tail of a partial rotary
/// head_dim is copied. Inputs may be const Views.
template <class ExecutionSpace, class Layout, class QIn, class KIn, class QOut, class KOut, class Source,
          class Positions = ImplicitPositions,
          std::enable_if_t<Kokkos::is_view_v<KIn> && Kokkos::is_view_v<QOut> && Kokkos::is_view_v<KOut> &&
                               is_cos_sin_source_v<Source>, int> = 0>
void rotate_copy(const ExecutionSpace& space, const Layout& layout, const QIn& q_in, const KIn& k_in,
                 const QOut& q_out, const KOut& k_out, const Source& source, const Positions& positions = {},
                 const RotateOptions& options = {}) {
  Impl::static_check_view<ExecutionSpace, Layout, QIn>();
  Impl::static_check_view<ExecutionSpace, Layout, KIn>();
  Impl::static_check_view<ExecutionSpace, Layout, QOut>();
  Impl::static_check_view<ExecutionSpace, Layout, KOut>();
  static_assert(Impl::is_mutable_view_v<QOut> && Impl::is_mutable_view_v<KOut>,
                "KokkosRope::rotate_copy: q_out and k_out must be non-const Views");
  Impl::check_same_tokens<Layout>("rotate_copy", "q_in", q_in, "k_in", k_in);
  Impl::check_same_shape<Layout>("rotate_copy", "q_in", q_in, "q_out", q_out);
  Impl::check_same_shape<Layout>("rotate_copy", "k_in", k_in, "k_out", k_out);
  Impl::rotate_impl("rotate_copy", space, layout, q_in, q_out, k_in, k_out, Impl::Access<Layout>::heads(k_in),
                    source, positions, options);
}

/// Out of place, q alone.
template <class ExecutionSpace, class Layout, class QIn, class QOut, class Source, class Positions = ImplicitPositions,
          std::enable_if_t<Kokkos::is_view_v<QOut> && is_cos_sin_source_v<Source>, int> = 0>
void rotate_copy(const ExecutionSpace& space, const Layout& layout, const QIn& q_in, const QOut& q_out,
                 const Source& source, const Positions& positions = {}, const RotateOptions& options = {}) {
  Impl::static_check_view<ExecutionSpace, Layout, QIn>();
  Impl::static_check_view<ExecutionSpace, Layout, QOut>();
  static_assert(Impl::is_mutable_view_v<QOut>, "KokkosRope::rotate_copy: q_out must be a non-const View");
  Impl::check_same_shape<Layout>("rotate_copy", "q_in", q_in, "q_out", q_out);
  Impl::rotate_impl("rotate_copy", space, layout, q_in, q_out, q_in, q_out, 0, source, positions, options);
}

}  // namespace KokkosRope

#endif
