// SPDX-License-Identifier: Apache-2.0
/// \file RotateAndCache.hpp
/// Serving steps in one pass: rotate q (in place or into q_out) and k, and write the rotated k and
/// the untouched v of each new token into a paged KV cache (KvCache.hpp), for prefill and decode,
/// with an optional per-head QK norm (Qwen3, Gemma 3) in front of the rotation and fp8 caches
/// with per-tensor scales. q, k and v are read once: a rotation followed by a separate copy into
/// the cache reads k twice and writes it twice.
///
/// Every stored value is rounded to the input's element type first, so the result is bitwise a
/// rotation (after the norm) followed by a copy into the cache. k and v are read, never written.
/// Like `rotate`, every entry point takes the instance first and never waits for a device
/// execution space: a slot past the cache is then flagged in the RotateStatus (StatusReason
/// slot_past_cache) and the token skipped; on host spaces it is an InvalidArgument before
/// anything is written. Padding tokens (a negative slot of slot_mapping) have q rotated and
/// nothing cached. Two tokens given the same slot race, as in every paged-cache writer.
/// On x86 hosts built for AVX512-BF16, launches of at least 16 tokens per thread write the cache
/// rows with streaming (non-temporal) stores where the rows are 64-byte aligned: the step never
/// reads them back, and such stores skip the read of each line a store first fetches, so the
/// new rows are in memory, not in the CPU's caches, once the step completes.
#ifndef KOKKOSROPE_ROTATEANDCACHE_HPP
#define KOKKOSROPE_ROTATEANDCACHE_HPP

#include <KokkosRope/KvCache.hpp>
#include <KokkosRope/Layouts.hpp>
#include <KokkosRope/Options.hpp>
#include <KokkosRope/Positions.hpp>
#include <KokkosRope/Sources.hpp>
#include <KokkosRope/Status.hpp>
#include <KokkosRope/impl/KokkosRope_CacheLaunch.hpp>

#include <type_traits>

namespace KokkosRope {

/// Rotates q in place and writes the rotated k and v into the cache, in one launch.
/// \param space the instance every kernel of the call runs on
/// \param layout the tensor order of q, k and v: `bshd`, `bhsd`, `packed()` or `packed(cu_seqlens)`
/// \param q non-const View [.., q_heads, head_dim], rotated in place
/// \param k View [.., kv_heads, head_dim] of q's tokens (may be const), read only
/// \param v View [.., kv_heads, v_head_dim] of q's tokens, read only
/// \param cache paged_kv_cache(order, k_cache, v_cache[, k_scale, v_scale]) with kv_heads heads,
///        head_dim and v_head_dim
/// \param slots slot_mapping(slots) or block_table_slots(block_table, cache_lengths)
/// \param source Table, OnTheFly or CosSinViews
/// \param positions ImplicitPositions{}, sequence_offsets(v), token_positions(v),
///        multimodal_positions(v, section) or context_parallel(shard[, v]): the rotation's
///        positions (the cache position comes from the slots)
/// \param options direction, validation, kernel path (automatic, host_rows or lanes)
/// \param status where in-kernel validation flags skipped tokens (Status.hpp)
/// \throws InvalidArgument for inconsistent shapes, scales or paths, and (with
///         Validation::before_kernel, the default on host spaces) positions past the source or
///         slots past the cache, before anything is written
template <
    class ExecutionSpace, class Layout, class QView, class KView, class VView, class Order, class KCache,
    class VCache, class Slots, class Source, class Positions = ImplicitPositions,
    class Status = Impl::NoStatus,
    std::enable_if_t<Kokkos::is_view_v<QView> && is_cos_sin_source_v<Source> && Impl::is_status_arg_v<Status>,
                     int> = 0>
void rotate_and_cache(const ExecutionSpace& space, const Layout& layout, const QView& q, const KView& k,
                      const VView& v, const PagedKvCache<Order, KCache, VCache>& cache, const Slots& slots,
                      const Source& source, const Positions& positions = {},
                      const RotateOptions& options = {}, const Status& status = {}) {
  Impl::rotate_and_cache_impl("rotate_and_cache", space, layout, q, q, k, v, cache, slots, Impl::NoNorm{},
                              source, positions, options, status);
}

/// As above with the QK norm in front: q and k heads RMS-normalised, then rotated, in one pass.
/// \param space the instance every kernel of the call runs on
/// \param layout the tensor order of q, k and v
/// \param norm qk_norm(q_weight, k_weight, epsilon, weight style)
/// \param q non-const View, normalised and rotated in place
/// \param k View of q's tokens, read only
/// \param v View of q's tokens, read only
/// \param cache the paged KV cache
/// \param slots slot_mapping(slots) or block_table_slots(block_table, cache_lengths)
/// \param source Table, OnTheFly or CosSinViews
/// \param positions the rotation's positions
/// \param options direction, validation, kernel path
/// \param status where in-kernel validation flags skipped tokens
template <
    class ExecutionSpace, class Layout, class QWeight, class KWeight, class QView, class KView, class VView,
    class Order, class KCache, class VCache, class Slots, class Source, class Positions = ImplicitPositions,
    class Status = Impl::NoStatus,
    std::enable_if_t<Kokkos::is_view_v<QView> && is_cos_sin_source_v<Source> && Impl::is_status_arg_v<Status>,
                     int> = 0>
void rotate_and_cache(const ExecutionSpace& space, const Layout& layout, const QkNorm<QWeight, KWeight>& norm,
                      const QView& q, const KView& k, const VView& v,
                      const PagedKvCache<Order, KCache, VCache>& cache, const Slots& slots,
                      const Source& source, const Positions& positions = {},
                      const RotateOptions& options = {}, const Status& status = {}) {
  Impl::rotate_and_cache_impl("rotate_and_cache", space, layout, q, q, k, v, cache, slots, norm, source,
                              positions, options, status);
}

/// Out of place for q: q_out = RoPE(q_in); k and v into the cache, in one launch.
/// \param space the instance every kernel of the call runs on
/// \param layout the tensor order of q, k and v
/// \param q_in View [.., q_heads, head_dim], may be const
/// \param q_out non-const View of q_in's extents, not overlapping q_in
/// \param k View of q's tokens, read only
/// \param v View of q's tokens, read only
/// \param cache the paged KV cache
/// \param slots slot_mapping(slots) or block_table_slots(block_table, cache_lengths)
/// \param source Table, OnTheFly or CosSinViews
/// \param positions the rotation's positions
/// \param options direction, validation, kernel path
/// \param status where in-kernel validation flags skipped tokens
template <
    class ExecutionSpace, class Layout, class QIn, class QOut, class KView, class VView, class Order,
    class KCache, class VCache, class Slots, class Source, class Positions = ImplicitPositions,
    class Status = Impl::NoStatus,
    std::enable_if_t<Kokkos::is_view_v<QIn> && is_cos_sin_source_v<Source> && Impl::is_status_arg_v<Status>,
                     int> = 0>
void rotate_copy_and_cache(const ExecutionSpace& space, const Layout& layout, const QIn& q_in,
                           const QOut& q_out, const KView& k, const VView& v,
                           const PagedKvCache<Order, KCache, VCache>& cache, const Slots& slots,
                           const Source& source, const Positions& positions = {},
                           const RotateOptions& options = {}, const Status& status = {}) {
  Impl::rotate_and_cache_impl("rotate_copy_and_cache", space, layout, q_in, q_out, k, v, cache, slots,
                              Impl::NoNorm{}, source, positions, options, status);
}

/// Out of place for q, with the QK norm in front.
/// \param space the instance every kernel of the call runs on
/// \param layout the tensor order of q, k and v
/// \param norm qk_norm(q_weight, k_weight, epsilon, weight style)
/// \param q_in View [.., q_heads, head_dim], may be const
/// \param q_out non-const View of q_in's extents, not overlapping q_in
/// \param k View of q's tokens, read only
/// \param v View of q's tokens, read only
/// \param cache the paged KV cache
/// \param slots slot_mapping(slots) or block_table_slots(block_table, cache_lengths)
/// \param source Table, OnTheFly or CosSinViews
/// \param positions the rotation's positions
/// \param options direction, validation, kernel path
/// \param status where in-kernel validation flags skipped tokens
template <
    class ExecutionSpace, class Layout, class QWeight, class KWeight, class QIn, class QOut, class KView,
    class VView, class Order, class KCache, class VCache, class Slots, class Source,
    class Positions = ImplicitPositions, class Status = Impl::NoStatus,
    std::enable_if_t<Kokkos::is_view_v<QIn> && is_cos_sin_source_v<Source> && Impl::is_status_arg_v<Status>,
                     int> = 0>
void rotate_copy_and_cache(const ExecutionSpace& space, const Layout& layout,
                           const QkNorm<QWeight, KWeight>& norm, const QIn& q_in, const QOut& q_out,
                           const KView& k, const VView& v, const PagedKvCache<Order, KCache, VCache>& cache,
                           const Slots& slots, const Source& source, const Positions& positions = {},
                           const RotateOptions& options = {}, const Status& status = {}) {
  Impl::rotate_and_cache_impl("rotate_copy_and_cache", space, layout, q_in, q_out, k, v, cache, slots, norm,
                              source, positions, options, status);
}

}  // namespace KokkosRope

#endif
