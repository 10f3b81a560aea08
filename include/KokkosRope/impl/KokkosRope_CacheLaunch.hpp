// SPDX-License-Identifier: Apache-2.0
// From a rotate_and_cache call to the launch of the serving kernel: the rotation's own checks and
// maps (setup_rotation), then the cache's and slots' extents, the fp8 scales and the norm, the
// slots on the host where that is free, the path, and one launch per source evaluator.
#ifndef KOKKOSROPE_IMPL_CACHELAUNCH_HPP
#define KOKKOSROPE_IMPL_CACHELAUNCH_HPP

#include <KokkosRope/BFloat16.hpp>
#include <KokkosRope/Fp8.hpp>
#include <KokkosRope/KvCache.hpp>
#include <KokkosRope/impl/KokkosRope_CacheKernel.hpp>
#include <KokkosRope/impl/KokkosRope_Launch.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdint>
#include <string>
#include <type_traits>

namespace KokkosRope::Impl {

/// Element types a cache may hold.
template <class T>
inline constexpr bool is_cache_element_v =
    std::is_same_v<T, float> || std::is_same_v<T, double> ||
    std::is_same_v<T, Kokkos::Experimental::half_t> || std::is_same_v<T, bfloat16> || is_float8_v<T>;

/// The first token whose slot is past the cache (val: token, loc: slot), for before_kernel.
template <class Tokens, class SlotMap>
struct SlotCheck {
  using value_type = typename Kokkos::MinLoc<std::int64_t, std::int64_t>::value_type;
  Tokens m_tokens;
  SlotMap m_slots;
  std::int64_t m_capacity;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t g, value_type& first) const {
    const std::int64_t slot = m_slots(m_tokens(g));
    if (slot >= m_capacity && g < first.val) {
      first.val = g;
      first.loc = slot;
    }
  }
};

/// The slot map of a slots descriptor, its extents checked.
template <class ExecutionSpace, class Layout, class SlotView>
SlotMappingMap<SlotView> make_slot_map(const char* where, const SlotMapping<SlotView>& slots,
                                       std::int64_t tokens, std::int64_t /*batch*/,
                                       std::int64_t /*block_size*/, std::int64_t /*num_blocks*/) {
  static_assert(
      is_index_view_v<ExecutionSpace, SlotView>,
      "KokkosRope::slot_mapping: slots must be an integer View accessible from the execution space");
  if (static_cast<std::int64_t>(slots.slots.extent(0)) != tokens)
    throw_invalid_argument(where, "slot_mapping has " + std::to_string(slots.slots.extent(0)) +
                                      " entries, q has " + std::to_string(tokens) + " tokens");
  return {slots.slots};
}

template <class ExecutionSpace, class Layout, class BlockTable, class CacheLengths>
BlockTableMap<BlockTable, CacheLengths> make_slot_map(const char* where,
                                                      const BlockTableSlots<BlockTable, CacheLengths>& slots,
                                                      std::int64_t /*tokens*/, std::int64_t batch,
                                                      std::int64_t block_size, std::int64_t num_blocks) {
  static_assert(
      is_index_view_v<ExecutionSpace, BlockTable> && is_index_view_v<ExecutionSpace, CacheLengths>,
      "KokkosRope::block_table_slots: block_table and cache_lengths must be integer Views accessible "
      "from the execution space");
  if (static_cast<std::int64_t>(slots.block_table.extent(0)) != batch)
    throw_invalid_argument(where, "block_table has " + std::to_string(slots.block_table.extent(0)) +
                                      " rows, batch is " + std::to_string(batch));
  if (static_cast<std::int64_t>(slots.cache_lengths.extent(0)) != batch)
    throw_invalid_argument(where, "cache_lengths has " + std::to_string(slots.cache_lengths.extent(0)) +
                                      " entries, batch is " + std::to_string(batch));
  return {slots.block_table, slots.cache_lengths, block_size, num_blocks};
}

template <class T>
inline constexpr bool is_slot_mapping_v = false;
template <class S>
inline constexpr bool is_slot_mapping_v<SlotMapping<S>> = true;
template <class T>
inline constexpr bool is_slots_arg_v = false;
template <class S>
inline constexpr bool is_slots_arg_v<SlotMapping<S>> = true;
template <class B, class L>
inline constexpr bool is_slots_arg_v<BlockTableSlots<B, L>> = true;

/// The norm as the kernel holds it, its weights and epsilon checked.
template <class ExecutionSpace>
NoNorm make_norm(const char*, const NoNorm& norm, int) {
  return norm;
}
template <class ExecutionSpace, class QWeight, class KWeight>
NormWeights<QWeight, KWeight> make_norm(const char* where, const QkNorm<QWeight, KWeight>& norm,
                                        int head_dim) {
  static_assert(Kokkos::SpaceAccessibility<ExecutionSpace, typename QWeight::memory_space>::accessible &&
                    Kokkos::SpaceAccessibility<ExecutionSpace, typename KWeight::memory_space>::accessible,
                "KokkosRope::qk_norm: the weights must be accessible from the execution space");
  if (static_cast<std::int64_t>(norm.q_weight.extent(0)) != head_dim)
    throw_invalid_argument(where, "qk_norm q_weight has " + std::to_string(norm.q_weight.extent(0)) +
                                      " entries, head_dim is " + std::to_string(head_dim));
  if (static_cast<std::int64_t>(norm.k_weight.extent(0)) != head_dim)
    throw_invalid_argument(where, "qk_norm k_weight has " + std::to_string(norm.k_weight.extent(0)) +
                                      " entries, head_dim is " + std::to_string(head_dim));
  if (!(norm.epsilon > 0.0f) || !std::isfinite(norm.epsilon))
    throw_invalid_argument(where,
                           "qk_norm epsilon " + std::to_string(norm.epsilon) + " must be finite and > 0");
  return {norm.q_weight, norm.k_weight, norm.epsilon, norm.weight == NormWeight::offset_one};
}

/// A cache's scale: finite and > 0 for fp8 element types, exactly 1 for the others.
template <class T>
void check_cache_scale(const char* where, const char* name, float scale) {
  if constexpr (is_float8_v<T>) {
    if (!(scale > 0.0f) || !std::isfinite(scale))
      throw_invalid_argument(
          where, std::string(name) + " " + std::to_string(scale) + " of an fp8 cache must be finite and > 0");
  } else if (scale != 1.0f) {
    throw_invalid_argument(where, std::string(name) + " " + std::to_string(scale) +
                                      " given for a cache that is not fp8 (scales apply to fp8 caches only)");
  }
}

/// A paged cache past the entry point: its Views, scales and block order.
template <class KCache, class VCache>
struct CacheViews {
  KCache k;
  VCache v;
  float k_scale;
  float v_scale;
  CacheOrder order;
};

/// rotate_and_cache_impl on the kernel views of q, k and v (kernel_view_t) in a kernel order.
template <class ExecutionSpace, class Layout, class QIn, class QOut, class KIn, class VIn, class KCache,
          class VCache, class SlotsArg, class NormArg, class Source, class PositionsArg, class Status>
void rotate_and_cache_kernel_views(const char* where, const ExecutionSpace& space, const Layout& layout,
                                   const QIn& q_in, const QOut& q_out, const KIn& k, const VIn& v,
                                   const CacheViews<KCache, VCache>& cache, const SlotsArg& slots,
                                   const NormArg& norm, const Source& source, const PositionsArg& positions,
                                   const RotateOptions& options, const Status& status) {
  using access = Access<Layout>;
  using KC = typename KCache::non_const_value_type;
  using VC = typename VCache::non_const_value_type;
  Kokkos::Profiling::ScopedRegion region(std::string("KokkosRope::") + where);

  // Shapes: k and v with q's tokens, the same kv heads; the cache's heads and head dims theirs.
  check_same_tokens<Layout>(where, "q", q_in, "k", k);
  bool v_tokens_differ = num_tokens<Layout>(v) != num_tokens<Layout>(q_in);
  if constexpr (Layout::rank == 4)
    v_tokens_differ = v_tokens_differ || access::batch(v) != access::batch(q_in);
  if (v_tokens_differ)
    throw_invalid_argument(where, "v has " + std::to_string(num_tokens<Layout>(v)) + " tokens, q has " +
                                      std::to_string(num_tokens<Layout>(q_in)));
  check_same_shape<Layout>(where, "q_in", q_in, "q_out", q_out);
  const int kv_heads = access::heads(k);
  if (access::heads(v) != kv_heads)
    throw_invalid_argument(
        where, "v has " + std::to_string(access::heads(v)) + " heads, k has " + std::to_string(kv_heads));
  const std::string order = cache.order.name();
  for (int r = 0; r < 3; ++r)
    if (cache.v.extent(r) != cache.k.extent(r))
      throw_invalid_argument(where, "cache v extent(" + std::to_string(r) + ") = " +
                                        std::to_string(cache.v.extent(r)) + " differs from cache k's " +
                                        std::to_string(cache.k.extent(r)) + " (" + order + " order)");
  if (cache.order.heads(cache.k) != kv_heads)
    throw_invalid_argument(where, "cache has " + std::to_string(cache.order.heads(cache.k)) +
                                      " kv heads (" + order + " order), k has " + std::to_string(kv_heads));
  if (static_cast<int>(cache.k.extent(3)) != access::dim(k))
    throw_invalid_argument(where, "cache k head_dim " + std::to_string(cache.k.extent(3)) +
                                      " differs from k's " + std::to_string(access::dim(k)));
  if (static_cast<int>(cache.v.extent(3)) != access::dim(v))
    throw_invalid_argument(where, "cache v head_dim " + std::to_string(cache.v.extent(3)) +
                                      " differs from v's " + std::to_string(access::dim(v)));
  const std::int64_t block_size = cache.order.block_size(cache.k);
  const auto num_blocks = static_cast<std::int64_t>(cache.k.extent(0));
  if (block_size < 1) throw_invalid_argument(where, "cache block_size is 0 (" + order + " order)");
  check_cache_scale<KC>(where, "k_scale", cache.k_scale);
  check_cache_scale<VC>(where, "v_scale", cache.v_scale);

  auto setup = setup_rotation(where, space, layout, q_in, kv_heads, source, positions, options);
  const auto flagger = make_flagger<ExecutionSpace>(setup.validation, status);
  const std::int64_t batch = [&]() -> std::int64_t {
    if constexpr (Layout::rank == 4)
      return access::batch(q_in);
    else if constexpr (std::is_same_v<Layout, Packed<void>>)
      return 1;
    else
      return static_cast<std::int64_t>(layout.cu_seqlens.extent(0)) - 1;
  }();
  const auto slot_map = make_slot_map<ExecutionSpace, Layout>(where, slots, setup.cfg.num_tokens, batch,
                                                              block_size, num_blocks);
  const auto norm_map = make_norm<ExecutionSpace>(where, norm, setup.cfg.head_dim);
  if (setup.empty) return;

  CacheConfig cache_cfg;
  cache_cfg.capacity = num_blocks * block_size;
  cache_cfg.block_size = block_size;
  cache_cfg.v_dim = access::dim(v);
  cache_cfg.k_scale = cache.k_scale;
  cache_cfg.v_scale = cache.v_scale;
  cache_cfg.head_major = cache.order.head_major;
  if (setup.validation == Validation::before_kernel) {
    using Check = SlotCheck<decltype(setup.tokens), decltype(slot_map)>;
    typename Check::value_type first{};
    validation_reduce("KokkosRope::check_slots", space, setup.cfg.num_tokens,
                      Check{setup.tokens, slot_map, cache_cfg.capacity},
                      Kokkos::MinLoc<std::int64_t, std::int64_t>(first));
    if (first.val < setup.cfg.num_tokens) {
      if constexpr (is_slot_mapping_v<SlotsArg>)
        throw_invalid_argument(where, "slot_mapping: token " + std::to_string(first.val) + " has slot " +
                                          std::to_string(first.loc) + ", past the cache's " +
                                          std::to_string(cache_cfg.capacity) + " slots (" +
                                          std::to_string(num_blocks) + " blocks of " +
                                          std::to_string(block_size) + ")");
      else
        throw_invalid_argument(where,
                               "block_table_slots: token " + std::to_string(first.val) +
                                   " has no block (its cache position cache_lengths(b) + s is negative or "
                                   "past the block table's " +
                                   std::to_string(slots.block_table.extent(1)) +
                                   " blocks per sequence, or its entry is < 0 or >= the cache's " +
                                   std::to_string(num_blocks) + " blocks)");
    }
  }

  KernelConfig cfg = setup.cfg;
  const auto unit = [](const auto& view) {
    return view.stride(std::decay_t<decltype(view)>::rank() - 1) == 1;
  };
  const bool unit_stride = unit(q_in) && unit(q_out) && unit(k) && unit(v) && unit(cache.k) && unit(cache.v);
  const bool host_rows_fit = unit_stride && cfg.half <= cache_host_pairs && cfg.head_dim <= cache_host_dim;
  switch (options.kernel_path) {
    case KernelPath::automatic:
      cfg.path = is_host_execution_space_v<ExecutionSpace> && host_rows_fit ? KernelPath::host_rows
                                                                            : KernelPath::lanes;
      break;
    case KernelPath::host_rows:
      if (!is_host_execution_space_v<ExecutionSpace>)
        throw_invalid_argument(where, "kernel_path host_rows needs a host execution space");
      if (!unit_stride)
        throw_invalid_argument(where,
                               "kernel_path host_rows needs unit-stride head rows in q, k, v and the cache");
      if (!host_rows_fit)
        throw_invalid_argument(
            where, "kernel_path host_rows takes rotary_dim <= " + std::to_string(2 * cache_host_pairs) +
                       " and head_dim <= " + std::to_string(cache_host_dim) + ", the source has rotary_dim " +
                       std::to_string(2 * cfg.half) + ", q head_dim " + std::to_string(cfg.head_dim));
      cfg.path = KernelPath::host_rows;
      break;
    case KernelPath::vector:
      throw_invalid_argument(where,
                             "kernel_path vector is not available for rotate_and_cache (lanes is its "
                             "team path)");
    case KernelPath::lanes:
      cfg.path = KernelPath::lanes;
      break;
  }

  using Acc = std::conditional_t<std::is_same_v<typename QIn::non_const_value_type, double> ||
                                     std::is_same_v<typename KIn::non_const_value_type, double>,
                                 double, float>;
  const std::string label = std::string("KokkosRope::") + where + "[" + path_name(cfg.path) + "]";
  source.visit([&](const auto& eval) {
    using Kernel =
        RotateCacheKernel<ExecutionSpace, Layout, Acc, QIn, QOut, KIn, VIn, KCache, VCache,
                          std::decay_t<decltype(eval)>, std::decay_t<decltype(setup.tokens)>,
                          std::decay_t<decltype(setup.positions)>, std::decay_t<decltype(slot_map)>,
                          std::decay_t<decltype(norm_map)>, std::decay_t<decltype(flagger)>>;
    Kernel kernel{q_in,     q_out,    k,       v,   cache.k,   cache.v, eval, setup.tokens, setup.positions,
                  slot_map, norm_map, flagger, cfg, cache_cfg, 0};
    const std::int64_t tokens = cfg.num_tokens;
    if constexpr (is_host_execution_space_v<ExecutionSpace>) {  // never instantiated for a device
      if (cfg.path == KernelPath::host_rows) {
        // One index per thread's share of the tokens: each thread then orders its streaming
        // cache stores once (a fence per token would wait for every token's stores).
        const std::int64_t threads = std::max<std::int64_t>(1, space.concurrency());
        const std::int64_t per_index = (tokens + threads - 1) / threads;
        kernel.m_tokens_per_index = per_index;
        kernel.m_cache.streaming = per_index >= streaming_min_tokens;
        launch_host_rows(label, space, kernel, (tokens + per_index - 1) / per_index);
        return;
      }
    }
    using policy_type = typename Kernel::team_policy;
    const std::size_t limit = static_cast<std::size_t>(policy_type::scratch_size_max(0));
    kernel.m_cfg.use_scratch = Kernel::scratch_bytes(cfg.half, true) <= limit;
    const std::size_t scratch = Kernel::scratch_bytes(cfg.half, kernel.m_cfg.use_scratch);
    TeamShape shape;
    if (!is_host_execution_space_v<ExecutionSpace> || options.kernel_path != KernelPath::automatic) {
      KernelConfig rows = cfg;  // the lanes shape of the rotation, over q, k and v rows
      rows.k_heads = 2 * cfg.k_heads;
      shape = gpu_team_shape<ExecutionSpace>(rows, 0);
      shape.vector_length = std::min(shape.vector_length, policy_type::vector_length_max());
      policy_type probe(space, 1, 1, shape.vector_length);
      probe.set_scratch_size(0, Kokkos::PerTeam(scratch));
      shape.team_size =
          std::max(1, std::min(shape.team_size, probe.team_size_max(kernel, Kokkos::ParallelForTag())));
    }
    launch_token_teams<policy_type>(label, space, kernel, tokens, shape, scratch);
  });
}

/// Every rotate_and_cache / rotate_copy_and_cache: the static checks, then q, k and v as kernel
/// views and the cache's block order as a run-time value.
template <class ExecutionSpace, class Layout, class QIn, class QOut, class KIn, class VIn, class Order,
          class KCache, class VCache, class SlotsArg, class NormArg, class Source, class PositionsArg,
          class Status>
void rotate_and_cache_impl(const char* where, const ExecutionSpace& space, const Layout& layout,
                           const QIn& q_in, const QOut& q_out, const KIn& k, const VIn& v,
                           const PagedKvCache<Order, KCache, VCache>& cache, const SlotsArg& slots,
                           const NormArg& norm, const Source& source, const PositionsArg& positions,
                           const RotateOptions& options, const Status& status) {
  using KC = typename KCache::non_const_value_type;
  using VC = typename VCache::non_const_value_type;
  static_check_view<ExecutionSpace, Layout, QIn>();
  static_check_view<ExecutionSpace, Layout, QOut>();
  static_check_view<ExecutionSpace, Layout, KIn>();
  static_check_view<ExecutionSpace, Layout, VIn>();
  static_assert(is_mutable_view_v<QOut>, "KokkosRope::rotate_and_cache: q (q_out) must be a non-const View");
  static_assert(std::is_same_v<typename QIn::non_const_value_type, typename QOut::non_const_value_type>,
                "KokkosRope::rotate_and_cache: q_in and q_out must hold the same element type");
  static_assert(is_mutable_view_v<KCache> && is_mutable_view_v<VCache>,
                "KokkosRope::rotate_and_cache: the cache's k and v must be non-const Views");
  static_assert(Kokkos::SpaceAccessibility<ExecutionSpace, typename KCache::memory_space>::accessible &&
                    Kokkos::SpaceAccessibility<ExecutionSpace, typename VCache::memory_space>::accessible,
                "KokkosRope::rotate_and_cache: the cache must be accessible from the execution space");
  static_assert(is_cache_element_v<KC> && is_cache_element_v<VC>,
                "KokkosRope::rotate_and_cache: a cache holds float, double, half, bfloat16, float8_e4m3 or "
                "float8_e5m2");
  static_assert(
      is_slots_arg_v<SlotsArg>,
      "KokkosRope::rotate_and_cache: slots must be slot_mapping(v) or block_table_slots(table, lengths)");
  using access = Access<Layout>;
  rotate_and_cache_kernel_views(where, space, KernelOrder<Layout>::of(layout),
                                access::template kernel_view<const typename QIn::non_const_value_type>(q_in),
                                access::template kernel_view<typename QOut::value_type>(q_out),
                                access::template kernel_view<const typename KIn::non_const_value_type>(k),
                                access::template kernel_view<const typename VIn::non_const_value_type>(v),
                                CacheViews<KCache, VCache>{cache.k, cache.v, cache.k_scale, cache.v_scale,
                                                           CacheOrder{std::is_same_v<Order, CacheHND>}},
                                slots, norm, source, positions, options, status);
}

}  // namespace KokkosRope::Impl

#endif
