// SPDX-License-Identifier: Apache-2.0
// The Kokkos variants of kokkos-rope-bench: the library's fused kernel (KokkosRope::rotate and
// rotate_copy, cos/sin from a Table or OnTheFly) and a plain port of the seed's approach.
#include "KokkosRopeBench_Context.hpp"

#include <functional>

namespace KokkosRopeBench {

template <class T>
using Tensor = Kokkos::View<T****, Kokkos::LayoutRight, Mem>;
template <class T>
using Rows = Kokkos::View<T**, Kokkos::LayoutRight, Mem, Kokkos::MemoryTraits<Kokkos::Unmanaged>>;

/// The contents of `t` on the host, as double (the verification's view of a result).
template <class T>
std::vector<double> to_host(const Exec& space, const Tensor<T>& t) {
  Kokkos::View<T*, Kokkos::HostSpace> h(
      Kokkos::view_alloc(Kokkos::WithoutInitializing, "KokkosRope::bench::host"), t.span());
  Kokkos::deep_copy(space, h, Kokkos::View<const T*, Mem, Kokkos::MemoryUnmanaged>(t.data(), t.span()));
  space.fence("KokkosRope::bench::to_host");
  std::vector<double> out(t.span());
  for (std::size_t i = 0; i < out.size(); ++i) out[i] = static_cast<double>(static_cast<float>(h(i)));
  return out;
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
    for (int d = 0; d < dim; ++d)
      out(r, d) = T(static_cast<float>(x(r, d)) * static_cast<float>(table(p, d)));
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
      return Tensor<T>(
          Kokkos::view_alloc(space, Kokkos::WithoutInitializing, std::string("KokkosRope::bench::") + label),
          c.batch, c.seq, heads, D);
    };
    q = alloc("q", c.model.q_heads);
    k = alloc("k", c.model.kv_heads);
    KokkosRopeTesting::fill(space, q, seed_q);
    KokkosRopeTesting::fill(space, k, seed_k);
    if (!c.in_place) {
      qo = alloc("q_out", c.model.q_heads);
      ko = alloc("k_out", c.model.kv_heads);
      KokkosRopeTesting::fill(space, qo, seed_q_out);
      KokkosRopeTesting::fill(space, ko, seed_k_out);
    }
    if (c.decode) {
      d_offsets = decltype(d_offsets)(Kokkos::view_alloc(space, "KokkosRope::bench::offsets"), c.batch);
      auto h = Kokkos::create_mirror_view(Kokkos::HostSpace{}, d_offsets);
      for (std::int64_t b = 0; b < c.batch; ++b) h(b) = decode_offset(b, c.max_offset);
      Kokkos::deep_copy(space, d_offsets, h);
      space.fence("KokkosRope::bench::offsets");
    }
    if (c.kind == Kind::fused)
      make_fused();
    else
      make_seed();
    space.fence("KokkosRope::bench::setup");
  }

  template <class Source, class Positions>
  void make_fused_with(const Source& source, const Positions& positions) {
    kr::RotateOptions opts;
    opts.direction = c.dir;
    auto sp = space;
    auto q_ = q, k_ = k, qo_ = qo, ko_ = ko;
    if (c.in_place)
      op = [=]() { kr::rotate(sp, kr::bshd, q_, k_, source, positions, opts); };
    else
      op = [=]() { kr::rotate_copy(sp, kr::bshd, q_, k_, qo_, ko_, source, positions, opts); };
  }
  template <class Source>
  void make_fused_source(const Source& source) {
    if (c.decode)
      make_fused_with(source, kr::sequence_offsets(d_offsets));
    else
      make_fused_with(source, kr::ImplicitPositions{});
  }
  void make_fused() {
    const kr::Params params = KokkosRopeTesting::llama31(c.pair);
    if (c.source == Src::table)
      make_fused_source(kr::Table<Mem, float>(space, params, c.positions(), kr::Precision::accurate));
    else
      make_fused_source(kr::OnTheFly<Mem>(space, params, kr::Precision::accurate));
  }

  void make_seed() {
    const int D = c.model.head_dim, half = D / 2;
    const kr::Frequencies f = kr::compute_frequencies(KokkosRopeTesting::llama31());
    Kokkos::View<double*, Mem> inv_freq(Kokkos::view_alloc(space, "KokkosRope::bench::seed_inv_freq"), half);
    Kokkos::View<const double*, Kokkos::HostSpace, Kokkos::MemoryTraits<Kokkos::Unmanaged>> hf(
        f.inv_freq.data(), half);
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
                       off = d_offsets, decode = c.decode,
                       seq = c.seq](const Tensor<T>& x, const Tensor<T>& out) {
      const int heads = static_cast<int>(x.extent(2));
      const std::int64_t n = x.extent(0) * x.extent(1) * x.extent(2);
      Rows<T> xr(x.data(), n, D), outr(out.data(), n, D), a(ta.data(), n, D), rh(trh.data(), n, D);
      SeedPos pos{
          seq, heads,
          decode ? Kokkos::View<const std::int64_t*, Mem>(off) : Kokkos::View<const std::int64_t*, Mem>()};
      Kokkos::parallel_for("KokkosRope::bench::seed_rotate_half", Range(sp, 0, n),
                           SeedRotateHalf<T>{xr, rh, half});
      Kokkos::parallel_for("KokkosRope::bench::seed_mul_cos", Range(sp, 0, n),
                           SeedMul<T>{xr, a, cos, pos, D});
      // backward: RoPE^-1 = RoPE with sin negated; the seed would pass -sin, i.e. a negated table.
      (void)backward;
      Kokkos::parallel_for("KokkosRope::bench::seed_mul_sin", Range(sp, 0, n),
                           SeedMul<T>{rh, rh, sin, pos, D});
      Kokkos::parallel_for("KokkosRope::bench::seed_add", Range(sp, 0, n), SeedAdd<T>{a, rh, outr, D});
    };
    if (backward) {  // the seed's backward: the same kernels with a negated sin table (built once)
      auto s = seed_sin;
      Kokkos::parallel_for(
          "KokkosRope::bench::seed_neg_sin", Range(space, 0, s.span()),
          KOKKOS_LAMBDA(std::int64_t i) { s.data()[i] = T(-static_cast<float>(s.data()[i])); });
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
  TensorBuffers buffers() override { return {q.data(), k.data(), qo.data(), ko.data()}; }
  std::vector<double> result_q() override { return to_host(space, c.in_place ? q : qo); }
  std::vector<double> result_k() override { return to_host(space, c.in_place ? k : ko); }
  void capture_inputs() override {
    in_q = to_host(space, q);
    in_k = to_host(space, k);
  }
};

std::unique_ptr<Instance> make_kokkos_instance(const Case& c) {
  if (c.dtype == DType::f32) return std::make_unique<KokkosInstance<float>>(c);
  return std::make_unique<KokkosInstance<bf16>>(c);
}

}  // namespace KokkosRopeBench
