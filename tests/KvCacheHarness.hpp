// SPDX-License-Identifier: Apache-2.0
#ifndef KOKKOSROPE_TEST_KVCACHEHARNESS_HPP
#define KOKKOSROPE_TEST_KVCACHEHARNESS_HPP
// The serving kernels (RotateAndCache.hpp) against the composition of the unfused operations:
// the library's rotate_copy of q and of k (after a host-side QK norm where asked), then a plain
// host scatter of the rotated k and of v into the paged cache with the cache's conversion
// (value / scale for fp8). Without a norm the fused result must be that composition bit for bit
// (q, and the whole cache: slots not written keep their sentinel); with a norm, within a few
// units in the last place (the norm's sum of squares may be reduced in another order).
// Every layout, slot scheme (slot_mapping with padding, block table), block order, element type
// (fp32, fp16, bf16, fp8 e4m3 / e5m2, mixed), kernel path, pair style, partial rotary, positions
// kind (M-RoPE included), cos/sin source, q in place or copied, and the in-kernel slot check.

#include <KokkosRope.hpp>
#include <gtest/gtest.h>

#include <KokkosRopeTesting_Fill.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace KokkosRopeTest {

using namespace KokkosRope;

enum class LayoutKind { bshd, bhsd, packed_cu, packed_one };
enum class SlotKind { mapping, table };
enum class NormKind { none, scale, offset_one };
enum class PosKind { implicit, offsets, tokens, mrope };

inline const char* name(LayoutKind l) {
  return l == LayoutKind::bshd        ? "bshd"
         : l == LayoutKind::bhsd      ? "bhsd"
         : l == LayoutKind::packed_cu ? "packed(cu)"
                                      : "packed()";
}

struct Case {
  LayoutKind layout = LayoutKind::bshd;
  SlotKind slots = SlotKind::mapping;
  bool hnd = false;
  KernelPath path = KernelPath::automatic;
  NormKind norm = NormKind::none;
  PairStyle pair = PairStyle::half_split;
  int rotary_dim = 64;
  PosKind positions = PosKind::implicit;
  bool on_the_fly = false;
  bool copy_q = false;
  std::string describe() const {
    return std::string(name(layout)) + (slots == SlotKind::mapping ? " slot_mapping" : " block_table") +
           (hnd ? " hnd" : " nhd") + " path " + std::to_string(int(path)) + " norm " +
           std::to_string(int(norm)) + (pair == PairStyle::interleaved ? " interleaved" : " half_split") +
           " rotary " + std::to_string(rotary_dim) + " positions " + std::to_string(int(positions)) +
           (on_the_fly ? " on_the_fly" : " table") + (copy_q ? " copy" : " in_place");
  }
};

/// The kernel paths a serving call takes on Space: automatic, lanes, and host_rows on host
/// execution spaces (the launch's own predicate: a device reaching host memory still has no host_rows).
template <class Space>
std::vector<KernelPath> cache_kernel_paths() {
  std::vector<KernelPath> paths = {KernelPath::automatic, KernelPath::lanes};
  if (KokkosRope::Impl::is_host_execution_space_v<Space>) paths.push_back(KernelPath::host_rows);
  return paths;
}

// Geometry: 2 sequences of 4 and 6 tokens (bshd/bhsd: 2 x 5), 4 q heads, 2 kv heads, head_dim 64,
// 8 blocks of 4 slots.
constexpr int q_heads = 4, kv_heads = 2, head_dim = 64, block_size = 4, num_blocks = 8;
constexpr int max_blocks_per_sequence = 4;
inline const std::int64_t cache_lengths_host[2] = {3, 6};
inline const int block_table_host[2][max_blocks_per_sequence] = {{5, 2, 7, 4}, {0, 3, 6, 1}};

template <class T>
double unit_roundoff() {
  if constexpr (std::is_same_v<T, double>) return 0x1p-53;
  if constexpr (std::is_same_v<T, float>) return 0x1p-24;
  if constexpr (std::is_same_v<T, Kokkos::Experimental::half_t>) return 0x1p-11;
  return 0x1p-8;  // bfloat16
}

template <class C>
double cache_roundoff() {
  if constexpr (std::is_same_v<C, float8_e4m3>) return 0x1p-4;
  if constexpr (std::is_same_v<C, float8_e5m2>) return 0x1p-3;
  return unit_roundoff<C>();
}

template <class C>
double to_double(const C& c) {
  return static_cast<double>(static_cast<float>(c));
}
template <>
inline double to_double<double>(const double& c) {
  return c;
}

// The cache's conversion, written from its definition: the value (already of the input's type T)
// divided by the scale and rounded to fp8, or converted.
template <class T, class C>
C convert_for_cache(const T& t, float scale) {
  if constexpr (std::is_same_v<C, T>)
    return t;
  else if constexpr (std::is_same_v<C, float8_e4m3> || std::is_same_v<C, float8_e5m2>)
    return C(static_cast<float>(t) / scale);
  else
    return static_cast<C>(static_cast<std::conditional_t<std::is_same_v<T, double>, double, float>>(t));
}

/// One case of the serving kernels against the unfused composition. Full: every layout, positions
/// kind and cos/sin source (nhd blocks, no norm); otherwise packed(cu_seqlens) with token
/// positions and a table, every block order, slot scheme and norm (the element-type product).
template <class Space, class T, class C, bool Full>
struct CacheHarness {
  using Memory = typename Space::memory_space;
  using Acc = std::conditional_t<std::is_same_v<T, double>, double, float>;
  using View4 = Kokkos::View<T****, Kokkos::LayoutRight, Memory>;
  using View3 = Kokkos::View<T***, Kokkos::LayoutRight, Memory>;
  using Cache = Kokkos::View<C****, Kokkos::LayoutRight, Memory>;
  Space space;
  Case c;
  float k_scale = 1, v_scale = 1;

  bool grid() const { return c.layout == LayoutKind::bshd || c.layout == LayoutKind::bhsd; }
  int batch() const { return c.layout == LayoutKind::packed_one ? 1 : 2; }
  int seq_len(int b) const { return grid() ? 5 : c.layout == LayoutKind::packed_one ? 10 : (b == 0 ? 4 : 6); }
  int tokens() const { return 10; }
  // Flat token t -> (b, s).
  std::pair<int, int> coord(int t) const {
    if (grid()) return {t / 5, t % 5};
    if (c.layout == LayoutKind::packed_one) return {0, t};
    return t < 4 ? std::pair<int, int>{0, t} : std::pair<int, int>{1, t - 4};
  }
  // Element (t, h, d) of a q/k/v tensor in flat storage of the layout.
  std::size_t index(int t, int h, int d, int heads, int dim) const {
    const auto [b, s] = coord(t);
    if (c.layout == LayoutKind::bshd) return ((std::size_t(b) * 5 + s) * heads + h) * dim + d;
    if (c.layout == LayoutKind::bhsd) return ((std::size_t(b) * heads + h) * 5 + s) * dim + d;
    return (std::size_t(t) * heads + h) * dim + d;
  }
  std::size_t cache_index(std::int64_t slot, int h, int d) const {
    const std::int64_t block = slot / block_size, offset = slot % block_size;
    if (c.hnd) return ((std::size_t(block) * kv_heads + h) * block_size + offset) * head_dim + d;
    return ((std::size_t(block) * block_size + offset) * kv_heads + h) * head_dim + d;
  }
  // The slot of each token as the two schemes define it; -1: padding.
  std::vector<std::int64_t> slots_of() const {
    std::vector<std::int64_t> slots(tokens());
    for (int t = 0; t < tokens(); ++t) {
      const auto [b, s] = coord(t);
      if (c.slots == SlotKind::mapping) {
        slots[t] = t % 4 == 3 ? -1 : (std::int64_t(t) * 7 + 3) % (num_blocks * block_size);
      } else {
        const std::int64_t len = c.layout == LayoutKind::packed_one ? 2 : cache_lengths_host[b];
        const std::int64_t p = len + s;
        slots[t] = std::int64_t(block_table_host[b][p / block_size]) * block_size + p % block_size;
      }
    }
    return slots;
  }

  template <class V>
  static std::vector<typename V::non_const_value_type> host_copy(const V& v) {
    auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, v);
    return std::vector<typename V::non_const_value_type>(h.data(), h.data() + h.span());
  }

  // Host-side QK norm of every head row of `x` (`heads` heads), the reference's formula.
  std::vector<T> normed(const std::vector<T>& x, int heads, const std::vector<float>& w) const {
    std::vector<T> y(x);
    for (int t = 0; t < tokens(); ++t)
      for (int h = 0; h < heads; ++h) {
        Acc sum = 0;
        for (int d = 0; d < head_dim; ++d) {
          const Acc e = static_cast<Acc>(x[index(t, h, d, heads, head_dim)]);
          sum += e * e;
        }
        const Acc inv = Acc(1) / std::sqrt(sum / Acc(head_dim) + Acc(1e-6f));
        for (int d = 0; d < head_dim; ++d) {
          const Acc e = static_cast<Acc>(x[index(t, h, d, heads, head_dim)]);
          const Acc wd = static_cast<Acc>(w[d]);
          y[index(t, h, d, heads, head_dim)] =
              c.norm == NormKind::offset_one ? static_cast<T>(e * inv * (Acc(1) + wd))
                                             : static_cast<T>(wd * static_cast<Acc>(static_cast<T>(e * inv)));
        }
      }
    return y;
  }

  template <class Layout, class Source, class Positions>
  int run_with(const Layout& layout, const Source& source, const Positions& positions) {
    constexpr bool packed_layout = Layout::rank == 3;
    using V = std::conditional_t<packed_layout, View3, View4>;
    const auto make = [&](const std::string& label, int heads) {
      if constexpr (packed_layout)
        return V(label, tokens(), heads, head_dim);
      else if (c.layout == LayoutKind::bshd)
        return V(label, 2, 5, heads, head_dim);
      else
        return V(label, 2, heads, 5, head_dim);
    };
    V q = make("q", q_heads), k = make("k", kv_heads), v = make("v", kv_heads);
    KokkosRopeTesting::fill(space, q, 11);
    KokkosRopeTesting::fill(space, k, 12);
    KokkosRopeTesting::fill(space, v, 13);
    Kokkos::View<float*, Memory> q_w("q_w", head_dim), k_w("k_w", head_dim);
    std::vector<float> q_w_host(head_dim), k_w_host(head_dim);
    for (int d = 0; d < head_dim; ++d) {
      // Weights in [1.5, 2.5): a norm that dropped the weight or used the other style is far off.
      q_w_host[d] = 2.0f + 0.5f * KokkosRopeTesting::fill_value(d, 14);
      k_w_host[d] = 2.0f + 0.5f * KokkosRopeTesting::fill_value(d, 15);
    }
    Kokkos::deep_copy(space, q_w, Kokkos::View<float*, Kokkos::HostSpace>(q_w_host.data(), head_dim));
    Kokkos::deep_copy(space, k_w, Kokkos::View<float*, Kokkos::HostSpace>(k_w_host.data(), head_dim));
    Cache k_cache("k_cache", num_blocks, c.hnd ? kv_heads : block_size, c.hnd ? block_size : kv_heads,
                  head_dim);
    Cache v_cache("v_cache", num_blocks, c.hnd ? kv_heads : block_size, c.hnd ? block_size : kv_heads,
                  head_dim);
    KokkosRopeTesting::fill(space, k_cache, 16);  // the sentinel of slots not written
    KokkosRopeTesting::fill(space, v_cache, 17);
    const auto slots_host = slots_of();

    // ---- the unfused composition -------------------------------------------------------------
    const bool norm = c.norm != NormKind::none;
    V q_src = make("q_src", q_heads), k_src = make("k_src", kv_heads);
    {
      auto q_h = host_copy(q), k_h = host_copy(k);
      if (norm) {
        q_h = normed(q_h, q_heads, q_w_host);
        k_h = normed(k_h, kv_heads, k_w_host);
      }
      auto q_m = Kokkos::create_mirror_view(q_src);
      auto k_m = Kokkos::create_mirror_view(k_src);
      std::memcpy(static_cast<void*>(q_m.data()), q_h.data(), q_h.size() * sizeof(T));
      std::memcpy(static_cast<void*>(k_m.data()), k_h.data(), k_h.size() * sizeof(T));
      Kokkos::deep_copy(space, q_src, q_m);
      Kokkos::deep_copy(space, k_src, k_m);
    }
    V q_ref = make("q_ref", q_heads), k_rot = make("k_rot", kv_heads);
    rotate_copy(space, layout, q_src, k_src, q_ref, k_rot, source, positions);
    const auto q_expected = host_copy(q_ref);
    const auto k_rot_h = host_copy(k_rot), v_h = host_copy(v);
    auto k_expected = host_copy(k_cache), v_expected = host_copy(v_cache);
    for (int t = 0; t < tokens(); ++t) {
      if (slots_host[t] < 0) continue;
      for (int h = 0; h < kv_heads; ++h)
        for (int d = 0; d < head_dim; ++d) {
          k_expected[cache_index(slots_host[t], h, d)] =
              convert_for_cache<T, C>(k_rot_h[index(t, h, d, kv_heads, head_dim)], k_scale);
          v_expected[cache_index(slots_host[t], h, d)] =
              convert_for_cache<T, C>(v_h[index(t, h, d, kv_heads, head_dim)], v_scale);
        }
    }

    // ---- the fused call -------------------------------------------------------------------------
    RotateOptions options;
    options.kernel_path = c.path;
    const auto cache = paged_kv_cache(cache_nhd, k_cache, v_cache, k_scale, v_scale);
    const auto cache_h = paged_kv_cache(cache_hnd, k_cache, v_cache, k_scale, v_scale);
    Kokkos::View<std::int64_t*, Memory> slot_view("slots", tokens());
    Kokkos::deep_copy(
        space, slot_view,
        Kokkos::View<const std::int64_t*, Kokkos::HostSpace>(slots_host.data(), slots_host.size()));
    Kokkos::View<int**, Memory> table("block_table", batch(), max_blocks_per_sequence);
    Kokkos::View<int*, Memory> lengths("cache_lengths", batch());
    {
      auto t_h = Kokkos::create_mirror_view(table);
      auto l_h = Kokkos::create_mirror_view(lengths);
      for (int b = 0; b < batch(); ++b) {
        l_h(b) = c.layout == LayoutKind::packed_one ? 2 : static_cast<int>(cache_lengths_host[b]);
        for (int j = 0; j < max_blocks_per_sequence; ++j) t_h(b, j) = block_table_host[b][j];
      }
      Kokkos::deep_copy(space, table, t_h);
      Kokkos::deep_copy(space, lengths, l_h);
    }
    V q_out = make("q_out", q_heads);
    const auto q_norm =
        qk_norm(q_w, k_w, 1e-6f, c.norm == NormKind::offset_one ? NormWeight::offset_one : NormWeight::scale);
    const auto call = [&](const auto& cache_arg, const auto& slots_arg) {
      if constexpr (Full) {
        if (c.copy_q)
          rotate_copy_and_cache(space, layout, q, q_out, k, v, cache_arg, slots_arg, source, positions,
                                options);
        else
          rotate_and_cache(space, layout, q, k, v, cache_arg, slots_arg, source, positions, options);
      } else if (norm) {
        if (c.copy_q)
          rotate_copy_and_cache(space, layout, q_norm, q, q_out, k, v, cache_arg, slots_arg, source,
                                positions, options);
        else
          rotate_and_cache(space, layout, q_norm, q, k, v, cache_arg, slots_arg, source, positions, options);
      } else {
        if (c.copy_q)
          rotate_copy_and_cache(space, layout, q, q_out, k, v, cache_arg, slots_arg, source, positions,
                                options);
        else
          rotate_and_cache(space, layout, q, k, v, cache_arg, slots_arg, source, positions, options);
      }
    };
    const auto with_slots = [&](const auto& cache_arg) {
      if (c.slots == SlotKind::mapping)
        call(cache_arg, slot_mapping(slot_view));
      else if constexpr (!Full || std::is_same_v<Positions, ImplicitPositions>)
        call(cache_arg, block_table_slots(table, lengths));
      else  // the layouts test's block-table cases: compiled with implicit positions only
        throw std::logic_error("KvCacheHarness: block_table_slots with " + c.describe() +
                               " is not compiled (Full: implicit positions only)");
    };
    if constexpr (!Full) {
      if (c.hnd)
        with_slots(cache_h);
      else
        with_slots(cache);
    } else {
      with_slots(cache);
    }
    const auto q_got = host_copy(c.copy_q ? q_out : q);
    const auto k_got = host_copy(k_cache), v_got = host_copy(v_cache);

    int failures = 0;
    const auto report = [&](const char* what, std::size_t i, double got, double want) {
      if (++failures <= 5)
        ADD_FAILURE() << c.describe() << ": " << what << " element " << i << " is " << got << ", expected "
                      << want;
    };
    if (!norm) {
      for (std::size_t i = 0; i < q_got.size(); ++i)
        if (std::memcmp(&q_got[i], &q_expected[i], sizeof(T)) != 0)
          report("q", i, to_double(q_got[i]), to_double(q_expected[i]));
      for (std::size_t i = 0; i < k_got.size(); ++i)
        if (std::memcmp(&k_got[i], &k_expected[i], sizeof(C)) != 0)
          report("k cache", i, to_double(k_got[i]), to_double(k_expected[i]));
    } else {
      // A few units of T's last place after the norm (scaled by the weights' 2.5 and the
      // rotation), and one unit of the cache's type on top.
      const double tol_t = 16 * unit_roundoff<T>() * 4;
      for (std::size_t i = 0; i < q_got.size(); ++i) {
        const double got = to_double(q_got[i]), want = to_double(q_expected[i]);
        if (!(std::abs(got - want) <= tol_t * (1 + std::abs(want)))) report("q", i, got, want);
      }
      for (std::size_t i = 0; i < k_got.size(); ++i) {
        const double got = to_double(k_got[i]), want = to_double(k_expected[i]);
        const double tol = (tol_t + 2 * cache_roundoff<C>()) * (1 + std::abs(want));
        if (!(std::abs(got - want) <= tol)) report("k cache", i, got, want);
      }
    }
    for (std::size_t i = 0; i < v_got.size(); ++i)
      if (std::memcmp(&v_got[i], &v_expected[i], sizeof(C)) != 0)
        report("v cache", i, to_double(v_got[i]), to_double(v_expected[i]));
    return failures;
  }

  template <class Layout>
  int run_layout(const Layout& layout) {
    Params p;
    p.head_dim = head_dim;
    p.rotary_dim = c.rotary_dim;
    p.theta = 10000.0;
    p.pair_style = c.pair;
    const int half = c.rotary_dim / 2;
    Kokkos::View<int*, Memory> offsets("offsets", batch());
    Kokkos::deep_copy(space, offsets, 3);
    Kokkos::View<int*, Memory> positions_1d("positions", tokens());
    Kokkos::View<int**, Memory> positions_2d("positions", 2, 5);
    Kokkos::View<int**, Memory> mrope_1d("mrope", 3, tokens());
    Kokkos::View<int***, Memory> mrope_2d("mrope", 3, 2, 5);
    const auto fold = [&](const auto& view) {  // positions in [0, 40)
      auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, view);
      for (std::size_t i = 0; i < h.span(); ++i)
        h.data()[i] = static_cast<int>(KokkosRopeTesting::fill_bits(i, 22 + h.rank()) % 40);
      Kokkos::deep_copy(space, view, h);
    };
    fold(positions_1d);
    fold(positions_2d);
    fold(mrope_1d);
    fold(mrope_2d);
    const MropeSection section{half / 4, half / 4, half - 2 * (half / 4), MropeLayout::sectioned};
    const auto with_positions = [&](const auto& source) {
      if constexpr (!Full) {
        if constexpr (Layout::rank == 4)
          return run_with(layout, source, token_positions(positions_2d));
        else
          return run_with(layout, source, token_positions(positions_1d));
      } else {
        switch (c.positions) {
          case PosKind::implicit:
            return run_with(layout, source, ImplicitPositions{});
          case PosKind::offsets:
            return run_with(layout, source, sequence_offsets(offsets));
          case PosKind::tokens:
            if constexpr (Layout::rank == 4)
              return run_with(layout, source, token_positions(positions_2d));
            else
              return run_with(layout, source, token_positions(positions_1d));
          case PosKind::mrope:
            if constexpr (Layout::rank == 4)
              return run_with(layout, source, multimodal_positions(mrope_2d, section));
            else
              return run_with(layout, source, multimodal_positions(mrope_1d, section));
        }
        return 1;
      }
    };
    if constexpr (Full) {
      // The on-the-fly source once per layout and slot scheme (implicit positions).
      if (c.on_the_fly)
        return run_with(layout, OnTheFly<Memory>(space, p, Precision::accurate), ImplicitPositions{});
    }
    return with_positions(Table<Memory>(space, p, 64));
  }

  int run() {
    Kokkos::View<int*, Memory> cu("cu_seqlens", 3);
    auto cu_h = Kokkos::create_mirror_view(cu);
    cu_h(0) = 0;
    cu_h(1) = 4;
    cu_h(2) = 10;
    Kokkos::deep_copy(space, cu, cu_h);
    if constexpr (!Full) {
      return run_layout(packed(cu));
    } else {
      switch (c.layout) {
        case LayoutKind::bshd:
          return run_layout(bshd);
        case LayoutKind::bhsd:
          return run_layout(bhsd);
        case LayoutKind::packed_cu:
          return run_layout(packed(cu));
        case LayoutKind::packed_one:
          return run_layout(packed());
      }
    }
    return 1;
  }
};

}  // namespace KokkosRopeTest

#endif
