// SPDX-License-Identifier: Apache-2.0
/// \file KvCache.hpp
/// What the serving kernels of RotateAndCache.hpp write to and how: a paged KV cache (its block
/// order, element type and fp8 scales), where each new token goes in it (a slot per token, or a
/// block table and the cache lengths), and the optional QK norm in front of the rotation.
#ifndef KOKKOSROPE_KVCACHE_HPP
#define KOKKOSROPE_KVCACHE_HPP

#include <KokkosRope/impl/KokkosRope_Compat.hpp>

#include <type_traits>

namespace KokkosRope {

/// Paged cache blocks as [num_blocks, block_size, kv_heads, head_dim] (vLLM's and FlashInfer's
/// NHD order: a token's heads are contiguous).
struct CacheNHD {};
/// Paged cache blocks as [num_blocks, kv_heads, block_size, head_dim] (HND: a head's tokens of a
/// block are contiguous).
struct CacheHND {};
inline constexpr CacheNHD cache_nhd{};  ///< the NHD block order
inline constexpr CacheHND cache_hnd{};  ///< the HND block order

/// A paged KV cache: k and v blocks of the same extents in one block order.
/// \tparam Order CacheNHD or CacheHND
/// \tparam KCache non-const rank-4 View of float, double, half, bfloat16, float8_e4m3 or float8_e5m2
/// \tparam VCache as KCache (its element type may differ from k's)
template <class Order, class KCache, class VCache>
struct PagedKvCache {
  KCache k;           ///< the key blocks
  VCache v;           ///< the value blocks
  float k_scale = 1;  ///< fp8 caches: a stored key is key / k_scale (1 for other element types)
  float v_scale = 1;  ///< fp8 caches: a stored value is value / v_scale
};

/// A paged KV cache.
/// \param order cache_nhd or cache_hnd
/// \param k key blocks, non-const rank-4 View accessible from the serving call's execution space
/// \param v value blocks, the same extents as k
/// \param k_scale per-tensor scale of an fp8 key cache (stored = key / k_scale); must be 1 otherwise
/// \param v_scale per-tensor scale of an fp8 value cache
/// \return the cache descriptor
template <class Order, class KCache, class VCache>
PagedKvCache<Order, KCache, VCache> paged_kv_cache(Order order, const KCache& k, const VCache& v,
                                                   float k_scale = 1, float v_scale = 1) {
  static_assert(std::is_same_v<Order, CacheNHD> || std::is_same_v<Order, CacheHND>,
                "KokkosRope::paged_kv_cache: the order must be cache_nhd or cache_hnd");
  static_assert(
      Kokkos::is_view_v<KCache> && Kokkos::is_view_v<VCache> && KCache::rank() == 4 && VCache::rank() == 4,
      "KokkosRope::paged_kv_cache: k and v must be rank-4 Views");
  (void)order;
  return {k, v, k_scale, v_scale};
}

/// One cache slot per new token: `block * block_size + offset`; a negative slot marks a padding
/// token, whose k and v are not written (vLLM's slot_mapping).
/// \tparam SlotView rank-1 integer View of the tokens in flat order (b * seq + s for bshd/bhsd)
template <class SlotView>
struct SlotMapping {
  SlotView slots;  ///< the slot of each token
};

/// Slots from a block table: token s of sequence b goes to logical index
/// p = cache_lengths(b) + s of that sequence, i.e. block block_table(b, p / block_size), offset
/// p % block_size.
/// \tparam BlockTable rank-2 integer View [batch][max_blocks_per_sequence]
/// \tparam CacheLengths rank-1 integer View [batch]: tokens already cached before this call
template <class BlockTable, class CacheLengths>
struct BlockTableSlots {
  BlockTable block_table;      ///< the physical block of each logical block of each sequence
  CacheLengths cache_lengths;  ///< tokens of each sequence already in the cache
};

/// A slot per token.
/// \param slots rank-1 integer View [tokens] (flat token order), accessible from the serving
///        call's execution space; negative: padding, not cached
/// \return the slots descriptor
template <class SlotView>
SlotMapping<SlotView> slot_mapping(const SlotView& slots) {
  static_assert(Kokkos::is_view_v<SlotView> && SlotView::rank() == 1,
                "KokkosRope::slot_mapping: slots must be a rank-1 View");
  return {slots};
}

/// Slots from a block table and the cache lengths.
/// \param block_table rank-2 integer View [batch][max_blocks_per_sequence]
/// \param cache_lengths rank-1 integer View [batch], the tokens each sequence had cached before
/// \return the slots descriptor
template <class BlockTable, class CacheLengths>
BlockTableSlots<BlockTable, CacheLengths> block_table_slots(const BlockTable& block_table,
                                                            const CacheLengths& cache_lengths) {
  static_assert(Kokkos::is_view_v<BlockTable> && BlockTable::rank() == 2,
                "KokkosRope::block_table_slots: block_table must be a rank-2 View");
  static_assert(Kokkos::is_view_v<CacheLengths> && CacheLengths::rank() == 1,
                "KokkosRope::block_table_slots: cache_lengths must be a rank-1 View");
  return {block_table, cache_lengths};
}

/// How an RMSNorm applies its weight.
enum class NormWeight {
  scale,      ///< Qwen3: w * round(x / rms) (the normalised value rounded to x's type first)
  offset_one  ///< Gemma 3: round(x / rms * (1 + w)), in float
};

/// Per-head RMSNorm of q and k in front of the rotation (Qwen3's q_norm / k_norm, Gemma 3's):
/// x / sqrt(mean(x^2) + epsilon) over each head's head_dim elements, times the weight.
/// \tparam QWeight rank-1 View [head_dim] of any floating type
/// \tparam KWeight as QWeight
template <class QWeight, class KWeight>
struct QkNorm {
  QWeight q_weight;                       ///< q_norm's weight
  KWeight k_weight;                       ///< k_norm's weight
  float epsilon = 1e-6f;                  ///< the variance epsilon (`rms_norm_eps`)
  NormWeight weight = NormWeight::scale;  ///< how the weight applies
};

/// The QK norm of a serving call.
/// \param q_weight rank-1 View [head_dim], accessible from the serving call's execution space
/// \param k_weight rank-1 View [head_dim]
/// \param epsilon the variance epsilon, > 0 and finite
/// \param weight NormWeight::scale (Qwen3) or NormWeight::offset_one (Gemma 3)
/// \return the norm descriptor
template <class QWeight, class KWeight>
QkNorm<QWeight, KWeight> qk_norm(const QWeight& q_weight, const KWeight& k_weight, float epsilon,
                                 NormWeight weight = NormWeight::scale) {
  static_assert(Kokkos::is_view_v<QWeight> && QWeight::rank() == 1 && Kokkos::is_view_v<KWeight> &&
                    KWeight::rank() == 1,
                "KokkosRope::qk_norm: the weights must be rank-1 Views");
  return {q_weight, k_weight, epsilon, weight};
}

}  // namespace KokkosRope

#endif
