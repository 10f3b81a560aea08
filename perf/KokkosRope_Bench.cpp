// SPDX-License-Identifier: Apache-2.0
// kokkos-rope-bench: RoPE on Llama 3.1 shapes (prefill and decode) measured against
//  - a copy kernel moving the same bytes on the same execution space (the roofline),
//  - a plain port of the seed's approach (full-width cos/sin tables, rotate_half materialised,
//    q*cos + rotate_half(q)*sin as separate kernels),
//  - ggml's CPU rope (NeoX mode, Llama 3 frequency factors) when built with ggml.
// Every variant is verified once against a double-precision reference before it is timed; a
// failed check marks the benchmark as errored and makes the process exit non-zero.
// Timing: manual time around (launch + fence of the execution-space instance); counters `bytes`
// (2 x (q + k) bytes: every element read and written once), `GB/s`, `frac_of_copy` (this
// result's GB/s over the copy kernel's for the same bytes, measured in the same run). See
// perf/README.md.
#include <KokkosRope.hpp>
#include <benchmark/benchmark.h>

#include <KokkosRopeBench_Revision.hpp>

#ifdef KOKKOSROPE_BENCH_HAVE_GGML
#include <ggml-alloc.h>
#include <ggml-backend.h>
#include <ggml-cpu.h>
#include <ggml.h>
#endif

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace kr = KokkosRope;

namespace bench {

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;
using HostExec = Kokkos::DefaultHostExecutionSpace;

// ---- bfloat16 --------------------------------------------------------------------------------
// The library's 2-byte type: Kokkos::Experimental::bhalf_t is a 4-byte float in builds without a
// GPU backend, so a "bf16" tensor of the OpenMP/Serial builds would move fp32 bytes.
using bf16 = KokkosRope::bfloat16;

enum class DType { f32, bf16 };
inline const char* name(DType d) { return d == DType::f32 ? "f32" : "bf16"; }
inline std::size_t bytes_of(DType d) { return d == DType::f32 ? 4 : 2; }

struct Model {
  std::string name;
  int q_heads, kv_heads, head_dim;
};
inline const Model llama8b{"llama3.1-8b", 32, 8, 128};
inline const Model llama70b{"llama3.1-70b", 64, 8, 128};
inline const Model llama405b{"llama3.1-405b", 128, 8, 128};

/// Llama 3.1's rotary embedding (all three sizes share it).
inline kr::Params llama31_params(kr::PairStyle pair) {
  kr::Params p;
  p.head_dim = 128;
  p.rotary_dim = 128;
  p.theta = 500000.0;
  p.max_position_embeddings = 131072;
  p.pair_style = pair;
  p.scaling = kr::Llama3Scaling{8.0, 1.0, 4.0, 8192};
  return p;
}

enum class Kind { copy, fused, seed, ggml, proto };
enum class Src { table, otf };

struct Case {
  bool decode = false;
  Model model = llama8b;
  DType dtype = DType::bf16;
  std::int64_t batch = 1, seq = 1;
  std::int64_t max_offset = 0;  ///< decode: offsets in [0, max_offset)
  Kind kind = Kind::fused;
  Src source = Src::table;
  kr::PairStyle pair = kr::PairStyle::half_split;
  bool in_place = true;
  kr::Direction dir = kr::Direction::forward;

  std::int64_t tokens() const { return batch * seq; }
  std::int64_t q_elems() const { return tokens() * model.q_heads * model.head_dim; }
  std::int64_t k_elems() const { return tokens() * model.kv_heads * model.head_dim; }
  std::int64_t tensor_bytes() const {
    return (q_elems() + k_elems()) * static_cast<std::int64_t>(bytes_of(dtype));
  }
  /// Compulsory traffic of RoPE on q and k: every element read once and written once.
  std::int64_t moved_bytes() const { return 2 * tensor_bytes(); }
  std::int64_t positions() const { return decode ? max_offset : seq; }

  std::string variant() const {
    switch (kind) {
      case Kind::copy: return "copy";
      case Kind::seed:
        return std::string("seed_port") + (in_place ? "" : "_outofplace") +
               (dir == kr::Direction::backward ? "_backward" : "");
      case Kind::ggml: return std::string("ggml") + (in_place ? "" : "_outofplace");
      case Kind::proto: return "proto_table";
      case Kind::fused: break;
    }
    std::string v = source == Src::table ? "fused_table" : "fused_otf";
    if (pair == kr::PairStyle::interleaved) v += "_interleaved";
    if (!in_place) v += "_outofplace";
    if (dir == kr::Direction::backward) v += "_backward";
    return v;
  }
  std::string name() const {
    std::ostringstream s;
    s << (decode ? "decode/" : "prefill/") << model.name << '/' << bench::name(dtype) << '/' << variant()
      << (decode ? "/batch:" : "/seq:") << (decode ? batch : seq);
    return s.str();
  }
  /// key=value pairs for the post-processing (perf/report.py, perf/compare).
  std::string label() const {
    std::ostringstream s;
    s << "phase=" << (decode ? "decode" : "prefill") << " model=" << model.name << " dtype=" << bench::name(dtype)
      << " variant=" << variant() << " batch=" << batch << " seq=" << seq;
    if (kind == Kind::fused)
      s << " source=" << (source == Src::table ? "table" : "otf")
        << " pair=" << (pair == kr::PairStyle::half_split ? "half_split" : "interleaved");
    if (kind != Kind::copy)
      s << " place=" << (in_place ? "in" : "out") << " dir=" << (dir == kr::Direction::forward ? "fwd" : "bwd");
    if (kind == Kind::ggml) s << " ggml_type=" << (dtype == DType::f32 ? "f32" : "f16");
    if (decode) s << " max_offset=" << max_offset;
    return s.str();
  }
  /// Key under which a variant is verified once (the kernel does not depend on the shape).
  std::string verify_key() const {
    return std::string(decode ? "decode/" : "prefill/") + bench::name(dtype) + '/' + variant();
  }
  /// Peak bytes a benchmark of this case allocates (tensors, tables, temporaries).
  std::int64_t memory_bytes() const {
    const std::int64_t t = tensor_bytes(), eb = static_cast<std::int64_t>(bytes_of(dtype));
    const std::int64_t half = model.head_dim / 2;
    std::int64_t m = 0;
    switch (kind) {
      case Kind::copy: m = 2 * t; break;
      case Kind::fused:
      case Kind::proto:
        m = (in_place ? 1 : 2) * t + (source == Src::table ? positions() * half * 2 * 4 : 0);
        break;
      case Kind::seed:
        m = (in_place ? 1 : 2) * t + 2 * q_elems() * eb + positions() * model.head_dim * 2 * eb;
        break;
      case Kind::ggml: m = (in_place ? 1 : 2) * t; break;
    }
    return std::max(m, 2 * t);  // the in-run copy measurement of frac_of_copy
  }
};

// ---- run-wide state ---------------------------------------------------------------------------

struct Settings {
  std::string mode = "full";  ///< full | quick | smoke
  double min_time = 0.3;
  double mem_limit_gb = 6.0;
};
inline Settings settings;
inline bool any_failure = false;
inline std::map<std::string, double> verified;  ///< verify_key -> max scaled error (passed)
inline std::map<std::int64_t, double> copy_gbps_by_bytes;

inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

KOKKOS_INLINE_FUNCTION std::uint64_t splitmix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}
/// Deterministic uniform value in [-1, 1) for element i of stream `seed`.
KOKKOS_INLINE_FUNCTION float hash_uniform(std::uint64_t seed, std::uint64_t i) {
  std::uint64_t x = seed * 0x100000001b3ull + i + 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  x ^= x >> 31;
  return static_cast<float>(static_cast<double>(x >> 40) * (2.0 / 16777216.0) - 1.0);
}

template <class T>
using Tensor = Kokkos::View<T****, Kokkos::LayoutRight, Mem>;
template <class T>
using Flat = Kokkos::View<T*, Mem, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
template <class T>
using Rows = Kokkos::View<T**, Kokkos::LayoutRight, Mem, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;
using Range = Kokkos::RangePolicy<Exec, Kokkos::IndexType<std::int64_t>>;

template <class T>
struct FillRandom {
  Flat<T> v;
  std::uint64_t seed;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t i) const { v(i) = T(hash_uniform(seed, i)); }
};

template <class T>
void fill(const Exec& space, const Tensor<T>& t, std::uint64_t seed) {
  Kokkos::parallel_for("KokkosRope::bench::fill", Range(space, 0, t.span()),
                       FillRandom<T>{Flat<T>(t.data(), t.span()), seed});
}

template <class T>
std::vector<double> to_host(const Exec& space, const Tensor<T>& t) {
  Kokkos::View<T*, Kokkos::HostSpace> h(Kokkos::view_alloc(Kokkos::WithoutInitializing, "KokkosRope::bench::host"),
                                        t.span());
  Kokkos::deep_copy(space, h, Flat<T>(t.data(), t.span()));
  space.fence("KokkosRope::bench::to_host");
  std::vector<double> out(t.span());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(static_cast<float>(h(i)));
  return out;
}

// ---- the copy kernel (roofline) ---------------------------------------------------------------

struct CopyKernel {
  Kokkos::View<const std::uint64_t*, Mem> src;
  Kokkos::View<std::uint64_t*, Mem> dst;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t i) const { dst(i) = src(i); }
};

/// One application of a variant on its data; run() returns when the work is complete.
struct Instance {
  virtual ~Instance() = default;
  virtual void run() = 0;
  /// Current contents of the result tensors (q then k), as double.
  virtual std::vector<double> result_q() = 0;
  virtual std::vector<double> result_k() = 0;
  /// Contents of the inputs before any run (captured at setup for verification).
  std::vector<double> in_q, in_k;
  std::vector<std::int64_t> offsets;  ///< decode: per-sequence position offsets
};

struct CopyInstance : Instance {
  Exec space;
  Kokkos::View<std::uint64_t*, Mem> src, dst;
  explicit CopyInstance(std::int64_t bytes) {
    const std::int64_t n = (bytes + 7) / 8;
    src = decltype(src)(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "KokkosRope::bench::copy_src"), n);
    dst = decltype(dst)(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "KokkosRope::bench::copy_dst"), n);
    auto s = src;  // device lambdas capture Views, never `this`
    auto d = dst;
    Kokkos::parallel_for("KokkosRope::bench::fill", Range(space, 0, n), KOKKOS_LAMBDA(std::int64_t i) {
      s(i) = splitmix(static_cast<std::uint64_t>(i));
      d(i) = 0;
    });
    space.fence("KokkosRope::bench::copy_setup");
  }
  void run() override {
    Kokkos::parallel_for("KokkosRope::bench::copy", Range(space, 0, src.extent(0)), CopyKernel{src, dst});
    space.fence("KokkosRope::bench::copy");
  }
  bool check() {
    std::int64_t bad = 0;
    auto s = src;
    auto d = dst;
    Kokkos::parallel_reduce("KokkosRope::bench::copy_check", Range(space, 0, s.extent(0)),
                            KOKKOS_LAMBDA(std::int64_t i, std::int64_t & b) { b += s(i) != d(i) ? 1 : 0; }, bad);
    return bad == 0;
  }
  std::vector<double> result_q() override { return {}; }
  std::vector<double> result_k() override { return {}; }
};

/// GB/s of the copy kernel moving `tensor_bytes` (read) + `tensor_bytes` (written): taken from the
/// Copy benchmark of the same shape when it ran earlier in this process, else measured here.
inline double copy_gbps(std::int64_t tensor_bytes) {
  auto it = copy_gbps_by_bytes.find(tensor_bytes);
  if (it != copy_gbps_by_bytes.end()) return it->second;
  CopyInstance c(tensor_bytes);
  c.run();
  double total = 0;
  std::vector<double> times;
  while (times.size() < 5 || total < settings.min_time) {
    const auto t0 = std::chrono::steady_clock::now();
    c.run();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    total += times.back();
  }
  const double g = 2.0 * static_cast<double>(tensor_bytes) / median(times) / 1e9;
  copy_gbps_by_bytes[tensor_bytes] = g;
  return g;
}

// ---- the seed's approach, ported plainly ------------------------------------------------------
// HF-style: cos/sin tables [positions][head_dim] with duplicated halves (in the tensor dtype, as
// `cos.to(x.dtype)`), then per tensor four elementwise kernels:
//   rh = rotate_half(x); a = x * cos; rh = rh * sin; out = a + rh.
// The temporaries are allocated once (a caching allocator's steady state), not per call. The
// tables are filled with double-precision angles so that accuracy is not what differs.

struct SeedPos {
  std::int64_t seq;
  int heads;
  Kokkos::View<const std::int64_t*, Mem> offsets;  ///< decode only; empty for prefill
  KOKKOS_INLINE_FUNCTION std::int64_t operator()(std::int64_t row) const {
    const std::int64_t token = row / heads;
    const std::int64_t b = token / seq;
    const std::int64_t s = token - b * seq;
    return offsets.extent(0) > 0 ? offsets(b) + s : s;
  }
};

template <class T>
struct SeedTable {
  Kokkos::View<const double*, Mem> inv_freq;
  Kokkos::View<T**, Kokkos::LayoutRight, Mem> cos, sin;
  double attention_factor;
  int half;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t idx) const {
    const std::int64_t dim = 2 * half;
    const std::int64_t p = idx / dim;
    const int d = static_cast<int>(idx - p * dim);
    const double angle = static_cast<double>(p) * inv_freq(d % half);
    cos(p, d) = T(static_cast<float>(Kokkos::cos(angle) * attention_factor));
    sin(p, d) = T(static_cast<float>(Kokkos::sin(angle) * attention_factor));
  }
};

template <class T>
struct SeedRotateHalf {  // rh = cat(-x[..., half:], x[..., :half])
  Rows<const T> x;
  Rows<T> rh;
  int half;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t r) const {
    for (int d = 0; d < half; ++d) rh(r, d) = T(-static_cast<float>(x(r, d + half)));
    for (int d = 0; d < half; ++d) rh(r, d + half) = x(r, d);
  }
};

template <class T>
struct SeedMul {  // out = x * table[pos]
  Rows<const T> x;
  Rows<T> out;
  Kokkos::View<const T**, Kokkos::LayoutRight, Mem> table;
  SeedPos pos;
  int dim;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t r) const {
    const std::int64_t p = pos(r);
    for (int d = 0; d < dim; ++d) out(r, d) = T(static_cast<float>(x(r, d)) * static_cast<float>(table(p, d)));
  }
};

template <class T>
struct SeedAdd {  // out = a + b
  Rows<const T> a, b;
  Rows<T> out;
  int dim;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t r) const {
    for (int d = 0; d < dim; ++d) out(r, d) = T(static_cast<float>(a(r, d)) + static_cast<float>(b(r, d)));
  }
};

// ---- a prototype of the fused kernel (for the profiling report) ------------------------------
// RangePolicy over tokens, the token's cos/sin row read from the table once, every head rotated
// by a plain loop over restrict pointers (half-split, in place, forward): what the library kernel
// does, without teams, scratch and 4-D indexing.
template <class T>
struct ProtoKernel {
  T* q;
  T* k;
  const float* cos;
  const float* sin;
  Kokkos::View<const std::int64_t*, Mem> offsets;  ///< decode only
  std::int64_t seq;
  int hq, hk, dim;

  static KOKKOS_FORCEINLINE_FUNCTION void rot(T* KOKKOS_RESTRICT x1, T* KOKKOS_RESTRICT x2,
                                              const float* KOKKOS_RESTRICT c, const float* KOKKOS_RESTRICT s,
                                              int half) {
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC ivdep
#endif
    for (int i = 0; i < half; ++i) {
      const float a = static_cast<float>(x1[i]), b = static_cast<float>(x2[i]);
      x1[i] = T(a * c[i] - b * s[i]);
      x2[i] = T(b * c[i] + a * s[i]);
    }
  }
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t t) const {
    const int half = dim / 2;
    const std::int64_t b = t / seq, sidx = t - b * seq;
    const std::int64_t pos = offsets.extent(0) > 0 ? offsets(b) + sidx : sidx;
    const float* c = cos + pos * half;
    const float* s = sin + pos * half;
    T* xq = q + t * hq * dim;
    for (int h = 0; h < hq; ++h) rot(xq + h * dim, xq + h * dim + half, c, s, half);
    T* xk = k + t * hk * dim;
    for (int h = 0; h < hk; ++h) rot(xk + h * dim, xk + h * dim + half, c, s, half);
  }
};

// ---- Kokkos variants (fused library kernel, seed port) ----------------------------------------

template <class T>
struct KokkosInstance : Instance {
  Exec space;
  Case c;
  Tensor<T> q, k, qo, ko;
  Kokkos::View<std::int64_t*, Mem> d_offsets;
  std::function<void()> op;
  // seed port
  Kokkos::View<T**, Kokkos::LayoutRight, Mem> seed_cos, seed_sin, tmp_a, tmp_rh;

  explicit KokkosInstance(const Case& cs) : c(cs) {
    const int D = c.model.head_dim;
    auto alloc = [&](const char* label, int heads) {
      return Tensor<T>(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, std::string("KokkosRope::bench::") + label),
                       c.batch, c.seq, heads, D);
    };
    q = alloc("q", c.model.q_heads);
    k = alloc("k", c.model.kv_heads);
    fill(space, q, 1);
    fill(space, k, 2);
    if (!c.in_place) {
      qo = alloc("q_out", c.model.q_heads);
      ko = alloc("k_out", c.model.kv_heads);
      fill(space, qo, 3);
      fill(space, ko, 4);
    }
    if (c.decode) {
      d_offsets = decltype(d_offsets)(Kokkos::view_alloc(space, "KokkosRope::bench::offsets"), c.batch);
      auto h = Kokkos::create_mirror_view(Kokkos::HostSpace{}, d_offsets);
      for (std::int64_t b = 0; b < c.batch; ++b)
        h(b) = static_cast<std::int64_t>(splitmix(0x5eedull + b) % static_cast<std::uint64_t>(c.max_offset));
      Kokkos::deep_copy(space, d_offsets, h);
      space.fence("KokkosRope::bench::offsets");
      offsets.assign(h.data(), h.data() + c.batch);
    }
    if (c.kind == Kind::fused) make_fused();
    else if (c.kind == Kind::proto) make_proto();
    else make_seed();
    space.fence("KokkosRope::bench::setup");
  }

  template <class Source, class Positions>
  void make_fused_with(const Source& source, const Positions& positions) {
    kr::RotateOptions opts;
    opts.direction = c.dir;
    auto sp = space;
    auto q_ = q, k_ = k, qo_ = qo, ko_ = ko;
    if (c.in_place) op = [=]() { kr::rotate(sp, kr::bshd, q_, k_, source, positions, opts); };
    else op = [=]() { kr::rotate_copy(sp, kr::bshd, q_, k_, qo_, ko_, source, positions, opts); };
  }
  template <class Source>
  void make_fused_source(const Source& source) {
    if (c.decode) make_fused_with(source, kr::sequence_offsets(d_offsets));
    else make_fused_with(source, kr::ImplicitPositions{});
  }
  void make_fused() {
    const kr::Params params = llama31_params(c.pair);
    if (c.source == Src::table)
      make_fused_source(kr::Table<Mem, float>(space, params, c.positions(), kr::Precision::accurate));
    else
      make_fused_source(kr::OnTheFly<Mem>(space, params, kr::Precision::accurate));
  }

  void make_proto() {
    kr::Table<Mem, float> table(space, llama31_params(kr::PairStyle::half_split), c.positions(),
                                kr::Precision::accurate);
    ProtoKernel<T> kernel{q.data(), k.data(), table.cos().data(), table.sin().data(),
                          c.decode ? Kokkos::View<const std::int64_t*, Mem>(d_offsets)
                                   : Kokkos::View<const std::int64_t*, Mem>(),
                          c.seq, c.model.q_heads, c.model.kv_heads, c.model.head_dim};
    auto sp = space;
    const std::int64_t tokens = c.tokens();
    op = [=]() {
      (void)table;  // keeps the table alive
      Kokkos::parallel_for("KokkosRope::bench::proto", Range(sp, 0, tokens), kernel);
    };
  }

  void make_seed() {
    const int D = c.model.head_dim, half = D / 2;
    const kr::Frequencies f = kr::compute_frequencies(llama31_params(kr::PairStyle::half_split));
    Kokkos::View<double*, Mem> inv_freq(Kokkos::view_alloc(space, "KokkosRope::bench::seed_inv_freq"), half);
    Kokkos::View<const double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> hf(f.inv_freq.data(), half);
    Kokkos::deep_copy(space, inv_freq, hf);
    const std::int64_t P = c.positions();
    auto lab = [](const char* s) { return std::string("KokkosRope::bench::seed_") + s; };
    seed_cos = decltype(seed_cos)(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, lab("cos")), P, D);
    seed_sin = decltype(seed_sin)(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, lab("sin")), P, D);
    Kokkos::parallel_for("KokkosRope::bench::seed_table", Range(space, 0, P * D),
                         SeedTable<T>{inv_freq, seed_cos, seed_sin, f.attention_factor, half});
    const std::int64_t rows = c.q_elems() / D;
    tmp_a = decltype(tmp_a)(Kokkos::view_alloc(space, lab("tmp_a")), rows, D);
    tmp_rh = decltype(tmp_rh)(Kokkos::view_alloc(space, lab("tmp_rh")), rows, D);
    space.fence("KokkosRope::bench::seed_setup");

    const bool backward = c.dir == kr::Direction::backward;
    auto per_tensor = [=, sp = space, cos = seed_cos, sin = seed_sin, ta = tmp_a, trh = tmp_rh,
                       off = d_offsets, decode = c.decode, seq = c.seq](const Tensor<T>& x, const Tensor<T>& out) {
      const int heads = static_cast<int>(x.extent(2));
      const std::int64_t n = x.extent(0) * x.extent(1) * x.extent(2);
      Rows<T> xr(x.data(), n, D), outr(out.data(), n, D), a(ta.data(), n, D), rh(trh.data(), n, D);
      SeedPos pos{seq, heads, decode ? Kokkos::View<const std::int64_t*, Mem>(off) : Kokkos::View<const std::int64_t*, Mem>()};
      Kokkos::parallel_for("KokkosRope::bench::seed_rotate_half", Range(sp, 0, n), SeedRotateHalf<T>{xr, rh, half});
      Kokkos::parallel_for("KokkosRope::bench::seed_mul_cos", Range(sp, 0, n), SeedMul<T>{xr, a, cos, pos, D});
      // backward: RoPE^-1 = RoPE with sin negated; the seed would pass -sin, i.e. a negated table.
      (void)backward;
      Kokkos::parallel_for("KokkosRope::bench::seed_mul_sin", Range(sp, 0, n), SeedMul<T>{rh, rh, sin, pos, D});
      Kokkos::parallel_for("KokkosRope::bench::seed_add", Range(sp, 0, n), SeedAdd<T>{a, rh, outr, D});
    };
    if (backward) {  // the seed's backward: the same kernels with a negated sin table (built once)
      auto s = seed_sin;
      Kokkos::parallel_for("KokkosRope::bench::seed_neg_sin", Range(space, 0, s.span()), KOKKOS_LAMBDA(std::int64_t i) {
        s.data()[i] = T(-static_cast<float>(s.data()[i]));
      });
      space.fence("KokkosRope::bench::seed_setup");
    }
    auto q_ = q, k_ = k;
    auto qo_ = c.in_place ? q : qo, ko_ = c.in_place ? k : ko;
    op = [=]() {
      per_tensor(q_, qo_);
      per_tensor(k_, ko_);
    };
  }

  void run() override {
    op();
    space.fence("KokkosRope::bench::run");
  }
  std::vector<double> result_q() override { return to_host(space, c.in_place ? q : qo); }
  std::vector<double> result_k() override { return to_host(space, c.in_place ? k : ko); }
  void capture_inputs() {
    in_q = to_host(space, q);
    in_k = to_host(space, k);
  }
};

// ---- ggml's rope ------------------------------------------------------------------------------
#ifdef KOKKOSROPE_BENCH_HAVE_GGML
struct GgmlRuntime {
  ggml_backend_t backend = nullptr;
  int threads = 1;
  std::string name;
};
inline GgmlRuntime& ggml_runtime() {
  static GgmlRuntime rt = [] {
    GgmlRuntime r;
    ggml_backend_load_all();
    r.backend = ggml_backend_init_by_type(GGML_BACKEND_DEVICE_TYPE_CPU, nullptr);
    if (r.backend == nullptr) throw std::runtime_error("ggml: no CPU backend could be loaded");
    r.threads = HostExec().concurrency();
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(ggml_backend_get_device(r.backend));
    auto set_threads = reinterpret_cast<ggml_backend_set_n_threads_t>(
        ggml_backend_reg_get_proc_address(reg, "ggml_backend_set_n_threads"));
    if (set_threads == nullptr) throw std::runtime_error("ggml: the CPU backend has no ggml_backend_set_n_threads");
    set_threads(r.backend, r.threads);
    r.name = std::string(ggml_backend_name(r.backend)) + " (" + ggml_backend_dev_description(ggml_backend_get_device(r.backend)) + ")";
    return r;
  }();
  return rt;
}
inline void ggml_shutdown() {
  auto& rt = ggml_runtime();
  if (rt.backend) ggml_backend_free(rt.backend);
  rt.backend = nullptr;
}

/// Llama 3 as ggml applies it: theta_i = p * base^(-2i/d) / freq_factors[i]; the factors are the
/// ratio of unscaled to scaled inverse frequencies (what llama.cpp's converter writes to rope_freqs).
inline std::vector<float> llama3_freq_factors() {
  kr::Params plain = llama31_params(kr::PairStyle::half_split);
  plain.scaling = kr::NoScaling{};
  const auto base = kr::compute_frequencies(plain).inv_freq;
  const auto scaled = kr::compute_frequencies(llama31_params(kr::PairStyle::half_split)).inv_freq;
  std::vector<float> ff(base.size());
  for (std::size_t i = 0; i < ff.size(); ++i) ff[i] = static_cast<float>(base[i] / scaled[i]);
  return ff;
}

struct GgmlInstance : Instance {
  Case c;
  ggml_context* ctx = nullptr;
  ggml_backend_buffer_t buffer = nullptr;
  ggml_cgraph* graph = nullptr;
  ggml_tensor *q = nullptr, *k = nullptr, *rq = nullptr, *rk = nullptr;

  explicit GgmlInstance(const Case& cs) : c(cs) {
    auto& rt = ggml_runtime();
    ggml_init_params ip{ggml_tensor_overhead() * 16 + ggml_graph_overhead() + 4096, nullptr, true};
    ctx = ggml_init(ip);
    const ggml_type type = c.dtype == DType::f32 ? GGML_TYPE_F32 : GGML_TYPE_F16;
    const int D = c.model.head_dim;
    const std::int64_t T = c.tokens();  // decode: one token per sequence, its own position
    q = ggml_new_tensor_3d(ctx, type, D, c.model.q_heads, T);
    k = ggml_new_tensor_3d(ctx, type, D, c.model.kv_heads, T);
    ggml_tensor* pos = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, T);
    ggml_tensor* ff = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, D / 2);
    auto rope = c.in_place ? ggml_rope_ext_inplace : ggml_rope_ext;
    if (c.dir == kr::Direction::backward) throw std::invalid_argument("ggml variant: forward only");
    rq = rope(ctx, q, pos, ff, D, GGML_ROPE_TYPE_NEOX, 131072, 500000.0f, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f);
    rk = rope(ctx, k, pos, ff, D, GGML_ROPE_TYPE_NEOX, 131072, 500000.0f, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f);
    graph = ggml_new_graph(ctx);
    ggml_build_forward_expand(graph, rq);
    ggml_build_forward_expand(graph, rk);
    buffer = ggml_backend_alloc_ctx_tensors(ctx, rt.backend);
    if (buffer == nullptr) throw std::runtime_error("ggml: tensor allocation failed");
    fill_tensor(q, 1);
    fill_tensor(k, 2);
    auto* p = static_cast<std::int32_t*>(pos->data);
    if (c.decode) {
      for (std::int64_t b = 0; b < c.batch; ++b) {
        offsets.push_back(static_cast<std::int64_t>(splitmix(0x5eedull + b) % static_cast<std::uint64_t>(c.max_offset)));
        p[b] = static_cast<std::int32_t>(offsets.back());
      }
    } else {
      for (std::int64_t t = 0; t < T; ++t) p[t] = static_cast<std::int32_t>(t % c.seq);
    }
    const auto factors = llama3_freq_factors();
    std::memcpy(ff->data, factors.data(), factors.size() * sizeof(float));
  }
  ~GgmlInstance() override {
    if (buffer) ggml_backend_buffer_free(buffer);
    if (ctx) ggml_free(ctx);
  }
  void fill_tensor(ggml_tensor* t, std::uint64_t seed) {
    const std::int64_t n = ggml_nelements(t);
    const bool f16 = t->type == GGML_TYPE_F16;
    void* data = t->data;
    const std::int64_t chunk = 4096;
    Kokkos::parallel_for("KokkosRope::bench::ggml_fill",
                         Kokkos::RangePolicy<HostExec, Kokkos::IndexType<std::int64_t>>(0, (n + chunk - 1) / chunk),
                         [=](std::int64_t ci) {
                           float buf[4096];
                           const std::int64_t first = ci * chunk, len = std::min(chunk, n - first);
                           for (std::int64_t j = 0; j < len; ++j) buf[j] = hash_uniform(seed, first + j);
                           if (f16) ggml_fp32_to_fp16_row(buf, static_cast<ggml_fp16_t*>(data) + first, len);
                           else std::memcpy(static_cast<float*>(data) + first, buf, len * sizeof(float));
                         });
    HostExec().fence("KokkosRope::bench::ggml_fill");
  }
  static std::vector<double> read(const ggml_tensor* t) {
    const std::int64_t n = ggml_nelements(t);
    std::vector<float> f(n);
    if (t->type == GGML_TYPE_F16) ggml_fp16_to_fp32_row(static_cast<const ggml_fp16_t*>(t->data), f.data(), n);
    else std::memcpy(f.data(), t->data, n * sizeof(float));
    return std::vector<double>(f.begin(), f.end());
  }
  void run() override {
    if (ggml_backend_graph_compute(ggml_runtime().backend, graph) != GGML_STATUS_SUCCESS)
      throw std::runtime_error("ggml: graph compute failed");
  }
  std::vector<double> result_q() override { return read(rq); }
  std::vector<double> result_k() override { return read(rk); }
  void capture_inputs() {
    in_q = read(q);
    in_k = read(k);
  }
};
#endif

// ---- verification -----------------------------------------------------------------------------

/// Largest |y - ref| / (abs_tol + rel_tol * (|x1| + |x2|)) over every pair of q and k: <= 1 passes.
/// `rel_per_position`: added to rel_tol per unit of position (ggml forms angles in float).
/// `raw` receives the largest |y - ref| / (|x1| + |x2|).
inline double scaled_error(const Case& c, const Instance& inst, const std::vector<double>& yq,
                           const std::vector<double>& yk, double rel_tol, double abs_tol,
                           double rel_per_position, double& raw) {
  const kr::Frequencies f = kr::compute_frequencies(llama31_params(c.pair));
  const int D = c.model.head_dim, half = D / 2;
  const bool inter = c.kind == Kind::fused && c.pair == kr::PairStyle::interleaved;
  const double sign = c.dir == kr::Direction::backward ? -1.0 : 1.0;
  double worst = 0;
  raw = 0;
  auto check = [&](const std::vector<double>& x, const std::vector<double>& y, int heads) {
    if (x.size() != y.size() || static_cast<std::int64_t>(x.size()) != c.tokens() * heads * D)
      throw std::runtime_error("verification: result has the wrong size");
    for (std::int64_t t = 0; t < c.tokens(); ++t) {
      const std::int64_t b = t / c.seq, s = t % c.seq;
      const std::int64_t p = c.decode ? inst.offsets.at(b) + s : s;
      for (int h = 0; h < heads; ++h) {
        const std::size_t base = static_cast<std::size_t>((t * heads + h) * D);
        for (int i = 0; i < half; ++i) {
          const int i1 = inter ? 2 * i : i, i2 = inter ? 2 * i + 1 : i + half;
          const double angle = static_cast<double>(p) * f.inv_freq[i];
          const double cs = std::cos(angle) * f.attention_factor, sn = sign * std::sin(angle) * f.attention_factor;
          const double x1 = x[base + i1], x2 = x[base + i2];
          const double r1 = x1 * cs - x2 * sn, r2 = x2 * cs + x1 * sn;
          const double mag = std::abs(x1) + std::abs(x2);
          const double tol = abs_tol + (rel_tol + rel_per_position * static_cast<double>(p)) * mag;
          const double diff = std::max(std::abs(y[base + i1] - r1), std::abs(y[base + i2] - r2));
          const double e = diff / tol;
          if (mag > 0 && diff / mag > raw) raw = diff / mag;
          if (!(e <= worst)) worst = std::isnan(e) ? INFINITY : std::max(worst, e);
        }
      }
    }
  };
  check(inst.in_q, yq, c.model.q_heads);
  check(inst.in_k, yk, c.model.kv_heads);
  return worst;
}

/// Tolerances: fused f32 (accurate cos/sin, float products): 4e-6 relative; bf16 output: one
/// rounding (2^-8 relative to |x1|+|x2|); the seed port rounds every intermediate (and its tables)
/// to bf16: 2^-6; ggml computes the angle in float by a running product: 1e-3 (f32), plus f16
/// rounding (2^-8), plus 16 float ulps of the angle per unit of position (16 p 2^-24: 0.125 at
/// p = 128K -- ggml's angles at long positions are that far off; the JSON's verify_err shows it).
inline std::pair<double, double> tolerance(const Case& c) {
  const bool f32 = c.dtype == DType::f32;
  switch (c.kind) {
    case Kind::ggml: return {f32 ? 1e-3 : 1e-3 + 0.00390625, 1e-6};
    case Kind::seed: return {f32 ? 4e-6 : 0.015625, 1e-6};
    default: return {f32 ? 4e-6 : 0.00390625, 1e-6};
  }
}

/// Verifies a variant once (on a small version of the case); returns false (and reports) on a
/// mismatch.
inline bool verify_once(const Case& c, std::string& message) {
  const std::string key = c.verify_key();
  if (verified.count(key)) return true;
  Case small = c;
  if (c.decode) small.batch = std::min<std::int64_t>(c.batch, 8);
  else small.seq = std::min<std::int64_t>(c.seq, 64);
  double err = 0, raw = 0;
  if (c.kind == Kind::copy) {
    CopyInstance inst(small.tensor_bytes());
    inst.run();
    err = inst.check() ? 0.0 : INFINITY;
  } else {
    std::unique_ptr<Instance> inst;
    auto go = [&](auto* typed) {
      typed->capture_inputs();
      typed->run();
      const auto [rel, abs] = tolerance(small);
      err = scaled_error(small, *typed, typed->result_q(), typed->result_k(), rel, abs,
                         small.kind == Kind::ggml ? 16.0 / 16777216.0 : 0.0, raw);
    };
    if (c.kind == Kind::ggml) {
#ifdef KOKKOSROPE_BENCH_HAVE_GGML
      GgmlInstance g(small);
      go(&g);
#endif
    } else if (c.dtype == DType::f32) {
      KokkosInstance<float> g(small);
      go(&g);
    } else {
      KokkosInstance<bf16> g(small);
      go(&g);
    }
  }
  if (!(err <= 1.0)) {
    std::ostringstream s;
    s << "VERIFICATION FAILED: " << key << ": worst error is " << err << " x the tolerance";
    message = s.str();
    std::cerr << message << std::endl;
    any_failure = true;
    return false;
  }
  verified[key] = raw;
  std::cerr << "verified " << key << " (worst error " << err << " x tolerance, " << raw << " relative)" << std::endl;
  return true;
}

// ---- the benchmark body -----------------------------------------------------------------------


inline void run_case(benchmark::State& state, const Case& c) {
  try {
    std::string message;
    if (!verify_once(c, message)) {
      state.SkipWithError(message);
      return;
    }
    const double copy = c.kind == Kind::copy ? 0.0 : copy_gbps(c.tensor_bytes());
    std::unique_ptr<Instance> inst;
    if (c.kind == Kind::copy) inst = std::make_unique<CopyInstance>(c.tensor_bytes());
#ifdef KOKKOSROPE_BENCH_HAVE_GGML
    else if (c.kind == Kind::ggml) inst = std::make_unique<GgmlInstance>(c);
#endif
    else if (c.dtype == DType::f32) inst = std::make_unique<KokkosInstance<float>>(c);
    else inst = std::make_unique<KokkosInstance<bf16>>(c);

    inst->run();  // warm-up: first touch, kernel and thread start-up
    std::vector<double> times;
    for (auto _ : state) {
      const auto t0 = std::chrono::steady_clock::now();
      inst->run();  // launch(es) + fence of the instance
      const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      state.SetIterationTime(dt);
      times.push_back(dt);
    }
    // GB/s from the median iteration: robust to the other tenants of a shared machine (the mean is
    // Google Benchmark's own real_time column).
    const double t_median = median(times);
    const double gbps = static_cast<double>(c.moved_bytes()) / t_median / 1e9;
    if (c.kind == Kind::copy) copy_gbps_by_bytes[c.tensor_bytes()] = gbps;
    state.counters["bytes"] = static_cast<double>(c.moved_bytes());
    state.counters["GB/s"] = gbps;
    state.counters["frac_of_copy"] = c.kind == Kind::copy ? 1.0 : gbps / copy;
    state.counters["copy_GB/s"] = c.kind == Kind::copy ? gbps : copy;
    state.counters["verified"] = 1.0;
    state.counters["verify_err"] = verified[c.verify_key()];
    state.counters["median_s"] = t_median;
    state.counters["threads"] = c.kind == Kind::ggml ? static_cast<double>(HostExec().concurrency())
                                                     : static_cast<double>(Exec().concurrency());
    state.counters["batch"] = static_cast<double>(c.batch);
    state.counters["seq"] = static_cast<double>(c.seq);
    state.SetLabel(c.label());
  } catch (const std::exception& e) {
    any_failure = true;
    std::cerr << "ERROR in " << c.name() << ": " << e.what() << std::endl;
    state.SkipWithError(e.what());
  }
}

// ---- the suite --------------------------------------------------------------------------------

inline std::vector<Case> suite(const std::string& mode, bool with_ggml) {
  const bool full = mode == "full", smoke = mode == "smoke";
  std::vector<Case> cases;
  const std::vector<DType> dtypes{DType::bf16, DType::f32};
  auto headline = [&](const Case& c) {  // copy, fused (table, on the fly), seed port, ggml
    const std::pair<Kind, Src> variants[] = {{Kind::copy, Src::table}, {Kind::fused, Src::table},
                                             {Kind::fused, Src::otf},  {Kind::seed, Src::table},
                                             {Kind::ggml, Src::table}, {Kind::proto, Src::table}};
    for (const auto& [kind, src] : variants) {
      if (kind == Kind::ggml && !with_ggml) continue;
      Case v = c;
      v.kind = kind;
      v.source = src;
      cases.push_back(v);
    }
  };
  // Prefill: batch 1, the three model sizes, sequence sweep.
  std::vector<std::pair<Model, std::vector<std::int64_t>>> prefill;
  if (full) {
    prefill = {{llama8b, {1024, 4096, 16384, 65536, 131072}},
               {llama70b, {1024, 4096, 16384, 65536, 131072}},
               {llama405b, {1024, 4096, 16384, 65536}}};
  } else if (smoke) {
    prefill = {{llama8b, {256}}};
  } else {
    prefill = {{llama8b, {1024, 4096, 16384}}};
  }
  for (const auto& [model, seqs] : prefill)
    for (DType d : dtypes)
      for (std::int64_t s : seqs) {
        Case c;
        c.model = model;
        c.dtype = d;
        c.seq = s;
        headline(c);
      }
  // Decode: one token per sequence at offsets up to 128K (the smoke test: up to 4K).
  const std::vector<std::int64_t> batches =
      full ? std::vector<std::int64_t>{1, 4, 16, 64, 256} : smoke ? std::vector<std::int64_t>{4}
                                                                  : std::vector<std::int64_t>{1, 64};
  for (DType d : dtypes)
    for (std::int64_t b : batches) {
      Case c;
      c.decode = true;
      c.dtype = d;
      c.batch = b;
      c.seq = 1;
      c.max_offset = smoke ? 4096 : 131072;
      headline(c);
    }
  // The variant matrix on one shape: source x pair style x place x direction, plus the seed port's
  // out-of-place and backward forms.
  const std::int64_t matrix_seq = full ? 16384 : smoke ? 256 : 4096;
  for (DType d : full ? dtypes : std::vector<DType>{DType::bf16}) {
    for (Src src : {Src::table, Src::otf})
      for (kr::PairStyle pair : {kr::PairStyle::half_split, kr::PairStyle::interleaved})
        for (bool in_place : {true, false})
          for (kr::Direction dir : {kr::Direction::forward, kr::Direction::backward}) {
            Case c;
            c.dtype = d;
            c.seq = matrix_seq;
            c.source = src;
            c.pair = pair;
            c.in_place = in_place;
            c.dir = dir;
            if (std::none_of(cases.begin(), cases.end(), [&](const Case& o) { return o.name() == c.name(); }))
              cases.push_back(c);
          }
    for (bool in_place : {true, false})
      for (kr::Direction dir : {kr::Direction::forward, kr::Direction::backward}) {
        Case c;
        c.dtype = d;
        c.seq = matrix_seq;
        c.kind = Kind::seed;
        c.in_place = in_place;
        c.dir = dir;
        if (std::none_of(cases.begin(), cases.end(), [&](const Case& o) { return o.name() == c.name(); }))
          cases.push_back(c);
      }
    if (with_ggml) {
      Case c;
      c.dtype = d;
      c.seq = matrix_seq;
      c.kind = Kind::ggml;
      c.in_place = false;
      cases.push_back(c);
    }
  }
  return cases;
}

inline std::string kokkos_version() {
  std::ostringstream s;
  s << KOKKOS_VERSION / 10000 << '.' << (KOKKOS_VERSION / 100) % 100 << '.' << KOKKOS_VERSION % 100;
  return s.str();
}

}  // namespace bench

int main(int argc, char** argv) {
  Kokkos::ScopeGuard guard(argc, argv);
  using namespace bench;
  // Our own flags (removed before Google Benchmark parses the rest).
  if (const char* env = std::getenv("KOKKOSROPE_BENCH_MODE")) settings.mode = env;
  if (const char* env = std::getenv("KOKKOSROPE_BENCH_MEM_GB")) settings.mem_limit_gb = std::atof(env);
  bool min_time_given = false;
  int out = 1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--quick") settings.mode = "quick";
    else if (a == "--smoke") settings.mode = "smoke";
    else if (a.rfind("--mode=", 0) == 0) settings.mode = a.substr(7);
    else if (a.rfind("--mem-gb=", 0) == 0) settings.mem_limit_gb = std::atof(a.c_str() + 9);
    else {
      if (a.rfind("--benchmark_min_time", 0) == 0) min_time_given = true;
      argv[out++] = argv[i];
      continue;
    }
  }
  argc = out;
  if (settings.mode != "full" && settings.mode != "quick" && settings.mode != "smoke") {
    std::cerr << "kokkos-rope-bench: invalid --mode=" << settings.mode << " (full, quick or smoke)" << std::endl;
    return 2;
  }
  settings.min_time = settings.mode == "full" ? 0.2 : settings.mode == "quick" ? 0.05 : 0.002;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;

#ifdef KOKKOSROPE_BENCH_HAVE_GGML
  const bool with_ggml = true;
#else
  const bool with_ggml = false;
#endif
  std::ostringstream config;
  Kokkos::print_configuration(config);
  benchmark::AddCustomContext("kokkosrope_version", KOKKOSROPE_VERSION_STRING);
  benchmark::AddCustomContext("git_revision", KOKKOSROPE_BENCH_GIT_REVISION);
  benchmark::AddCustomContext("kokkos_version", kokkos_version());
  benchmark::AddCustomContext("kokkos_execution_space", Exec::name());
  benchmark::AddCustomContext("kokkos_concurrency", std::to_string(Exec().concurrency()));
  benchmark::AddCustomContext("kokkos_configuration", config.str());
  benchmark::AddCustomContext("bench_mode", settings.mode);
  benchmark::AddCustomContext("precision", "accurate");
  benchmark::AddCustomContext("bf16_storage", "2-byte KokkosRope::bfloat16; Kokkos bhalf_t is " +
                                                  std::to_string(sizeof(Kokkos::Experimental::bhalf_t)) +
                                                  " bytes in this build");
  benchmark::AddCustomContext("frac_of_copy", "GB/s over the copy kernel's GB/s for the same bytes, same run, same space");
  benchmark::AddCustomContext("compiler", __VERSION__);
#ifdef KOKKOSROPE_BENCH_NATIVE
  benchmark::AddCustomContext("bench_march", "native");
#else
  benchmark::AddCustomContext("bench_march", "default");
#endif
  {
    std::ifstream load("/proc/loadavg");
    std::string l1;
    if (load >> l1) benchmark::AddCustomContext("loadavg_at_start", l1);
  }
#ifdef KOKKOSROPE_BENCH_HAVE_GGML
  try {
    benchmark::AddCustomContext("ggml_backend", ggml_runtime().name);
    benchmark::AddCustomContext("ggml_threads", std::to_string(ggml_runtime().threads));
  } catch (const std::exception& e) {
    std::cerr << "kokkos-rope-bench: " << e.what() << std::endl;
    return 1;
  }
#endif

  const double limit = settings.mem_limit_gb * 1e9;
  for (const Case& c : suite(settings.mode, with_ggml)) {
    if (static_cast<double>(c.memory_bytes()) > limit) {
      std::cerr << "skipped " << c.name() << ": needs " << c.memory_bytes() / 1e9 << " GB > --mem-gb="
                << settings.mem_limit_gb << std::endl;
      continue;
    }
    auto* b = benchmark::RegisterBenchmark(c.name(), [c](benchmark::State& st) { run_case(st, c); });
    b->UseManualTime()->Unit(benchmark::kMillisecond);
    if (!min_time_given) b->MinTime(settings.min_time);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
#ifdef KOKKOSROPE_BENCH_HAVE_GGML
  ggml_shutdown();
#endif
  if (any_failure) {
    std::cerr << "kokkos-rope-bench: FAILED (a variant did not verify or errored; see above)" << std::endl;
    return 1;
  }
  return 0;
}
