// SPDX-License-Identifier: Apache-2.0
// The serving kernel of RotateAndCache.hpp: per token, optionally RMS-normalise each q and k head,
// rotate q (in place or into q_out) and k, and write the rotated k and the untouched v into their
// slot of a paged cache, converting to the cache's element type (fp8 with a per-tensor scale).
// One pass: q, k and v are read once, q and the cache written once.
//
// Each stored value is first rounded to the input's element type, as a rotation followed by a
// separate copy into the cache would store it, so the fused result is bitwise that composition.
//
// Two code paths (KernelPath): host_rows (a loop over tokens, each row by a pointer loop) and
// lanes (a team per token: threads over the head rows, vector lanes over the pairs; any strides).
#ifndef KOKKOSROPE_IMPL_CACHEKERNEL_HPP
#define KOKKOSROPE_IMPL_CACHEKERNEL_HPP

#include <KokkosRope/Fp8.hpp>
#include <KokkosRope/KvCache.hpp>
#include <KokkosRope/impl/KokkosRope_CacheElements.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_PairRotation.hpp>
#include <KokkosRope/impl/KokkosRope_PositionMaps.hpp>
#include <KokkosRope/impl/KokkosRope_RotateKernel.hpp>
#include <KokkosRope/impl/KokkosRope_TensorAccess.hpp>

#include <cstddef>
#include <cstdint>
#include <type_traits>

namespace KokkosRope::Impl {

/// A block-table lookup that finds no block (flagged as reason_slot_past_cache).
inline constexpr std::int64_t slot_missing = INT64_MAX;

// ---- token -> cache slot -------------------------------------------------------------------------

template <class SlotView>
struct SlotMappingMap {
  SlotView m_slots;
  KOKKOS_INLINE_FUNCTION std::int64_t operator()(const TokenCoord& c) const {
    return static_cast<std::int64_t>(m_slots(c.t));
  }
};

template <class BlockTable, class CacheLengths>
struct BlockTableMap {
  BlockTable m_table;
  CacheLengths m_lengths;
  std::int64_t m_block_size;
  std::int64_t m_num_blocks;
  KOKKOS_INLINE_FUNCTION std::int64_t operator()(const TokenCoord& c) const {
    const std::int64_t p = static_cast<std::int64_t>(m_lengths(c.b)) + c.s;
    if (p < 0) return slot_missing;
    const std::int64_t logical = p / m_block_size;
    if (logical >= static_cast<std::int64_t>(m_table.extent(1))) return slot_missing;
    const std::int64_t block = static_cast<std::int64_t>(m_table(c.b, logical));
    if (block < 0 || block >= m_num_blocks) return slot_missing;
    return block * m_block_size + (p - logical * m_block_size);
  }
};

// ---- cache block orders ----------------------------------------------------------------------------

/// A cache's block order, known at run time: [blocks, block_size, heads, dim] (nhd) or
/// [blocks, heads, block_size, dim] (hnd). The launch's checks read the extents through it, the
/// kernel indexes either order through CacheConfig::head_major, so the order is no template
/// parameter past the entry point.
struct CacheOrder {
  bool head_major = false;
  template <class V>
  std::int64_t block_size(const V& v) const {
    return static_cast<std::int64_t>(v.extent(head_major ? 2 : 1));
  }
  template <class V>
  std::int64_t heads(const V& v) const {
    return static_cast<std::int64_t>(v.extent(head_major ? 1 : 2));
  }
  const char* name() const { return head_major ? "hnd" : "nhd"; }
};

// ---- element steps ---------------------------------------------------------------------------------

/// No QK norm.
struct NoNorm {
  static constexpr bool enabled = false;
};
/// The QK norm's weights as the kernel holds them.
template <class QWeight, class KWeight>
struct NormWeights {
  static constexpr bool enabled = true;
  QWeight m_q;
  KWeight m_k;
  float m_epsilon;
  bool m_offset_one;
};

/// Pairs per local cos/sin buffer of the host_rows path (rotary_dim <= 512), and elements of its
/// local head row (head_dim <= 1024); larger heads take the lanes path.
inline constexpr int cache_host_pairs = 256;
inline constexpr int cache_host_dim = 1024;

/// Tokens per thread from which the host_rows path writes cache rows with streaming stores: they
/// spare the read of each cache line a store first fetches, but every thread then waits once for
/// its stores to drain, which costs more than it saves on a few tokens.
inline constexpr std::int64_t streaming_min_tokens = 16;

/// What a serving launch needs beyond the rotation's KernelConfig.
struct CacheConfig {
  std::int64_t capacity = 0;  // num_blocks * block_size slots
  std::int64_t block_size = 1;
  int v_dim = 0;
  float k_scale = 1;
  float v_scale = 1;
  bool head_major = false;  // HND blocks; a runtime choice, so both orders share one kernel
  bool streaming = false;   // host_rows: cache rows by streaming stores (streaming_min_tokens)
};

template <class ExecutionSpace, class Layout, class Acc, class QIn, class QOut, class KIn, class VIn,
          class KCache, class VCache, class Eval, class Tokens, class Positions, class Slots, class Norm,
          class Flagger>
struct RotateCacheKernel {
  using team_policy = Kokkos::TeamPolicy<ExecutionSpace, TeamTag>;
  using member_type = typename team_policy::member_type;
  using acc_scratch =
      Kokkos::View<Acc*, typename ExecutionSpace::scratch_memory_space, Kokkos::MemoryUnmanaged>;
  using access = Access<Layout>;
  using Position = decltype(std::declval<const Positions&>()(TokenCoord{}));
  using QT = typename QOut::non_const_value_type;
  using KT = typename KIn::non_const_value_type;
  using VT = typename VIn::non_const_value_type;
  using KC = typename KCache::non_const_value_type;
  using VC = typename VCache::non_const_value_type;

  QIn m_q_in;
  QOut m_q_out;
  KIn m_k;
  VIn m_v;
  KCache m_k_cache;
  VCache m_v_cache;
  Eval m_eval;
  Tokens m_tokens;
  Positions m_positions;
  Slots m_slots;
  Norm m_norm;
  Flagger m_flagger;
  KernelConfig m_cfg;
  CacheConfig m_cache;
  std::int64_t m_token_offset = 0;
  std::int64_t m_tokens_per_index = 1;  // host_rows: consecutive tokens per index

  static std::size_t scratch_bytes(int half, bool use_scratch) {
    return use_scratch ? acc_scratch::shmem_size(2 * static_cast<std::size_t>(half)) : 0;
  }

  /// The token's slot (negative: padding, not cached); false when the token is flagged and skipped.
  KOKKOS_INLINE_FUNCTION bool accept(const TokenCoord& c, const Position& pos, std::int64_t& slot) const {
    slot = m_slots(c);
    const unsigned extra = slot >= m_cache.capacity ? reason_slot_past_cache : 0u;
    return accept_token(m_tokens, m_positions, m_flagger, m_cfg.position_limit, c, pos, extra);
  }

  /// Element (block, offset, h, d) of a cache View in the cache's block order.
  template <class V>
  KOKKOS_FORCEINLINE_FUNCTION decltype(auto) cache_at(const V& v, std::int64_t block, std::int64_t offset, int h,
                                                      int d) const {
    return m_cache.head_major ? v(block, h, offset, d) : v(block, offset, h, d);
  }

  KOKKOS_INLINE_FUNCTION Acc inverse_rms(const Acc sum) const {
    return Impl::inverse_rms(sum, m_cfg.head_dim, m_norm.m_epsilon);
  }

  // ---- host_rows ---------------------------------------------------------------------------------

  /// The `heads` head rows of one tensor (row h at in + h step_in, out + h step_out): normalised
  /// (with a weight), rotated by cs/sn and stored as Out (divided by `scale` for fp8); the
  /// unrotated tail copied the same way. Without a norm into rows of the input's type, the rows
  /// are rotated straight into place (rotate_head_rows, cos/sin loaded once for every head);
  /// otherwise each row goes through a local row of T, so every intermediate is rounded where the
  /// unfused composition rounds it and each step is a vectorisable loop. streaming: `out` is
  /// cache rows, stored with streaming stores where they can be (see copy_rows).
  template <PairStyle Style, class T, class Out, class Weight>
  KOKKOS_INLINE_FUNCTION void host_rows_of_tensor(const T* in, Out* out, std::int64_t step_in,
                                                  std::int64_t step_out, int heads, const Acc* cs,
                                                  const Acc* sn, const Weight& weight, float scale,
                                                  bool streaming) const {
    const int half = m_cfg.half, dim = m_cfg.head_dim;
    if constexpr (!Norm::enabled && std::is_same_v<T, Out>) {
      rotate_head_rows<Style>(in, out, step_in, step_out, heads, cs, sn, half, 0, half, streaming);
      if (in != out)
        copy_rows(in + 2 * half, step_in, out + 2 * half, step_out, heads, dim - 2 * half, scale, streaming);
    } else {
      // As many head rows at a time as fit the local buffer: one rotate_head_rows call for them
      // (cos/sin loaded once), then one conversion loop where the cache's head rows are adjacent.
      T rows[cache_host_dim];
      const int group = cache_host_dim / dim;
      for (int h0 = 0; h0 < heads; h0 += group) {
        const int n = heads - h0 < group ? heads - h0 : group;
        const T* group_in = in + h0 * step_in;
        if constexpr (Norm::enabled) {
          for (int h = 0; h < n; ++h) {
            const T* row_in = group_in + h * step_in;
            Acc sum = 0;
            for (int d = 0; d < dim; ++d) sum += static_cast<Acc>(row_in[d]) * static_cast<Acc>(row_in[d]);
            const Acc inv_rms = inverse_rms(sum);
            for (int d = 0; d < dim; ++d)
              rows[h * dim + d] = static_cast<T>(normed_value(row_in[d], inv_rms, weight, d, m_norm.m_offset_one));
          }
          rotate_head_rows<Style>(rows, rows, dim, dim, n, cs, sn, half, 0, half);
        } else {
          rotate_head_rows<Style>(group_in, rows, step_in, dim, n, cs, sn, half, 0, half);
          copy_rows(group_in + 2 * half, step_in, rows + 2 * half, dim, n, dim - 2 * half, 1.0f);
        }
        copy_rows(rows, dim, out + h0 * step_out, step_out, n, dim, scale, streaming);
      }
    }
  }

  /// `rows` rows of n elements of type T (row r at in + r step_in) stored as Out (at out + r
  /// step_out): one loop over all of them where both sides' rows are adjacent. streaming: `out`
  /// is cache rows, written once and not read back by the step, which take streaming stores where
  /// the host ISA has them and the rows are aligned for them (converted rows through a local row).
  template <class T, class Out>
  KOKKOS_FORCEINLINE_FUNCTION static void copy_rows(const T* in, std::int64_t step_in, Out* out,
                                                    std::int64_t step_out, int rows, int n, float scale,
                                                    [[maybe_unused]] bool streaming = false) {
#if defined(KOKKOSROPE_IMPL_HOST_AVX512BF16)
    constexpr auto out_bytes = static_cast<std::int64_t>(sizeof(Out));
    if (streaming && HostSimd::streamable(out, step_out * out_bytes, n * out_bytes)) {
      const auto* bytes_in = reinterpret_cast<const std::byte*>(in);
      auto* bytes_out = reinterpret_cast<std::byte*>(out);
      if constexpr (std::is_same_v<T, Out>) {
        HostSimd::stream_rows(bytes_in, step_in * out_bytes, bytes_out, step_out * out_bytes, rows,
                              n * out_bytes);
      } else {
        alignas(64) Out local[cache_host_dim];
        for (int r = 0; r < rows; ++r)
          for (int d = 0; d < n; d += cache_host_dim) {
            const int m = n - d < cache_host_dim ? n - d : cache_host_dim;
            copy_row(in + r * step_in + d, local, m, scale);
            HostSimd::stream_rows(reinterpret_cast<const std::byte*>(local), 0,
                                  reinterpret_cast<std::byte*>(out + r * step_out + d), 0, 1, m * out_bytes);
          }
      }
      return;
    }
#endif
    if (step_in == n && step_out == n) {
      copy_row(in, out, rows * n, scale);
      return;
    }
    for (int r = 0; r < rows; ++r) copy_row(in + r * step_in, out + r * step_out, n, scale);
  }

  /// n elements of type T stored as Out (a plain copy when the types agree; already T, so never
  /// rounded again).
  template <class T, class Out>
  KOKKOS_FORCEINLINE_FUNCTION static void copy_row(const T* KOKKOS_RESTRICT in, Out* KOKKOS_RESTRICT out,
                                                   int n, float scale) {
    for (int d = 0; d < n; ++d) out[d] = convert_stored<Out, Acc>(in[d], scale);
  }

  template <PairStyle Style>
  KOKKOS_INLINE_FUNCTION void host_rows_of(const TokenCoord& c, std::int64_t slot, const Acc* cs,
                                           const Acc* sn) const {
    const auto q_weight = [&]() {
      if constexpr (Norm::enabled)
        return m_norm.m_q;
      else
        return 0;
    }();
    const auto k_weight = [&]() {
      if constexpr (Norm::enabled)
        return m_norm.m_k;
      else
        return 0;
    }();
    if (m_cfg.q_heads > 0)
      host_rows_of_tensor<Style>(&access::at(m_q_in, c, 0, 0), &access::at(m_q_out, c, 0, 0),
                                 access::head_stride(m_q_in), access::head_stride(m_q_out), m_cfg.q_heads, cs,
                                 sn, q_weight, 1.0f, false);
    if (slot < 0 || m_cfg.k_heads == 0) return;  // padding: q only
    const std::int64_t block = slot / m_cache.block_size, offset = slot - block * m_cache.block_size;
    // The cache's head stride: extent 2 of NHD blocks, extent 1 of HND ones.
    const std::int64_t k_step = m_k_cache.stride(m_cache.head_major ? 1 : 2);
    const std::int64_t v_step = m_v_cache.stride(m_cache.head_major ? 1 : 2);
    host_rows_of_tensor<Style>(&access::at(m_k, c, 0, 0), &cache_at(m_k_cache, block, offset, 0, 0),
                               access::head_stride(m_k), k_step, m_cfg.k_heads, cs, sn, k_weight,
                               m_cache.k_scale, m_cache.streaming);
    copy_rows(&access::at(m_v, c, 0, 0), access::head_stride(m_v), &cache_at(m_v_cache, block, offset, 0, 0),
              v_step, m_cfg.k_heads, m_cache.v_dim, m_cache.v_scale, m_cache.streaming);
  }

  KOKKOS_INLINE_FUNCTION void operator()(HostRowsTag, const std::int64_t index) const {
    if constexpr (is_host_execution_space_v<ExecutionSpace>) {
      const std::int64_t first = index * m_tokens_per_index;
      const std::int64_t last =
          first + m_tokens_per_index < m_cfg.num_tokens ? first + m_tokens_per_index : m_cfg.num_tokens;
      for (std::int64_t g = first; g < last; ++g) host_token(g);
#if defined(KOKKOSROPE_IMPL_HOST_AVX512BF16)
      if (m_cache.streaming) HostSimd::streaming_fence();
#endif
    }
  }

  KOKKOS_INLINE_FUNCTION void host_token(const std::int64_t g) const {
    if constexpr (is_host_execution_space_v<ExecutionSpace>) {
      const TokenCoord c = m_tokens(g);
      const Position pos = m_positions(c);
      std::int64_t slot = -1;
      if (!accept(c, pos, slot)) return;
      prefetch_table_rows<Acc>(m_eval, m_tokens, m_positions, g + 1, m_cfg.num_tokens, m_cfg.position_limit,
                               m_cfg.half);
      const Acc* cs = nullptr;
      const Acc* sn = nullptr;
      Acc cos_buffer[cache_host_pairs], sin_buffer[cache_host_pairs];
      bool in_place = false;
      if constexpr (has_rows_of_v<Eval, Acc>) {
        const std::int64_t row = common_position(pos);
        if (!m_cfg.backward && row >= 0) {
          cs = m_eval.cos_row(row);
          sn = m_eval.sin_row(row);
          in_place = true;
        }
      }
      if (!in_place) {
        for (int i = 0; i < m_cfg.half; ++i) {
          m_eval(position_of_pair(pos, i), i, cos_buffer[i], sin_buffer[i]);
          if (m_cfg.backward) sin_buffer[i] = -sin_buffer[i];
        }
        cs = cos_buffer;
        sn = sin_buffer;
      }
      if (m_cfg.interleaved)
        host_rows_of<PairStyle::interleaved>(c, slot, cs, sn);
      else
        host_rows_of<PairStyle::half_split>(c, slot, cs, sn);
    }
  }

  // ---- lanes ---------------------------------------------------------------------------------------

  /// One head row by the vector lanes of a thread: in(d) read, out(d) written (any strides).
  template <class T, class Out, class In, class OutRow, class Weight>
  KOKKOS_INLINE_FUNCTION void lanes_row(const member_type& member, const In& in, const OutRow& out,
                                        const acc_scratch& cs, const Position& pos, const Weight& weight,
                                        float scale) const {
    const int half = m_cfg.half, dim = m_cfg.head_dim;
    Acc inv_rms = 1;
    if constexpr (Norm::enabled) {
      Acc sum = 0;
      Kokkos::parallel_reduce(
          Kokkos::ThreadVectorRange(member, dim),
          [&](const int d, Acc& partial) {
            const Acc x = static_cast<Acc>(in(d));
            partial += x * x;
          },
          sum);
      inv_rms = inverse_rms(sum);
    }
    const auto value = [&](int d) -> Acc {
      if constexpr (Norm::enabled)
        return normed_value(static_cast<T>(in(d)), inv_rms, weight, d, m_norm.m_offset_one);
      else
        return static_cast<Acc>(in(d));
    };
    const bool interleaved = m_cfg.interleaved;
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(member, half), [&](const int i) {
      Acc cv, sv;
      if (m_cfg.use_scratch) {
        cv = cs(i);
        sv = cs(half + i);
      } else {
        m_eval(position_of_pair(pos, i), i, cv, sv);
        if (m_cfg.backward) sv = -sv;
      }
      const int i1 = interleaved ? PairIndex<PairStyle::interleaved>::first(i, half)
                                 : PairIndex<PairStyle::half_split>::first(i, half);
      const int i2 = interleaved ? PairIndex<PairStyle::interleaved>::second(i, half)
                                 : PairIndex<PairStyle::half_split>::second(i, half);
      Acc y1, y2;
      rotate_pair(cv, sv, value(i1), value(i2), y1, y2);
      out(i1) = store_as<T, Out>(y1, scale);
      out(i2) = store_as<T, Out>(y2, scale);
    });
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(member, 2 * half, dim),
                         [&](const int d) { out(d) = store_as<T, Out>(value(d), scale); });
  }

  KOKKOS_INLINE_FUNCTION void operator()(TeamTag, const member_type& member) const {
    const std::int64_t g = m_token_offset + member.league_rank();
    const TokenCoord c = m_tokens(g);
    const Position pos = m_positions(c);
    std::int64_t slot = m_slots(c);
    bool ok = false;
    // One thread flags (a skipped token is counted once); every thread learns the verdict.
    Kokkos::single(
        Kokkos::PerTeam(member), [&](bool& verdict) { verdict = accept(c, pos, slot); }, ok);
    if (!ok) return;
    const int half = m_cfg.half;
    const acc_scratch cs(member.team_scratch(0), m_cfg.use_scratch ? 2 * half : 0);
    if (m_cfg.use_scratch) {
      Kokkos::parallel_for(Kokkos::TeamVectorRange(member, half), [&](const int i) {
        Acc cv, sv;
        m_eval(position_of_pair(pos, i), i, cv, sv);
        cs(i) = cv;
        cs(half + i) = m_cfg.backward ? -sv : sv;
      });
      member.team_barrier();
    }
    const int q_heads = m_cfg.q_heads, kv_heads = m_cfg.k_heads;
    const int rows = q_heads + (slot >= 0 ? 2 * kv_heads : 0);
    const std::int64_t block = slot >= 0 ? slot / m_cache.block_size : 0;
    const std::int64_t offset = slot >= 0 ? slot - block * m_cache.block_size : 0;
    Kokkos::parallel_for(Kokkos::TeamThreadRange(member, rows), [&](const int r) {
      if (r < q_heads) {
        const auto in = [&](int d) -> const auto& {
          return access::at(m_q_in, c, r, d);
        };
        const auto out = [&](int d) -> auto& {
          return access::at(m_q_out, c, r, d);
        };
        if constexpr (Norm::enabled)
          lanes_row<QT, QT>(member, in, out, cs, pos, m_norm.m_q, 1.0f);
        else
          lanes_row<QT, QT>(member, in, out, cs, pos, 0, 1.0f);
      } else if (r < q_heads + kv_heads) {
        const int h = r - q_heads;
        const auto in = [&](int d) -> const auto& {
          return access::at(m_k, c, h, d);
        };
        const auto out = [&](int d) -> auto& {
          return cache_at(m_k_cache, block, offset, h, d);
        };
        if constexpr (Norm::enabled)
          lanes_row<KT, KC>(member, in, out, cs, pos, m_norm.m_k, m_cache.k_scale);
        else
          lanes_row<KT, KC>(member, in, out, cs, pos, 0, m_cache.k_scale);
      } else {
        const int h = r - q_heads - kv_heads;
        Kokkos::parallel_for(Kokkos::ThreadVectorRange(member, m_cache.v_dim), [&](const int d) {
          cache_at(m_v_cache, block, offset, h, d) =
              store_as<VT, VC>(static_cast<Acc>(access::at(m_v, c, h, d)), m_cache.v_scale);
        });
      }
    });
  }
};

}  // namespace KokkosRope::Impl

#endif
