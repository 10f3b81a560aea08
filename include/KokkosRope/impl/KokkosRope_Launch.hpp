// SPDX-License-Identifier: Apache-2.0
// From a rotate / rotate_copy call to the kernel launch: the token and position maps of the
// layout and positions descriptor, checked against the tensors, then one launch per source
// evaluator (chunked at 2^31 tokens: a league is an int).
#ifndef KOKKOSROPE_IMPL_LAUNCH_HPP
#define KOKKOSROPE_IMPL_LAUNCH_HPP

#include <KokkosRope/Options.hpp>
#include <KokkosRope/impl/KokkosRope_Checks.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_Error.hpp>
#include <KokkosRope/impl/KokkosRope_PositionMaps.hpp>
#include <KokkosRope/impl/KokkosRope_RotateKernel.hpp>
#include <KokkosRope/impl/KokkosRope_TensorAccess.hpp>

#include <climits>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

namespace KokkosRope::Impl {

/// The position map of `context_parallel(...)` for q in `layout` (called by make_maps):
/// checks what the host can (and, with `check`, odd local lengths of a packed batch).
template <class ExecutionSpace, class Layout, class O, class QView>
auto make_context_parallel_map(const ExecutionSpace& space, const char* where, const Layout& layout,
                               const ContextParallel<O>& cp, const QView& q, std::int64_t batch, bool check) {
  const ContextShard& shard = cp.shard;
  const bool dual = shard.layout() == ShardLayout::dual_chunk;
  const auto fail = [&](const std::string& what) {
    throw_invalid_argument(where, "context_parallel " + what);
  };
  const auto length = [&]() {
    if constexpr (Layout::rank == 4 || std::is_same_v<Layout, Packed<void>>) {
      std::int64_t local = 0;
      if constexpr (Layout::rank == 4)
        local = Access<Layout>::seq(q);
      else
        local = Access<Layout>::tokens(q);
      if (dual && local % 2 != 0)
        fail("dual_chunk needs an even local sequence length (two chunks), q has " + std::to_string(local) +
             " tokens per sequence");
      return ConstantLength{local};
    } else {
      using Cu = decltype(layout.cu_seqlens);
      if (dual && check && batch > 0) {
        typename OddLengthCheck<Cu>::first_type first{};
        Kokkos::parallel_reduce(
            "KokkosRope::check_context_parallel",
            Kokkos::RangePolicy<ExecutionSpace, Kokkos::IndexType<std::int64_t>>(space, 0, batch),
            OddLengthCheck<Cu>{layout.cu_seqlens}, Kokkos::MinLoc<std::int64_t, std::int64_t>(first));
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
      static_assert(is_index_view_v<ExecutionSpace, O>,
                    "KokkosRope::context_parallel: offsets must be an integer View accessible from the "
                    "execution space");
      if (static_cast<std::int64_t>(cp.offsets.extent(0)) != batch)
        fail("offsets has " + std::to_string(cp.offsets.extent(0)) + " entries, batch is " +
             std::to_string(batch));
      return ViewOffsets<O>{cp.offsets};
    }
  }();
  return ContextParallelPositionMap<decltype(length), decltype(offsets)>{length, offsets, shard.rank(),
                                                                         shard.size(), dual};
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
      static_assert(
          is_index_view_v<ExecutionSpace, Cu>,
          "KokkosRope::packed: cu_seqlens must be an integer View accessible from the execution space");
      const std::int64_t batch = static_cast<std::int64_t>(layout.cu_seqlens.extent(0)) - 1;
      if (batch < 1)
        throw_invalid_argument(where,
                               "cu_seqlens needs batch + 1 >= 2 entries, has " + std::to_string(batch + 1));
      if (check) {
        std::int64_t bad = 0;
        Kokkos::parallel_reduce(
            "KokkosRope::check_cu_seqlens",
            Kokkos::RangePolicy<ExecutionSpace, Kokkos::IndexType<std::int64_t>>(space, 0, batch + 1),
            CuSeqlensCheck<Cu>{layout.cu_seqlens, batch, tokens}, bad);
        if (bad != 0)
          throw_invalid_argument(where,
                                 "cu_seqlens must start at 0, never decrease and end at the token count " +
                                     std::to_string(tokens));
      }
      return VarlenTokens<Cu>{layout.cu_seqlens, batch};
    }
  }();
  const std::int64_t batch = [&]() -> std::int64_t {
    if constexpr (Layout::rank == 4)
      return access::batch(q);
    else if constexpr (std::is_same_v<Layout, Packed<void>>)
      return 1;
    else
      return static_cast<std::int64_t>(layout.cu_seqlens.extent(0)) - 1;
  }();
  auto position_map = [&]() {
    if constexpr (positions_kind_v<PositionsArg> == PositionsKind::implicit) {
      return ImplicitPositionMap{};
    } else if constexpr (positions_kind_v<PositionsArg> == PositionsKind::context_parallel) {
      return make_context_parallel_map(space, where, layout, positions, q, batch, check);
    } else {
      if constexpr (positions_kind_v<PositionsArg> == PositionsKind::sequence_offsets) {
        using O = decltype(positions.offsets);
        static_assert(is_index_view_v<ExecutionSpace, O>,
                      "KokkosRope::sequence_offsets: offsets must be an integer View accessible from the "
                      "execution space");
        if (static_cast<std::int64_t>(positions.offsets.extent(0)) != batch)
          throw_invalid_argument(where, "offsets has " + std::to_string(positions.offsets.extent(0)) +
                                            " entries, batch is " + std::to_string(batch));
        return OffsetPositionMap<O>{{positions.offsets}};
      } else {
        using P = decltype(positions.positions);
        static_assert(is_index_view_v<ExecutionSpace, P>,
                      "KokkosRope::token_positions: positions must be an integer View accessible from the "
                      "execution space");
        if constexpr (Layout::rank == 4) {
          static_assert(P::rank() == 2, "KokkosRope::token_positions: bshd/bhsd need positions [batch][seq]");
          if (static_cast<std::int64_t>(positions.positions.extent(0)) != access::batch(q) ||
              static_cast<std::int64_t>(positions.positions.extent(1)) != access::seq(q))
            throw_invalid_argument(where, "positions is " + std::to_string(positions.positions.extent(0)) +
                                              " x " + std::to_string(positions.positions.extent(1)) +
                                              ", q has batch x seq " + std::to_string(access::batch(q)) +
                                              " x " + std::to_string(access::seq(q)));
        } else {
          static_assert(P::rank() == 1,
                        "KokkosRope::token_positions: packed layouts need positions [tokens]");
          if (static_cast<std::int64_t>(positions.positions.extent(0)) != tokens)
            throw_invalid_argument(where, "positions has " + std::to_string(positions.positions.extent(0)) +
                                              " entries, q has " + std::to_string(tokens) + " tokens");
        }
        return TokenPositionMap<P>{positions.positions};
      }
    }
  }();
  return std::make_pair(tokens_map, position_map);
}

template <class ExecutionSpace, class Layout, class QIn, class QOut, class KIn, class KOut, class Source,
          class PositionsArg>
void rotate_impl(const char* where, const ExecutionSpace& space, const Layout& layout, const QIn& q_in,
                 const QOut& q_out, const KIn& k_in, const KOut& k_out, int k_heads, const Source& source,
                 const PositionsArg& positions, const RotateOptions& options) {
  using access = Access<Layout>;
  using Acc = std::conditional_t<std::is_same_v<typename QIn::non_const_value_type, double> ||
                                     std::is_same_v<typename KIn::non_const_value_type, double>,
                                 double, float>;
  static_assert(positions_kind_v<PositionsArg> != PositionsKind::none,
                "KokkosRope::rotate: positions must be ImplicitPositions{}, sequence_offsets(v), "
                "token_positions(v) or context_parallel(shard[, v])");
  Kokkos::Profiling::ScopedRegion region(std::string("KokkosRope::") + where);

  const int head_dim = access::dim(q_in);
  const int rotary_dim = source.rotary_dim();
  if (rotary_dim <= 0 || rotary_dim % 2 != 0)
    throw_invalid_argument(
        where, "rotary_dim " + std::to_string(rotary_dim) + " of the cos/sin source must be even and > 0");
  if (rotary_dim > head_dim)
    throw_invalid_argument(where, "rotary_dim " + std::to_string(rotary_dim) +
                                      " of the cos/sin source exceeds q head_dim " +
                                      std::to_string(head_dim));
  const std::int64_t tokens = num_tokens<Layout>(q_in);
  const int q_heads = access::heads(q_in);
  if (static_cast<std::int64_t>(q_heads) + k_heads > INT_MAX / 2)
    throw_invalid_argument(where,
                           "too many heads: " + std::to_string(q_heads) + " + " + std::to_string(k_heads));

  auto maps = make_maps(space, where, layout, positions, q_in, options.check_positions);
  if (tokens == 0 || q_heads + k_heads == 0) return;  // empty batch: nothing to do, nothing to check
  std::int64_t seq = 0;
  if constexpr (Layout::rank == 4) seq = access::seq(q_in);
  if (options.check_positions)
    check_positions<ExecutionSpace, Layout>(space, where, tokens, seq, maps.first, maps.second, source);

  const int half = rotary_dim / 2;
  const bool copy_tail = rotary_dim < head_dim && q_in.data() != q_out.data();
  constexpr int last = Layout::rank - 1;
  const bool unit_stride =
      q_in.stride(last) == 1 && q_out.stride(last) == 1 && k_in.stride(last) == 1 && k_out.stride(last) == 1;
  const auto shape = LaunchShape<ExecutionSpace>::choose(half, q_heads + k_heads);
  const bool backward = options.direction == Direction::backward;
  const bool interleaved = source.pair_style() == PairStyle::interleaved;

  source.visit([&](const auto& eval) {
    using Kernel =
        RotateKernel<ExecutionSpace, Layout, Acc, QIn, QOut, KIn, KOut, std::decay_t<decltype(eval)>,
                     std::decay_t<decltype(maps.first)>, std::decay_t<decltype(maps.second)>>;
    for (std::int64_t first = 0; first < tokens; first += INT_MAX) {
      const int league = static_cast<int>(tokens - first < INT_MAX ? tokens - first : INT_MAX);
      Kokkos::TeamPolicy<ExecutionSpace> policy(space, league, shape.team_size, shape.vector_length);
      policy.set_scratch_size(0, Kokkos::PerTeam(Kernel::scratch_bytes(half)));
      Kokkos::parallel_for(std::string("KokkosRope::") + where, policy,
                           Kernel{q_in, q_out, k_in, k_out, eval, maps.first, maps.second, first, half,
                                  head_dim, q_heads, k_heads, copy_tail, unit_stride, interleaved, backward});
    }
  });
}

}  // namespace KokkosRope::Impl

#endif
