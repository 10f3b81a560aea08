// SPDX-License-Identifier: Apache-2.0
// From a rotate / rotate_copy call to the kernel launch: the token and position maps of the
// layout and positions descriptor, checked against the tensors, then one launch per source
// evaluator (chunked at 2^31 tokens: a league is an int).
#ifndef KOKKOSROPE_IMPL_LAUNCH_HPP
#define KOKKOSROPE_IMPL_LAUNCH_HPP

#include <KokkosRope/Options.hpp>
#include <KokkosRope/Status.hpp>
#include <KokkosRope/impl/KokkosRope_Checks.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_Error.hpp>
#include <KokkosRope/impl/KokkosRope_PositionMaps.hpp>
#include <KokkosRope/impl/KokkosRope_RotateKernel.hpp>
#include <KokkosRope/impl/KokkosRope_TensorAccess.hpp>

#include <algorithm>
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
        validation_reduce("KokkosRope::check_context_parallel", space, batch,
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
        validation_reduce("KokkosRope::check_cu_seqlens", space, batch + 1,
                          CuSeqlensCheck<Cu>{layout.cu_seqlens, batch, tokens},
                          Kokkos::Sum<std::int64_t>(bad));
        if (bad != 0)
          throw_invalid_argument(where,
                                 "cu_seqlens must start at 0, never decrease and end at the token count " +
                                     std::to_string(tokens));
      }
      return VarlenTokens<Cu>{layout.cu_seqlens, batch, tokens};
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
    } else if constexpr (positions_kind_v<PositionsArg> == PositionsKind::multimodal) {
      using P = decltype(positions.positions);
      static_assert(is_index_view_v<ExecutionSpace, P>,
                    "KokkosRope::multimodal_positions: positions must be an integer View accessible from the "
                    "execution space");
      static_assert(P::rank() == (Layout::rank == 4 ? 3 : 2),
                    "KokkosRope::multimodal_positions: bshd/bhsd need positions [3][batch][seq], packed layouts "
                    "[3][tokens]");
      const auto& p = positions.positions;
      if (p.extent(0) != 3)
        throw_invalid_argument(where, "multimodal positions has " + std::to_string(p.extent(0)) +
                                          " streams, needs 3 (temporal, height, width)");
      if constexpr (Layout::rank == 4) {
        if (static_cast<std::int64_t>(p.extent(1)) != access::batch(q) ||
            static_cast<std::int64_t>(p.extent(2)) != access::seq(q))
          throw_invalid_argument(where, "multimodal positions is 3 x " + std::to_string(p.extent(1)) + " x " +
                                            std::to_string(p.extent(2)) + ", q has batch x seq " +
                                            std::to_string(access::batch(q)) + " x " +
                                            std::to_string(access::seq(q)));
      } else {
        if (static_cast<std::int64_t>(p.extent(1)) != tokens)
          throw_invalid_argument(where, "multimodal positions is 3 x " + std::to_string(p.extent(1)) +
                                            ", q has " + std::to_string(tokens) + " tokens");
      }
      return MultimodalPositionMap<P>{p, PairStreams::of(positions.section)};
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

/// The caller passed no RotateStatus.
struct NoStatus {};
template <class T>
inline constexpr bool is_status_arg_v = std::is_same_v<T, NoStatus> || is_rotate_status_v<T>;

/// Validation::automatic resolved for the execution space.
template <class ExecutionSpace>
Validation resolve_validation(Validation requested) {
  if (requested != Validation::automatic) return requested;
  return is_host_execution_space_v<ExecutionSpace> ? Validation::before_kernel : Validation::in_kernel;
}

/// Why the vector path cannot take these Views (nullptr: it can). 16-byte units need unit-stride
/// rows that start on 16-byte boundaries and a rotary part (and copied tail) of whole units.
template <class QIn, class QOut, class KIn, class KOut>
const char* vector_path_obstacle(const QIn& q_in, const QOut& q_out, const KIn& k_in, const KOut& k_out,
                                 const KernelConfig& cfg) {
  using T = typename QOut::non_const_value_type;
  constexpr int P = pack_width_v<T>;
  if constexpr (sizeof(typename QIn::value_type) != sizeof(T) ||
                sizeof(typename KIn::value_type) != sizeof(T) ||
                sizeof(typename KOut::value_type) != sizeof(T)) {
    return "q and k element types differ in size";
  } else {
    const auto rows_aligned = [&](const auto& v) {
      constexpr int last = std::decay_t<decltype(v)>::rank() - 1;
      if (v.stride(last) != 1) return false;
      for (int r = 0; r < last; ++r)
        if (v.extent(r) > 1 && v.stride(r) % P != 0) return false;
      return reinterpret_cast<std::uintptr_t>(v.data()) % (P * sizeof(T)) == 0;
    };
    if (!(rows_aligned(q_in) && rows_aligned(q_out) && rows_aligned(k_in) && rows_aligned(k_out)))
      return "head rows must have unit stride and start on 16-byte boundaries";
    if ((cfg.interleaved ? 2 * cfg.half : cfg.half) % P != 0)
      return "the rotary part must be whole 16-byte units (rotary_dim / 2 a multiple of 16 / sizeof(T) for "
             "half_split pairs, rotary_dim for interleaved ones)";
    if ((cfg.copy_tail_q || cfg.copy_tail_k) && (cfg.head_dim - 2 * cfg.half) % P != 0)
      return "the unrotated tail (head_dim - rotary_dim) must be whole 16-byte units";
    return nullptr;
  }
}

template <class ExecutionSpace, class QIn, class QOut, class KIn, class KOut>
KernelPath choose_path(const char* where, KernelPath requested, const QIn& q_in, const QOut& q_out,
                       const KIn& k_in, const KOut& k_out, const KernelConfig& cfg) {
  constexpr int last = QIn::rank() - 1;
  const bool unit_stride =
      q_in.stride(last) == 1 && q_out.stride(last) == 1 && k_in.stride(last) == 1 && k_out.stride(last) == 1;
  const char* obstacle = vector_path_obstacle(q_in, q_out, k_in, k_out, cfg);
  switch (requested) {
    case KernelPath::automatic:
      if constexpr (is_host_execution_space_v<ExecutionSpace>)
        return unit_stride ? KernelPath::host_rows : KernelPath::lanes;
      else
        return obstacle == nullptr ? KernelPath::vector : KernelPath::lanes;
    case KernelPath::host_rows:
      if (!is_host_execution_space_v<ExecutionSpace>)
        throw_invalid_argument(where, "kernel_path host_rows needs a host execution space");
      if (!unit_stride)
        throw_invalid_argument(where, "kernel_path host_rows needs unit-stride head rows in q and k");
      return requested;
    case KernelPath::vector:
      if (obstacle != nullptr) throw_invalid_argument(where, std::string("kernel_path vector: ") + obstacle);
      return requested;
    case KernelPath::lanes:
      return requested;
  }
  return KernelPath::lanes;
}

inline const char* path_name(KernelPath path) {
  switch (path) {
    case KernelPath::host_rows:
      return "host_rows";
    case KernelPath::lanes:
      return "lanes";
    case KernelPath::vector:
      return "vector";
    case KernelPath::automatic:
      break;
  }
  return "automatic";
}

/// Team shape of the lanes and vector paths: what a GPU wants (lanes: a warp's lanes over
/// consecutive pairs, up to 8 warps over heads; vector: about 256 16-byte units per team, tokens
/// grouped where a token has fewer), within what the space allows. Host spaces run the lanes
/// path of strided Views on one-thread teams unless a path was forced.
struct TeamShape {
  int team_size = 1;
  int vector_length = 1;
  int tokens_per_team = 1;
};

/// Launches a team kernel over `tokens` tokens, shape.tokens_per_team per team, in launches of at
/// most INT_MAX teams (a league size is an int); each launch sets the kernel's m_token_offset to
/// its first token.
template <class Policy, class Kernel>
void launch_token_teams(const std::string& label, const typename Policy::execution_space& space, Kernel& kernel,
                        std::int64_t tokens, const TeamShape& shape, std::size_t scratch) {
  const std::int64_t per_team = shape.tokens_per_team;
  const std::int64_t per_launch = static_cast<std::int64_t>(INT_MAX) * per_team;
  for (std::int64_t first = 0; first < tokens; first += per_launch) {
    const std::int64_t count = std::min(per_launch, tokens - first);
    kernel.m_token_offset = first;
    Policy policy(space, static_cast<int>((count + per_team - 1) / per_team), shape.team_size, shape.vector_length);
    policy.set_scratch_size(0, Kokkos::PerTeam(scratch));
    Kokkos::parallel_for(label, policy, kernel);
  }
}

/// Launches the host_rows path of a kernel over `indices` indices (host execution spaces only):
/// one per token for the rotation, one per thread's share of the tokens for the serving kernel.
template <class ExecutionSpace, class Kernel>
void launch_host_rows(const std::string& label, const ExecutionSpace& space, const Kernel& kernel,
                      std::int64_t indices) {
  static_assert(is_host_execution_space_v<ExecutionSpace>, "host_rows runs on host execution spaces only");
  using policy = Kokkos::RangePolicy<ExecutionSpace, HostRowsTag, Kokkos::IndexType<std::int64_t>>;
  Kokkos::parallel_for(label, policy(space, 0, indices), kernel);
}

template <class ExecutionSpace>
TeamShape gpu_team_shape(const KernelConfig& cfg, int units_per_token) {
  TeamShape shape;
  if (cfg.path == KernelPath::vector) {
    constexpr int target = 256;
    shape.tokens_per_team =
        units_per_token >= target ? 1 : std::min(16, target / std::max(units_per_token, 1));
    const int units = shape.tokens_per_team * units_per_token;
    shape.team_size = std::min(target, (units + 31) / 32 * 32);
  } else {
    int lanes = 1;
    while (lanes < cfg.half && lanes < 32) lanes *= 2;
    const int heads = cfg.q_heads + cfg.k_heads;
    shape.vector_length = lanes;
    shape.team_size = heads < 1 ? 1 : (heads > 8 ? 8 : heads);
  }
  return shape;
}

/// What every rotating entry point checks and derives before its launch: the token and position
/// maps, the kernel configuration (all but the path, the tails and the team shape), and the
/// validation mode. `empty`: no token or no head, nothing to launch or check.
template <class Tokens, class PositionMap>
struct RotationSetup {
  Tokens tokens;
  PositionMap positions;
  KernelConfig cfg;
  Validation validation;
  bool empty;
};

template <class ExecutionSpace, class Layout, class QIn, class Source, class PositionsArg>
auto setup_rotation(const char* where, const ExecutionSpace& space, const Layout& layout, const QIn& q_in,
                    int k_heads, const Source& source, const PositionsArg& positions,
                    const RotateOptions& options) {
  using access = Access<Layout>;
  static_assert(positions_kind_v<PositionsArg> != PositionsKind::none,
                "KokkosRope::rotate: positions must be ImplicitPositions{}, sequence_offsets(v), "
                "token_positions(v), multimodal_positions(v, section) or context_parallel(shard[, v])");
  static_assert(Kokkos::SpaceAccessibility<ExecutionSpace, typename Source::memory_space>::accessible,
                "KokkosRope::rotate: the cos/sin source (Table, OnTheFly, CosSinViews) must live in a memory "
                "space accessible from the execution space");
  const int head_dim = access::dim(q_in);
  const int rotary_dim = source.rotary_dim();
  if (rotary_dim <= 0 || rotary_dim % 2 != 0)
    throw_invalid_argument(
        where, "rotary_dim " + std::to_string(rotary_dim) + " of the cos/sin source must be even and > 0");
  if (rotary_dim > head_dim)
    throw_invalid_argument(where, "rotary_dim " + std::to_string(rotary_dim) +
                                      " of the cos/sin source exceeds q head_dim " +
                                      std::to_string(head_dim));
  if constexpr (positions_kind_v<PositionsArg> == PositionsKind::multimodal)
    check_mrope_section(where, positions.section, rotary_dim / 2);
  const std::int64_t tokens = num_tokens<Layout>(q_in);
  const int q_heads = access::heads(q_in);
  if (static_cast<std::int64_t>(q_heads) + k_heads > INT_MAX / 2)
    throw_invalid_argument(where,
                           "too many heads: " + std::to_string(q_heads) + " + " + std::to_string(k_heads));

  const Validation validation = resolve_validation<ExecutionSpace>(options.validation);
  const bool before_kernel = validation == Validation::before_kernel;
  auto maps = make_maps(space, where, layout, positions, q_in, before_kernel);
  const bool empty = tokens == 0 || q_heads + k_heads == 0;  // nothing to do, nothing to check
  if (!empty && validation != Validation::none) {
    std::int64_t seq = 0;
    if constexpr (Layout::rank == 4) seq = access::seq(q_in);
    check_positions_on_host<Layout>(where, seq, maps.second, source.position_limit());
    if (before_kernel)
      check_positions<Layout>(space, where, tokens, maps.first, maps.second, source.position_limit());
  }

  KernelConfig cfg;
  cfg.num_tokens = tokens;
  cfg.position_limit = source.position_limit();
  cfg.half = rotary_dim / 2;
  cfg.head_dim = head_dim;
  cfg.q_heads = q_heads;
  cfg.k_heads = k_heads;
  cfg.interleaved = source.pair_style() == PairStyle::interleaved;
  cfg.backward = options.direction == Direction::backward;
  return RotationSetup<decltype(maps.first), decltype(maps.second)>{maps.first, maps.second, cfg, validation,
                                                                    empty};
}

/// The record type a call's status argument writes to (a default one's when there is none).
template <class ExecutionSpace, class Status>
using status_record_t =
    typename std::conditional_t<std::is_same_v<Status, NoStatus>, RotateStatus<typename ExecutionSpace::memory_space>,
                                Status>::record_type;

/// How the kernel reports a token that fails in-kernel validation: into the caller's status,
/// by aborting (no status), or not at all.
template <class ExecutionSpace, class Status>
TokenFlagger<status_record_t<ExecutionSpace, Status>> make_flagger(Validation validation, const Status& status) {
  using Record = status_record_t<ExecutionSpace, Status>;
  static_assert(Kokkos::SpaceAccessibility<ExecutionSpace, typename Record::memory_space>::accessible,
                "KokkosRope::rotate: the RotateStatus must live in a memory space accessible from the "
                "execution space");
  TokenFlagger<Record> flagger;
  if (validation == Validation::in_kernel) {
    if constexpr (std::is_same_v<Status, NoStatus>)
      flagger.m_mode = FlagMode::abort;
    else {
      flagger.m_record = status.record();
      flagger.m_mode = FlagMode::record;
    }
  }
  return flagger;
}

/// rotate_impl on the kernel views (kernel_view_t) of the tensors in a kernel order.
template <class ExecutionSpace, class Layout, class QIn, class QOut, class KIn, class KOut, class Source,
          class PositionsArg, class Status>
void rotate_kernel_views(const char* where, const ExecutionSpace& space, const Layout& layout, const QIn& q_in,
                         const QOut& q_out, const KIn& k_in, const KOut& k_out, int k_heads, const Source& source,
                         const PositionsArg& positions, const RotateOptions& options, const Status& status) {
  using Acc = std::conditional_t<std::is_same_v<typename QIn::non_const_value_type, double> ||
                                     std::is_same_v<typename KIn::non_const_value_type, double>,
                                 double, float>;
  Kokkos::Profiling::ScopedRegion region(std::string("KokkosRope::") + where);
  auto setup = setup_rotation(where, space, layout, q_in, k_heads, source, positions, options);
  const auto flagger = make_flagger<ExecutionSpace>(setup.validation, status);
  if (setup.empty) return;
  const std::int64_t tokens = setup.cfg.num_tokens;
  const int q_heads = setup.cfg.q_heads;
  const int rotary_dim = 2 * setup.cfg.half;
  const int head_dim = setup.cfg.head_dim;
  KernelConfig cfg = setup.cfg;
  // Each tensor on its own: q rotated in place while k goes to a cache still needs k's tail.
  cfg.copy_tail_q = rotary_dim < head_dim && q_in.data() != q_out.data();
  cfg.copy_tail_k = k_heads > 0 && rotary_dim < head_dim && k_in.data() != k_out.data();
  cfg.path = choose_path<ExecutionSpace>(where, options.kernel_path, q_in, q_out, k_in, k_out, cfg);
  using Record = status_record_t<ExecutionSpace, Status>;

  const std::string label = std::string("KokkosRope::") + where + "[" + path_name(cfg.path) + "]";

  source.visit([&](const auto& eval) {
    using Kernel = RotateKernel<ExecutionSpace, Layout, Acc, QIn, QOut, KIn, KOut,
                                std::decay_t<decltype(eval)>, std::decay_t<decltype(setup.tokens)>,
                                std::decay_t<decltype(setup.positions)>, TokenFlagger<Record>>;
    Kernel kernel{q_in, q_out, k_in, k_out, eval, setup.tokens, setup.positions, flagger, cfg, 0};
    if constexpr (is_host_execution_space_v<ExecutionSpace>) {  // never instantiated for a device
      if (cfg.path == KernelPath::host_rows) {
        launch_host_rows(label, space, kernel, tokens);
        return;
      }
    }
    using policy_type = typename Kernel::team_policy;
    const int units_per_token = q_heads * kernel.template units_per_row<QOut>(cfg.copy_tail_q) +
                                k_heads * kernel.template units_per_row<KOut>(cfg.copy_tail_k);
    TeamShape shape;
    if (!is_host_execution_space_v<ExecutionSpace> || options.kernel_path != KernelPath::automatic)
      shape = gpu_team_shape<ExecutionSpace>(cfg, units_per_token);
    // Scratch within the space's per-team limit: fewer tokens per team, then no staging at all
    // (each lane evaluates its own cos/sin) for rotary dimensions too large to stage.
    const std::size_t limit = static_cast<std::size_t>(policy_type::scratch_size_max(0));
    while (shape.tokens_per_team > 1 && Kernel::scratch_bytes(shape.tokens_per_team, cfg.half, true) > limit)
      shape.tokens_per_team /= 2;
    kernel.m_cfg.tokens_per_team = shape.tokens_per_team;
    kernel.m_cfg.use_scratch = Kernel::scratch_bytes(shape.tokens_per_team, cfg.half, true) <= limit;
    const std::size_t scratch =
        Kernel::scratch_bytes(shape.tokens_per_team, cfg.half, kernel.m_cfg.use_scratch);
    {
      policy_type probe(space, 1, 1, 1);
      probe.set_scratch_size(0, Kokkos::PerTeam(scratch));
      shape.vector_length = std::min(shape.vector_length, policy_type::vector_length_max());
      shape.team_size =
          std::max(1, std::min(shape.team_size, probe.team_size_max(kernel, Kokkos::ParallelForTag())));
    }
    launch_token_teams<policy_type>(label, space, kernel, tokens, shape, scratch);
  });
}

/// Every rotate / rotate_copy: the tensors as kernel views, then the checks and the launch.
template <class ExecutionSpace, class Layout, class QIn, class QOut, class KIn, class KOut, class Source,
          class PositionsArg, class Status = NoStatus>
void rotate_impl(const char* where, const ExecutionSpace& space, const Layout& layout, const QIn& q_in,
                 const QOut& q_out, const KIn& k_in, const KOut& k_out, int k_heads, const Source& source,
                 const PositionsArg& positions, const RotateOptions& options, const Status& status = {}) {
  using access = Access<Layout>;
  rotate_kernel_views(where, space, KernelOrder<Layout>::of(layout),
                      access::template kernel_view<const typename QIn::non_const_value_type>(q_in),
                      access::template kernel_view<typename QOut::value_type>(q_out),
                      access::template kernel_view<const typename KIn::non_const_value_type>(k_in),
                      access::template kernel_view<typename KOut::value_type>(k_out), k_heads, source, positions,
                      options, status);
}

}  // namespace KokkosRope::Impl

#endif
