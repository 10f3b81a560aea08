// SPDX-License-Identifier: Apache-2.0
// Serving-step benchmarks of kokkos-rope-bench: one attention layer's RoPE + KV-cache write of a
// serving step (Llama 3.1 8B: 32 q heads, 8 kv heads, head_dim 128; bf16 q, k, v; a paged NHD
// cache of blocks of 16 slots, bf16 or fp8 e4m3 with a per-tensor scale), three ways, in the
// same run:
//  - fused:    KokkosRope::rotate_and_cache (q rotated in place; k and v read once, the rotated k
//              and v written into the cache slots);
//  - unfused:  KokkosRope::rotate (q and k in place), then a separate Kokkos kernel copying k and
//              v into the cache slots (fp8: float8_e4m3(float(x) / scale)), what a code does today;
//  - roofline: a copy kernel with the fused step's access pattern and bytes and no arithmetic: q
//              read and written back (XORed with a zero mask read at run time), the slot and
//              position of each token read, k and v rows copied into the cache rows of the slots
//              (fp8: the high byte of each bf16, a truncating "cast" without rounding), with
//              streaming stores where the library's host path streams its cache rows (AVX-512
//              hosts, at least streaming_min_tokens tokens per thread).
// Decode: packed() tokens of `batch` sequences, one token each, at pseudo-random positions
// (token_positions) below 128K, at distinct slots scattered over the cache (a permutation of its
// slots). Prefill: packed(cu_seqlens) of `batch` sequences of `seq` tokens (positions 0..seq-1),
// each run of 16 tokens of a sequence into one block, the blocks a permutation of the cache's.
// Cos/sin from one Table of Llama 3.1 (131072 positions, accurate), shared by every case.
//
// Counters as the suite's (KokkosRopeBench_Suite.cpp): bytes = the fused step's compulsory
// traffic (q read + written, k and v read, the k and v cache rows written, the slots and, in
// decode, the positions read; the cos/sin table not counted, as in the suite), GB/s from the
// median iteration, roofline_GB/s and roofline_frac against the roofline above run on the
// variant's own tensors, one roofline run before each run of the variant (the roofline row: its
// own GB/s, frac 1), roofline_in_place = 0 (q in place, k and v out of place), verified = 1: once
// per case, before anything is timed, fused and unfused must leave bitwise the same q and cache
// (the library's guarantee), and the roofline must copy what it should; else the benchmark errors
// and the process exits non-zero.
//
// Names: serving_decode/llama3.1-8b/bf16/cache:<bf16|fp8_e4m3>/<fused|unfused|roofline>/batch:<B>
// and serving_prefill/llama3.1-8b/bf16/cache:bf16/<variant>/batch:<B>/seq:<S>. Registered by main
// after the suite (register_serving): --quick and full (the default) run them, --smoke does not
// (its JSON check expects the suite's counters and rows only).
#include "KokkosRopeBench_Context.hpp"
#include "KokkosRopeBench_Roofline.hpp"

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <iostream>
#include <numeric>
#include <stdexcept>
#include <type_traits>

namespace KokkosRopeBench {

namespace {

using Fp8 = kr::float8_e4m3;

enum class CacheType { bf16, fp8_e4m3 };
enum class Step { fused, unfused, roofline };

constexpr std::int64_t block_size = 16;
constexpr std::int64_t table_positions = 131072;  ///< Llama 3.1's context: the shared table's rows
constexpr float fp8_scale = 0.5f;                 ///< k_scale and v_scale of the fp8 caches
constexpr std::uint64_t seed_v = 5, seed_slots = 0x5107ull, seed_positions = 0x9051ull;

/// Host spaces run the per-token row kernels, device spaces the flat ones (as the rooflines).
constexpr bool host_kernels = Kokkos::SpaceAccessibility<Kokkos::HostSpace, Mem>::accessible;
struct RowTag {};
struct ElemTag {};

const char* cache_name(CacheType c) {
  return c == CacheType::bf16 ? "bf16" : "fp8_e4m3";
}

struct ServingCase {
  bool decode = true;
  std::int64_t batch = 1;  ///< sequences
  std::int64_t seq = 1;    ///< new tokens per sequence (decode: 1)
  CacheType cache = CacheType::bf16;
  Step step = Step::fused;
  Model model = KokkosRopeTesting::llama31_8b;

  std::int64_t tokens() const { return batch * seq; }
  std::int64_t kv_row() const { return static_cast<std::int64_t>(model.kv_heads) * model.head_dim; }
  std::int64_t q_row() const { return static_cast<std::int64_t>(model.q_heads) * model.head_dim; }
  std::int64_t cache_elem_bytes() const { return cache == CacheType::bf16 ? 2 : 1; }
  /// Cache slots: 4 x the new tokens, at least 1024 (64 blocks), whole blocks.
  std::int64_t capacity() const {
    const std::int64_t s = std::max<std::int64_t>(1024, 4 * tokens());
    return (s + block_size - 1) / block_size * block_size;
  }
  float scale() const { return cache == CacheType::bf16 ? 1.0f : fp8_scale; }
  /// The fused step's compulsory traffic: q read and written, k and v read, their cache rows
  /// written, the slots (and in decode the positions) read.
  std::int64_t moved_bytes() const {
    const std::int64_t t = tokens();
    return 2 * t * q_row() * 2 + 2 * t * kv_row() * 2 + 2 * t * kv_row() * cache_elem_bytes() +
           t * 8 * (decode ? 2 : 1);
  }
  std::string variant() const {
    return step == Step::fused ? "fused" : step == Step::unfused ? "unfused" : "roofline";
  }
  /// The case without its variant: the verification's key.
  std::string shape() const {
    std::ostringstream s;
    s << (decode ? "serving_decode/" : "serving_prefill/") << model.name
      << "/bf16/cache:" << cache_name(cache);
    return s.str();
  }
  std::string name() const {
    std::ostringstream s;
    s << shape() << '/' << variant() << "/batch:" << batch;
    if (!decode) s << "/seq:" << seq;
    return s.str();
  }
  std::string label() const {
    std::ostringstream s;
    s << "phase=" << (decode ? "serving_decode" : "serving_prefill") << " model=" << model.name
      << " dtype=bf16 variant=" << variant() << " batch=" << batch << " seq=" << seq
      << " cache=" << cache_name(cache) << " cache_order=nhd block_size=" << block_size
      << " cache_slots=" << capacity() << " scale=" << scale() << " source=table"
      << " layout=" << (decode ? "packed positions=token" : "packed_cu_seqlens positions=implicit")
      << " slots=" << (decode ? "scattered" : "blocks");
    return s.str();
  }
};

// ---- the cos/sin table, shared by every case ----------------------------------------------------

const kr::Table<Mem, float>& shared_table() {
  static std::unique_ptr<kr::Table<Mem, float>> table;
  if (!table) {
    table = std::make_unique<kr::Table<Mem, float>>(Exec(), KokkosRopeTesting::llama31(), table_positions,
                                                    kr::Precision::accurate);
    Kokkos::push_finalize_hook([] { table.reset(); });  // its Views go before Kokkos does
  }
  return *table;
}

// ---- the kernels ------------------------------------------------------------------------------

using Tokens = Kokkos::View<bf16***, Kokkos::LayoutRight, Mem>;
using ConstTokens = Kokkos::View<const bf16***, Kokkos::LayoutRight, Mem>;
using Index = Kokkos::View<std::int64_t*, Mem>;
using ConstIndex = Kokkos::View<const std::int64_t*, Mem>;
template <class C>
using Cache = Kokkos::View<C****, Kokkos::LayoutRight, Mem>;

/// The unfused step's second kernel: k (already rotated) and v of each token into its cache slot,
/// converted to the cache's type. Host: one token per index, its k row then its v row
/// (contiguous in NHD); device: one element of k and of v per index.
template <class C>
struct CacheWrite {
  ConstTokens k, v;
  Cache<C> kc, vc;
  ConstIndex slots;
  float scale;
  std::int64_t row;  ///< kv_heads x head_dim
  KOKKOS_FORCEINLINE_FUNCTION static C store(const bf16 x, const float s) {
    if constexpr (std::is_same_v<C, bf16>)
      return x;
    else
      return C(static_cast<float>(x) / s);
  }
  KOKKOS_INLINE_FUNCTION void operator()(RowTag, const std::int64_t t) const {
    const std::int64_t slot = slots(t);
    if (slot < 0) return;
    const bf16* KOKKOS_RESTRICT ks = &k(t, 0, 0);
    const bf16* KOKKOS_RESTRICT vs = &v(t, 0, 0);
    const std::int64_t n = row;  // a local bound: fp8 stores (bytes) may alias any member
    const float s = scale;
    C* KOKKOS_RESTRICT kd = kc.data() + slot * n;
    C* KOKKOS_RESTRICT vd = vc.data() + slot * n;
    for (std::int64_t e = 0; e < n; ++e) kd[e] = store(ks[e], s);
    for (std::int64_t e = 0; e < n; ++e) vd[e] = store(vs[e], s);
  }
  KOKKOS_INLINE_FUNCTION void operator()(ElemTag, const std::int64_t i) const {
    const std::int64_t t = i / row, e = i - t * row;
    const std::int64_t slot = slots(t);
    if (slot < 0) return;
    kc.data()[slot * row + e] = store(k.data()[t * row + e], scale);
    vc.data()[slot * row + e] = store(v.data()[t * row + e], scale);
  }
};

/// The roofline of the fused step: per token, q's words XORed with m (0, read at run time) in
/// place, the slot (and in decode the position, folded into m) read, k's and v's rows copied into
/// the slot's cache rows: word by word for a bf16 cache, the high byte of each bf16 for fp8.
template <class C>
struct ServingRoofline {
  std::uint64_t* q;
  const std::uint16_t* k;
  const std::uint16_t* v;
  std::uint16_t* kc16;
  std::uint16_t* vc16;  ///< bf16 cache
  std::uint8_t* kc8;
  std::uint8_t* vc8;            ///< fp8 cache
  ConstIndex slots, positions;  ///< positions: decode only
  Kokkos::View<const std::uint64_t*, Mem> mask;
  std::int64_t q_words, row;  ///< q words per token; k (v) elements per token
  std::int64_t tokens = 0, per_index = 1;  ///< host: tokens per index (a thread's share)
  bool streaming = false;                  ///< host: cache rows by streaming stores, as the library

  KOKKOS_FORCEINLINE_FUNCTION std::uint64_t token_mask(const std::int64_t t) const {
    return positions.extent(0) > 0 ? mask(0) & static_cast<std::uint64_t>(positions(t)) : mask(0);
  }
  KOKKOS_FORCEINLINE_FUNCTION void element(const std::int64_t src, const std::int64_t dst) const {
    if constexpr (std::is_same_v<C, bf16>) {
      kc16[dst] = k[src];
      vc16[dst] = v[src];
    } else {
      kc8[dst] = static_cast<std::uint8_t>(k[src] >> 8);
      vc8[dst] = static_cast<std::uint8_t>(v[src] >> 8);
    }
  }
  KOKKOS_INLINE_FUNCTION void operator()(RowTag, const std::int64_t index) const {
    const std::int64_t first = index * per_index, last = std::min(first + per_index, tokens);
    for (std::int64_t t = first; t < last; ++t) token_rows(t);
#if defined(KOKKOSROPE_IMPL_HOST_AVX512BF16)
    if (streaming) kr::Impl::HostSimd::streaming_fence();
#endif
  }
  KOKKOS_INLINE_FUNCTION void token_rows(const std::int64_t t) const {
    // The bounds in locals: the stores through uint64_t pointers may alias the int64_t members,
    // which would keep the compiler from counting (and vectorising) the loops.
    const std::int64_t nq = q_words, n = row;
    const std::uint64_t m = token_mask(t);
    std::uint64_t* KOKKOS_RESTRICT qt = q + t * nq;
    for (std::int64_t w = 0; w < nq; ++w) qt[w] ^= m;
    const std::int64_t slot = slots(t);
    if (slot < 0) return;
#if defined(KOKKOSROPE_IMPL_HOST_AVX512BF16)
    if (streaming && stream_rows(t, slot)) return;
#endif
    if constexpr (std::is_same_v<C, bf16>) {  // 4 elements per word
      const auto* KOKKOS_RESTRICT ks = reinterpret_cast<const std::uint64_t*>(k + t * n);
      const auto* KOKKOS_RESTRICT vs = reinterpret_cast<const std::uint64_t*>(v + t * n);
      auto* KOKKOS_RESTRICT kd = reinterpret_cast<std::uint64_t*>(kc16 + slot * n);
      auto* KOKKOS_RESTRICT vd = reinterpret_cast<std::uint64_t*>(vc16 + slot * n);
      for (std::int64_t w = 0; w < n / 4; ++w) kd[w] = ks[w];
      for (std::int64_t w = 0; w < n / 4; ++w) vd[w] = vs[w];
    } else {
      const std::uint16_t* KOKKOS_RESTRICT ks = k + t * n;
      const std::uint16_t* KOKKOS_RESTRICT vs = v + t * n;
      std::uint8_t* KOKKOS_RESTRICT kd = kc8 + slot * n;
      std::uint8_t* KOKKOS_RESTRICT vd = vc8 + slot * n;
      for (std::int64_t e = 0; e < n; ++e) kd[e] = static_cast<std::uint8_t>(ks[e] >> 8);
      for (std::int64_t e = 0; e < n; ++e) vd[e] = static_cast<std::uint8_t>(vs[e] >> 8);
    }
  }
#if defined(KOKKOSROPE_IMPL_HOST_AVX512BF16)
  /// The token's k and v rows into the slot's cache rows by streaming stores (fp8: the high bytes
  /// gathered in a local row first), where the rows are 64-byte aligned; false where not.
  bool stream_rows(const std::int64_t t, const std::int64_t slot) const {
    namespace simd = kr::Impl::HostSimd;
    const std::int64_t n = row, bytes = n * static_cast<std::int64_t>(sizeof(C));
    constexpr bool same = std::is_same_v<C, bf16>;
    auto* kd = reinterpret_cast<std::byte*>(same ? static_cast<void*>(kc16 + slot * n) : kc8 + slot * n);
    auto* vd = reinterpret_cast<std::byte*>(same ? static_cast<void*>(vc16 + slot * n) : vc8 + slot * n);
    if (!simd::streamable(kd, 0, bytes) || !simd::streamable(vd, 0, bytes)) return false;
    const auto rows = [&](const std::uint16_t* src, std::byte* dst) {
      if constexpr (same) {
        simd::stream_rows(reinterpret_cast<const std::byte*>(src), 0, dst, 0, 1, bytes);
      } else {
        constexpr std::int64_t chunk = 1024;
        alignas(64) std::uint8_t local[chunk];
        for (std::int64_t e0 = 0; e0 < n; e0 += chunk) {
          const std::int64_t m = std::min(chunk, n - e0);
          for (std::int64_t e = 0; e < m; ++e) local[e] = static_cast<std::uint8_t>(src[e0 + e] >> 8);
          simd::stream_rows(reinterpret_cast<const std::byte*>(local), 0, dst + e0, 0, 1, m);
        }
      }
    };
    rows(k + t * n, kd);
    rows(v + t * n, vd);
    return true;
  }
#endif
  /// Device: index i of a token's q_words + row units: a q word, or a k and a v element.
  KOKKOS_INLINE_FUNCTION void operator()(ElemTag, const std::int64_t i) const {
    const std::int64_t unit = q_words + row;
    const std::int64_t t = i / unit, j = i - t * unit;
    if (j < q_words) {
      q[t * q_words + j] ^= token_mask(t);
      return;
    }
    const std::int64_t slot = slots(t);
    if (slot >= 0) element(t * row + j - q_words, slot * row + j - q_words);
  }
};

/// Counts the bytes that differ between two buffers.
struct CountDiffBytes {
  const std::uint8_t* a;
  const std::uint8_t* b;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i, std::int64_t& n) const {
    n += a[i] != b[i] ? 1 : 0;
  }
};

template <class V>
std::int64_t differing_bytes(const Exec& space, const V& a, const V& b) {
  std::int64_t n = 0;
  Kokkos::parallel_reduce(
      "KokkosRope::bench::serving_compare",
      Range(space, 0, static_cast<std::int64_t>(a.span() * sizeof(typename V::value_type))),
      CountDiffBytes{reinterpret_cast<const std::uint8_t*>(a.data()),
                     reinterpret_cast<const std::uint8_t*>(b.data())},
      n);
  return n;  // the reduction into a host scalar waits for the result
}

// ---- one case's data and its three steps -----------------------------------------------------

struct ServingRun {
  virtual ~ServingRun() = default;
  virtual void run() = 0;       ///< the case's variant, fenced
  virtual void roofline() = 0;  ///< the roofline on the same tensors, fenced
};

template <class C>
struct ServingData : ServingRun {
  Exec space;
  ServingCase c;
  Tokens q, k, v;
  Cache<C> kc, vc;
  Index slots, positions;
  Kokkos::View<int*, Mem> cu_seqlens;
  Kokkos::View<std::uint64_t*, Mem> mask;

  explicit ServingData(const ServingCase& cs) : c(cs) {
    const std::int64_t T = c.tokens(), D = c.model.head_dim;
    auto lab = [](const char* s) { return std::string("KokkosRope::bench::serving_") + s; };
    q = Tokens(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, lab("q")), T, c.model.q_heads, D);
    k = Tokens(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, lab("k")), T, c.model.kv_heads, D);
    v = Tokens(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, lab("v")), T, c.model.kv_heads, D);
    KokkosRopeTesting::fill(space, q, seed_q);
    KokkosRopeTesting::fill(space, k, seed_k);
    KokkosRopeTesting::fill(space, v, seed_v);
    const std::int64_t blocks = c.capacity() / block_size;
    kc = Cache<C>(Kokkos::view_alloc(space, lab("k_cache")), blocks, block_size, c.model.kv_heads,
                  D);  // zeroed
    vc = Cache<C>(Kokkos::view_alloc(space, lab("v_cache")), blocks, block_size, c.model.kv_heads, D);
    mask = decltype(mask)(Kokkos::view_alloc(space, lab("mask")), 1);  // 0

    // Slots: decode, a permutation of the cache's slots; prefill, of its blocks (16 consecutive
    // tokens of a sequence per block). Reproducible (fill_bits), the same for every variant.
    slots = Index(Kokkos::view_alloc(space, lab("slots")), T);
    auto h_slots = Kokkos::create_mirror_view(Kokkos::HostSpace{}, slots);
    const std::int64_t units = c.decode ? c.capacity() : blocks;
    std::vector<std::int64_t> perm(static_cast<std::size_t>(units));
    std::iota(perm.begin(), perm.end(), std::int64_t{0});
    for (std::int64_t i = units - 1; i > 0; --i)
      std::swap(perm[i], perm[KokkosRopeTesting::fill_bits(static_cast<std::uint64_t>(i), seed_slots) %
                              static_cast<std::uint64_t>(i + 1)]);
    for (std::int64_t t = 0; t < T; ++t)
      h_slots(t) = c.decode ? perm[t] : perm[t / block_size] * block_size + t % block_size;
    Kokkos::deep_copy(space, slots, h_slots);
    if (c.decode) {
      positions = Index(Kokkos::view_alloc(space, lab("positions")), T);
      auto h = Kokkos::create_mirror_view(Kokkos::HostSpace{}, positions);
      for (std::int64_t t = 0; t < T; ++t)
        h(t) = static_cast<std::int64_t>(
            KokkosRopeTesting::fill_bits(static_cast<std::uint64_t>(t), seed_positions) %
            static_cast<std::uint64_t>(table_positions));
      Kokkos::deep_copy(space, positions, h);
    } else {
      cu_seqlens = decltype(cu_seqlens)(Kokkos::view_alloc(space, lab("cu_seqlens")), c.batch + 1);
      auto h = Kokkos::create_mirror_view(Kokkos::HostSpace{}, cu_seqlens);
      for (std::int64_t b = 0; b <= c.batch; ++b) h(b) = static_cast<int>(b * c.seq);
      Kokkos::deep_copy(space, cu_seqlens, h);
    }
    space.fence("KokkosRope::bench::serving_setup");
  }

  /// f(layout, positions) of the case: decode packed() at token_positions, prefill
  /// packed(cu_seqlens) at positions 0..seq-1 of each sequence.
  template <class F>
  void with_layout(F&& f) const {
    if (c.decode)
      f(kr::packed(), kr::token_positions(positions));
    else
      f(kr::packed(cu_seqlens), kr::ImplicitPositions{});
  }

  void fused() {
    with_layout([&](const auto& layout, const auto& pos) {
      kr::rotate_and_cache(space, layout, q, k, v,
                           kr::paged_kv_cache(kr::cache_nhd, kc, vc, c.scale(), c.scale()),
                           kr::slot_mapping(slots), shared_table(), pos);
    });
  }
  void unfused() {
    with_layout(
        [&](const auto& layout, const auto& pos) { kr::rotate(space, layout, q, k, shared_table(), pos); });
    const CacheWrite<C> w{k, v, kc, vc, slots, c.scale(), c.kv_row()};
    if constexpr (host_kernels)
      Kokkos::parallel_for(
          "KokkosRope::bench::serving_cache_write",
          Kokkos::RangePolicy<Exec, RowTag, Kokkos::IndexType<std::int64_t>>(space, 0, c.tokens()), w);
    else
      Kokkos::parallel_for("KokkosRope::bench::serving_cache_write",
                           Kokkos::RangePolicy<Exec, ElemTag, Kokkos::IndexType<std::int64_t>>(
                               space, 0, c.tokens() * c.kv_row()),
                           w);
  }
  void roofline() override {
    ServingRoofline<C> r{reinterpret_cast<std::uint64_t*>(q.data()),
                         reinterpret_cast<const std::uint16_t*>(k.data()),
                         reinterpret_cast<const std::uint16_t*>(v.data()),
                         nullptr,
                         nullptr,
                         nullptr,
                         nullptr,
                         slots,
                         positions,
                         mask,
                         c.q_row() / 4,
                         c.kv_row()};
    if constexpr (std::is_same_v<C, bf16>) {
      r.kc16 = reinterpret_cast<std::uint16_t*>(kc.data());
      r.vc16 = reinterpret_cast<std::uint16_t*>(vc.data());
    } else {
      r.kc8 = reinterpret_cast<std::uint8_t*>(kc.data());
      r.vc8 = reinterpret_cast<std::uint8_t*>(vc.data());
    }
    if constexpr (host_kernels) {
      // A thread's share of the tokens per index, streaming where the library streams.
      const std::int64_t threads = std::max<std::int64_t>(1, space.concurrency());
      r.tokens = c.tokens();
      r.per_index = (r.tokens + threads - 1) / threads;
      r.streaming = kr::Impl::host_avx512bf16_v && r.per_index >= kr::Impl::streaming_min_tokens;
      const std::int64_t indices = (r.tokens + r.per_index - 1) / r.per_index;
      Kokkos::parallel_for(
          "KokkosRope::bench::serving_roofline",
          Kokkos::RangePolicy<Exec, RowTag, Kokkos::IndexType<std::int64_t>>(space, 0, indices), r);
    }
    else
      Kokkos::parallel_for("KokkosRope::bench::serving_roofline",
                           Kokkos::RangePolicy<Exec, ElemTag, Kokkos::IndexType<std::int64_t>>(
                               space, 0, c.tokens() * (c.q_row() / 4 + c.kv_row())),
                           r);
    space.fence("KokkosRope::bench::serving_roofline");
  }
  void run() override {
    if (c.step == Step::fused)
      fused();
    else if (c.step == Step::unfused)
      unfused();
    else
      roofline();
    space.fence("KokkosRope::bench::serving");
  }
};

std::unique_ptr<ServingRun> make_run(const ServingCase& c) {
  if (c.cache == CacheType::bf16) return std::make_unique<ServingData<bf16>>(c);
  return std::make_unique<ServingData<Fp8>>(c);
}

// ---- the verification ---------------------------------------------------------------------------

/// The roofline copied what it should: q unchanged, the cache rows of the slots k's and v's rows
/// (fp8: their high bytes), on the host.
template <class C>
std::string check_roofline(ServingData<C>& d) {
  const ServingData<C> fresh(d.c);  // the inputs as filled
  if (differing_bytes(d.space, d.q, fresh.q) != 0) return "the roofline changed q";
  auto hk = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, d.k);
  auto hv = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, d.v);
  auto hkc = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, d.kc);
  auto hvc = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, d.vc);
  auto hs = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, d.slots);
  const std::int64_t row = d.c.kv_row();
  for (std::int64_t t = 0; t < d.c.tokens(); ++t)
    for (std::int64_t e = 0; e < row; ++e) {
      const std::uint16_t ks = hk.data()[t * row + e].bits, vs = hv.data()[t * row + e].bits;
      const std::uint16_t kd = hkc.data()[hs(t) * row + e].bits, vd = hvc.data()[hs(t) * row + e].bits;
      const bool ok = std::is_same_v<C, bf16> ? kd == ks && vd == vs : kd == (ks >> 8) && vd == (vs >> 8);
      if (!ok) return "the roofline wrote a wrong cache entry (token " + std::to_string(t) + ")";
    }
  return {};
}

/// Once per case: fused and unfused from the same inputs leave bitwise the same q and cache (the
/// library's guarantee: a rotation rounded to bf16, then the cache's conversion), and the
/// roofline copies what it should. Empty when they do, else what differs.
template <class C>
std::string verify_case(const ServingCase& c) {
  ServingCase fc = c, uc = c, rc = c;
  fc.step = Step::fused;
  uc.step = Step::unfused;
  rc.step = Step::roofline;
  ServingData<C> f(fc), u(uc), r(rc), input(c);
  f.run();
  u.run();
  r.run();
  std::ostringstream msg;
  if (differing_bytes(f.space, f.q, input.q) == 0) msg << "the fused step left q unrotated; ";
  if (const auto n = differing_bytes(f.space, f.q, u.q)) msg << n << " bytes of q differ; ";
  if (const auto n = differing_bytes(f.space, f.kc, u.kc)) msg << n << " bytes of the k cache differ; ";
  if (const auto n = differing_bytes(f.space, f.vc, u.vc)) msg << n << " bytes of the v cache differ; ";
  if (differing_bytes(f.space, f.kc, input.kc) == 0) msg << "the fused step wrote nothing to the k cache; ";
  if (msg.str().empty()) {
    const std::string roof = check_roofline(r);
    if (!roof.empty()) msg << roof;
  } else {
    msg << "fused and unfused disagree";
  }
  return msg.str();
}

std::map<std::string, std::string>& verified_cases() {  ///< shape -> "" (passed) or the mismatch
  static std::map<std::string, std::string> v;
  return v;
}

// ---- the benchmark body ----------------------------------------------------------------------

void run_serving(benchmark::State& state, const ServingCase& c) {
  try {
    auto& done = verified_cases();
    if (!done.count(c.shape()))
      done[c.shape()] = c.cache == CacheType::bf16 ? verify_case<bf16>(c) : verify_case<Fp8>(c);
    if (!done[c.shape()].empty()) throw std::runtime_error("verification: " + done[c.shape()]);

    std::unique_ptr<ServingRun> inst = make_run(c);
    const bool with_roofline = c.step != Step::roofline;  // the roofline row is its own reference
    std::vector<double> times, roof_times;
    time_iterations(
        state, [&] { inst->run(); }, [&] { inst->roofline(); }, with_roofline, times, roof_times);
    const double gbps = gbps_of(times, c.moved_bytes());
    const double roofline = with_roofline ? gbps_of(roof_times, c.moved_bytes()) : gbps;
    state.counters["bytes"] = static_cast<double>(c.moved_bytes());
    state.counters["GB/s"] = gbps;
    state.counters["roofline_GB/s"] = roofline;
    state.counters["roofline_frac"] = gbps / roofline;
    state.counters["roofline_in_place"] = 0.0;
    state.counters["verified"] = 1.0;
    state.counters["median_s"] = median(times);
    state.counters["threads"] = static_cast<double>(Exec().concurrency());
    state.counters["batch"] = static_cast<double>(c.batch);
    state.counters["seq"] = static_cast<double>(c.seq);
    state.SetLabel(c.label());
  } catch (const std::exception& e) {
    fail_case(state, c.name(), e);
  }
}

// ---- registration ---------------------------------------------------------------------------------

std::vector<ServingCase> serving_cases(const std::string& mode) {
  std::vector<ServingCase> cases;
  if (mode != "full" && mode != "quick") return cases;  // smoke: none
  const bool full = mode == "full";
  auto variants = [&](ServingCase c) {
    for (Step s : {Step::roofline, Step::fused, Step::unfused}) {
      c.step = s;
      cases.push_back(c);
    }
  };
  for (CacheType cache : {CacheType::bf16, CacheType::fp8_e4m3})
    for (std::int64_t b : full ? std::vector<std::int64_t>{1, 64, 256} : std::vector<std::int64_t>{1, 64})
      variants(ServingCase{true, b, 1, cache});
  for (CacheType cache : full ? std::vector<CacheType>{CacheType::bf16, CacheType::fp8_e4m3}
                              : std::vector<CacheType>{CacheType::bf16})
    variants(ServingCase{false, 4, 512, cache});
  return cases;
}

}  // namespace

void register_serving(const std::string& mode, bool min_time_given) {
  for (const ServingCase& c : serving_cases(mode)) {
    auto* b = benchmark::RegisterBenchmark(c.name(), [c](benchmark::State& st) { run_serving(st, c); });
    b->UseManualTime()->Unit(benchmark::kMicrosecond);
    if (!min_time_given) b->MinTime(settings.min_time);
  }
}

}  // namespace KokkosRopeBench
