// SPDX-License-Identifier: Apache-2.0
// Drives one rotation case: random q/k in a layout, positions from a source, the library call,
// and a comparison with a deliberately plain double-precision host reference (the seed's
// formula: x * cos + rotate_half(x) * sin, positions looked up per token; for multimodal RoPE,
// the cos/sin rows of the three positions spliced per pair as the reference framework does).
#ifndef KOKKOSROPE_TEST_ROTATEHARNESS_HPP
#define KOKKOSROPE_TEST_ROTATEHARNESS_HPP

#include <KokkosRope.hpp>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include <KokkosRopeTesting_Reference.hpp>

namespace KokkosRopeTest {

enum class LayoutKind { bshd, bhsd, packed, strided, left };
enum class PositionKind { implicit, offsets, tokens, mrope_sectioned, mrope_interleaved };

inline const char* name(LayoutKind l) {
  switch (l) {
    case LayoutKind::bshd: return "bshd";
    case LayoutKind::bhsd: return "bhsd";
    case LayoutKind::packed: return "packed";
    case LayoutKind::strided: return "strided";
    case LayoutKind::left: return "bshd-LayoutLeft";
  }
  return "?";
}
inline const char* name(PositionKind p) {
  switch (p) {
    case PositionKind::implicit: return "implicit";
    case PositionKind::offsets: return "offsets";
    case PositionKind::tokens: return "tokens";
    case PositionKind::mrope_sectioned: return "mrope-sectioned";
    case PositionKind::mrope_interleaved: return "mrope-interleaved";
  }
  return "?";
}

/// The part of a launch label that names the kernel path (the labels end in "[path]").
inline const char* path_label(KokkosRope::KernelPath path) {
  switch (path) {
    case KokkosRope::KernelPath::host_rows: return "[host_rows]";
    case KokkosRope::KernelPath::lanes: return "[lanes]";
    case KokkosRope::KernelPath::vector: return "[vector]";
    case KokkosRope::KernelPath::automatic: break;
  }
  return "[automatic]";
}

/// Tolerance for a result of type T against the double reference: one ulp of T at the
/// reference's magnitude for the 16-bit types (the result is a float computation rounded once),
/// a fixed bound for float and double (inputs in [-1, 1], cos/sin within 2.5e-7, resp. 1e-15).
template <class T>
double tolerance(double reference) {
  if constexpr (std::is_same_v<T, double>) {
    return 1e-13;
  } else if constexpr (std::is_same_v<T, float>) {
    return 1e-6;
  } else {
    constexpr bool bf16 = std::is_same_v<T, KokkosRope::Impl::bhalf_t> || std::is_same_v<T, KokkosRope::bfloat16>;
    const int mantissa = bf16 ? 7 : 10;
    const double mag = std::max(std::fabs(reference), bf16 ? 1e-30 : 6.1e-5);
    return std::ldexp(1.0, std::ilogb(mag) - mantissa) + 2e-7;
  }
}

struct Geometry {
  int batch = 2, seq = 5, q_heads = 3, k_heads = 2, head_dim = 32, rotary_dim = 32;
  std::vector<std::int64_t> cu_seqlens = {0, 3, 3, 10};  // packed: three sequences, one empty
  std::int64_t table_positions = 256;
};

template <class Space, class T>
struct RotateHarness {
  using Memory = typename Space::memory_space;
  using Acc = KokkosRope::Impl::compute_t<T>;

  Geometry g;
  LayoutKind layout;
  PositionKind position_kind;
  KokkosRope::PairStyle pair_style = KokkosRope::PairStyle::half_split;
  KokkosRope::Direction direction = KokkosRope::Direction::forward;
  bool out_of_place = false;
  KokkosRope::KernelPath kernel_path = KokkosRope::KernelPath::automatic;
  std::uint64_t seed = 42;

  // Logical tokens and their positions (the reference's view of the case).
  std::int64_t tokens() const {
    return layout == LayoutKind::packed ? g.cu_seqlens.back() : std::int64_t(g.batch) * g.seq;
  }
  std::int64_t sequences() const {
    return layout == LayoutKind::packed ? std::int64_t(g.cu_seqlens.size()) - 1 : g.batch;
  }
  // (sequence, index in sequence) of token t.
  std::pair<std::int64_t, std::int64_t> coord(std::int64_t t) const {
    if (layout != LayoutKind::packed) return {t / g.seq, t % g.seq};
    std::int64_t b = 0;
    while (g.cu_seqlens[b + 1] <= t) ++b;
    return {b, t - g.cu_seqlens[b]};
  }

  std::vector<std::int64_t> offsets, token_pos;
  std::vector<std::int64_t> stream_pos;  // multimodal: [3][tokens]
  std::vector<double> q_init, k_init;  // [t][h][d], already rounded to T

  bool multimodal() const {
    return position_kind == PositionKind::mrope_sectioned || position_kind == PositionKind::mrope_interleaved;
  }

  // Multimodal: pairs per stream (t, h, w) summing to rotary_dim / 2, h and w at 3/8 each.
  KokkosRope::MropeSection section() const {
    const int pairs = g.rotary_dim / 2, hw = pairs * 3 / 8;
    return {pairs - 2 * hw, hw, hw,
            position_kind == PositionKind::mrope_interleaved ? KokkosRope::MropeLayout::interleaved
                                                             : KokkosRope::MropeLayout::sectioned};
  }

  // The stream pair i reads, as the reference builds its cos: sectioned, torch.split of the
  // pairs by mrope_section, chunk r from stream r; interleaved (apply_interleaved_mrope), stream
  // 0 everywhere, then the slices [1 : 3 h : 3] from stream 1 and [2 : 3 w : 3] from stream 2.
  std::vector<int> pair_streams() const {
    const auto sec = section();
    const int pairs = g.rotary_dim / 2;
    std::vector<int> stream(pairs, 0);
    if (sec.layout == KokkosRope::MropeLayout::sectioned) {
      int i = 0;
      for (int r = 0; r < 3; ++r)
        for (int n = 0; n < (r == 0 ? sec.temporal : r == 1 ? sec.height : sec.width); ++n) stream[i++] = r;
    } else {
      for (int i = 1; i < std::min(pairs, 3 * sec.height); i += 3) stream[i] = 1;
      for (int i = 2; i < std::min(pairs, 3 * sec.width); i += 3) stream[i] = 2;
    }
    return stream;
  }

  std::int64_t position(std::int64_t t) const {
    const auto [b, s] = coord(t);
    switch (position_kind) {
      case PositionKind::implicit: return s;
      case PositionKind::offsets: return offsets[b] + s;
      case PositionKind::tokens: return token_pos[t];
      case PositionKind::mrope_sectioned:
      case PositionKind::mrope_interleaved: return stream_pos[t];  // the temporal stream
    }
    return -1;
  }

  void make_data() {
    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    const auto round = [](double x) { return static_cast<double>(static_cast<Acc>(static_cast<T>(static_cast<Acc>(x)))); };
    q_init.resize(tokens() * g.q_heads * g.head_dim);
    k_init.resize(tokens() * g.k_heads * g.head_dim);
    for (auto& x : q_init) x = round(u(rng));
    for (auto& x : k_init) x = round(u(rng));
    const std::int64_t longest = layout == LayoutKind::packed ? 7 : g.seq;
    std::uniform_int_distribution<std::int64_t> off(0, g.table_positions - longest);
    std::uniform_int_distribution<std::int64_t> any(0, g.table_positions - 1);
    offsets.assign(sequences(), 0);
    for (auto& o : offsets) o = off(rng);
    offsets.back() = g.table_positions - longest;  // the last sequence ends at the table's end
    token_pos.assign(tokens(), 0);
    for (auto& p : token_pos) p = any(rng);
    if (!token_pos.empty()) token_pos.back() = g.table_positions - 1;
    stream_pos.assign(3 * tokens(), 0);
    for (auto& p : stream_pos) p = any(rng);
    if (tokens() > 1) stream_pos[tokens() + 1] = g.table_positions - 1;  // height of token 1
  }

  // Reference output for head vector x of token t.
  void reference(std::int64_t t, const double* x, double* y, const std::vector<double>& inv_freq, double attention) const {
    std::vector<KokkosRopeTesting::ld> c, s;
    KokkosRopeTesting::ref_cos_sin_row(position(t), inv_freq, attention, c, s);
    if (multimodal()) {
      const auto stream = pair_streams();
      std::vector<KokkosRopeTesting::ld> cr, sr;
      for (int r = 1; r < 3; ++r) {
        KokkosRopeTesting::ref_cos_sin_row(stream_pos[r * tokens() + t], inv_freq, attention, cr, sr);
        for (std::size_t i = 0; i < stream.size(); ++i)
          if (stream[i] == r) {
            c[i] = cr[i];
            s[i] = sr[i];
          }
      }
    }
    KokkosRopeTesting::ref_rotate_row(x, y, g.head_dim, g.rotary_dim, c.data(), s.data(), pair_style, direction);
  }

  KokkosRope::Params params() const {
    KokkosRope::Params p;
    p.head_dim = g.head_dim;
    p.rotary_dim = g.rotary_dim;
    p.theta = 10000.0;
    p.pair_style = pair_style;
    p.max_position_embeddings = 8192;
    p.scaling = KokkosRope::Llama3Scaling{8.0, 1.0, 4.0, 64};  // every band inside 16 pairs
    return p;
  }

  // Runs the case with `source` and returns the number of mismatching elements. `AllLayouts`
  // false compiles the bshd path only (keeps the source-variation tests cheap to build).
  template <bool AllLayouts = true, class Source>
  std::int64_t run(const Space& space, const Source& source, const std::vector<double>& inv_freq, double attention);

  std::string describe() const {
    return std::string(name(layout)) + "/" + (pair_style == KokkosRope::PairStyle::half_split ? "half" : "interleaved") +
           "/rot" + std::to_string(g.rotary_dim) + "of" + std::to_string(g.head_dim) + "/" + name(position_kind) +
           (out_of_place ? "/copy" : "/inplace") +
           (direction == KokkosRope::Direction::backward ? "/backward" : "/forward") + "/path" +
           std::to_string(static_cast<int>(kernel_path));
  }
};

template <class Space, class T>
template <bool AllLayouts, class Source>
std::int64_t RotateHarness<Space, T>::run(const Space& space, const Source& source, const std::vector<double>& inv_freq,
                                          double attention) {
  make_data();
  const std::int64_t T_ = tokens();
  const int Hq = g.q_heads, Hk = g.k_heads, D = g.head_dim;
  std::int64_t mismatches = 0;
  std::vector<double> want(D);

  // Compares a host tensor accessor `at(t, h, d)` with the reference for every element.
  auto compare = [&](const char* which, int heads, const std::vector<double>& init, auto&& at) {
    for (std::int64_t t = 0; t < T_; ++t)
      for (int h = 0; h < heads; ++h) {
        reference(t, &init[(t * heads + h) * D], want.data(), inv_freq, attention);
        for (int d = 0; d < D; ++d) {
          const double got = static_cast<double>(static_cast<Acc>(at(t, h, d)));
          const double expected = want[d];
          if (!(std::fabs(got - expected) <= tolerance<T>(expected))) {
            if (mismatches < 5)
              ADD_FAILURE() << describe() << " " << which << "[t=" << t << ",h=" << h << ",d=" << d << "] = " << got
                            << ", reference " << expected << " (position " << position(t) << ")";
            ++mismatches;
          }
        }
      }
  };

  Kokkos::View<std::int64_t*, Memory> d_offsets("offsets", offsets.size());
  Kokkos::View<std::int64_t*, Memory> d_cu("cu_seqlens", g.cu_seqlens.size());
  {
    auto h_off = Kokkos::create_mirror_view(d_offsets);
    auto h_cu = Kokkos::create_mirror_view(d_cu);
    for (std::size_t i = 0; i < offsets.size(); ++i) h_off(i) = offsets[i];
    for (std::size_t i = 0; i < g.cu_seqlens.size(); ++i) h_cu(i) = g.cu_seqlens[i];
    Kokkos::deep_copy(space, d_offsets, h_off);
    Kokkos::deep_copy(space, d_cu, h_cu);
  }
  KokkosRope::RotateOptions options;
  options.direction = direction;
  options.kernel_path = kernel_path;

  // Calls rotate / rotate_copy with the position kind of this case.
  auto call = [&](const auto& layout_tag, auto& q, auto& k, auto& q_out, auto& k_out, const auto& token_view,
                  const auto& stream_view) {
    auto with_positions = [&](const auto& positions) {
      if (out_of_place)
        KokkosRope::rotate_copy(space, layout_tag, q, k, q_out, k_out, source, positions, options);
      else
        KokkosRope::rotate(space, layout_tag, q, k, source, positions, options);
    };
    switch (position_kind) {
      case PositionKind::implicit: with_positions(KokkosRope::ImplicitPositions{}); break;
      case PositionKind::offsets: with_positions(KokkosRope::sequence_offsets(d_offsets)); break;
      case PositionKind::tokens: with_positions(KokkosRope::token_positions(token_view)); break;
      case PositionKind::mrope_sectioned:
      case PositionKind::mrope_interleaved: with_positions(KokkosRope::multimodal_positions(stream_view, section())); break;
    }
  };

  if (!AllLayouts && layout != LayoutKind::bshd) {
    ADD_FAILURE() << "harness compiled for bshd only";
    return 1;
  }
  if constexpr (AllLayouts) {
   if (layout == LayoutKind::packed) {
    Kokkos::View<T***, Kokkos::LayoutRight, Memory> q("q", T_, Hq, D), k("k", T_, Hk, D), qo("qo", T_, Hq, D), ko("ko", T_, Hk, D);
    Kokkos::View<std::int64_t*, Memory> pos("pos", T_);
    Kokkos::View<std::int64_t**, Memory> streams("streams", 3, T_);
    // Separate host copies: on a host backend a mirror *view* would alias q itself.
    auto hq = Kokkos::create_mirror(q), hk = Kokkos::create_mirror(k);
    auto hpos = Kokkos::create_mirror_view(pos);
    auto hstreams = Kokkos::create_mirror_view(streams);
    for (std::int64_t t = 0; t < T_; ++t) {
      hpos(t) = token_pos[t];
      for (int r = 0; r < 3; ++r) hstreams(r, t) = stream_pos[r * T_ + t];
      for (int h = 0; h < Hq; ++h) for (int d = 0; d < D; ++d) hq(t, h, d) = static_cast<T>(q_init[(t * Hq + h) * D + d]);
      for (int h = 0; h < Hk; ++h) for (int d = 0; d < D; ++d) hk(t, h, d) = static_cast<T>(k_init[(t * Hk + h) * D + d]);
    }
    Kokkos::deep_copy(space, q, hq);
    Kokkos::deep_copy(space, k, hk);
    Kokkos::deep_copy(space, pos, hpos);
    Kokkos::deep_copy(space, streams, hstreams);
    call(KokkosRope::packed(d_cu), q, k, qo, ko, pos, streams);
    Kokkos::deep_copy(space, hq, out_of_place ? qo : q);
    Kokkos::deep_copy(space, hk, out_of_place ? ko : k);
    space.fence();
    compare("q", Hq, q_init, [&](std::int64_t t, int h, int d) { return hq(t, h, d); });
    compare("k", Hk, k_init, [&](std::int64_t t, int h, int d) { return hk(t, h, d); });
    if (out_of_place) {  // the inputs are untouched
      Kokkos::deep_copy(space, hq, q);
      space.fence();
      for (std::int64_t t = 0; t < T_; ++t)
        for (int h = 0; h < Hq; ++h)
          for (int d = 0; d < D; ++d)
            if (static_cast<double>(static_cast<Acc>(hq(t, h, d))) != q_init[(t * Hq + h) * D + d]) ++mismatches;
    }
    return mismatches;
   }
  }

  // Grid layouts. The strided case: q, k, v are slices of one fused [B, S, Hq + 2 Hk, D] buffer.
  const int B = g.batch, S = g.seq;
  Kokkos::View<std::int64_t**, Memory> pos("pos", B, S);
  Kokkos::View<std::int64_t***, Memory> streams("streams", 3, B, S);
  auto hpos = Kokkos::create_mirror_view(pos);
  auto hstreams = Kokkos::create_mirror_view(streams);
  for (int b = 0; b < B; ++b)
    for (int s = 0; s < S; ++s) {
      hpos(b, s) = token_pos[b * S + s];
      for (int r = 0; r < 3; ++r) hstreams(r, b, s) = stream_pos[r * T_ + b * S + s];
    }
  Kokkos::deep_copy(space, pos, hpos);
  Kokkos::deep_copy(space, streams, hstreams);

  auto fill_and_run = [&](auto q, auto k, auto qo, auto ko, const auto& layout_tag, auto&& index) {
    auto hq = Kokkos::create_mirror_view(q);
    auto hk = Kokkos::create_mirror_view(k);
    for (std::int64_t t = 0; t < T_; ++t) {
      for (int h = 0; h < Hq; ++h) for (int d = 0; d < D; ++d) index(hq, t, h, d) = static_cast<T>(q_init[(t * Hq + h) * D + d]);
      for (int h = 0; h < Hk; ++h) for (int d = 0; d < D; ++d) index(hk, t, h, d) = static_cast<T>(k_init[(t * Hk + h) * D + d]);
    }
    Kokkos::deep_copy(space, q, hq);
    Kokkos::deep_copy(space, k, hk);
    call(layout_tag, q, k, qo, ko, pos, streams);
    Kokkos::deep_copy(space, hq, out_of_place ? qo : q);
    Kokkos::deep_copy(space, hk, out_of_place ? ko : k);
    space.fence();
    compare("q", Hq, q_init, [&](std::int64_t t, int h, int d) { return index(hq, t, h, d); });
    compare("k", Hk, k_init, [&](std::int64_t t, int h, int d) { return index(hk, t, h, d); });
  };
  auto bshd_index = [&](auto& v, std::int64_t t, int h, int d) -> auto& { return v(t / S, t % S, h, d); };
  auto bhsd_index = [&](auto& v, std::int64_t t, int h, int d) -> auto& { return v(t / S, h, t % S, d); };

  if (layout == LayoutKind::bshd) {
    Kokkos::View<T****, Kokkos::LayoutRight, Memory> q("q", B, S, Hq, D), k("k", B, S, Hk, D), qo("qo", B, S, Hq, D), ko("ko", B, S, Hk, D);
    fill_and_run(q, k, qo, ko, KokkosRope::bshd, bshd_index);
  } else if constexpr (AllLayouts) {
   if (layout == LayoutKind::left) {  // CUDA's default layout: head_dim is the slowest extent
    using Left = Kokkos::View<T****, Kokkos::LayoutLeft, Memory>;
    Left q("q", B, S, Hq, D), k("k", B, S, Hk, D), qo("qo", B, S, Hq, D), ko("ko", B, S, Hk, D);
    fill_and_run(q, k, qo, ko, KokkosRope::bshd, bshd_index);
   } else if (layout == LayoutKind::bhsd) {
    Kokkos::View<T****, Kokkos::LayoutRight, Memory> q("q", B, Hq, S, D), k("k", B, Hk, S, D), qo("qo", B, Hq, S, D), ko("ko", B, Hk, S, D);
    fill_and_run(q, k, qo, ko, KokkosRope::bhsd, bhsd_index);
  } else {
    // Host mirrors of the whole buffers (a strided slice cannot be deep-copied across spaces).
    const int H = Hq + 2 * Hk;
    Kokkos::View<T****, Kokkos::LayoutRight, Memory> qkv("qkv", B, S, H, D), qkv_out("qkv_out", B, S, H, D);
    auto h_qkv = Kokkos::create_mirror_view(qkv);
    Kokkos::deep_copy(h_qkv, static_cast<T>(0.5f));  // v keeps this pattern
    const auto heads_q = Kokkos::pair<int, int>(0, Hq), heads_k = Kokkos::pair<int, int>(Hq, Hq + Hk);
    auto hq = Kokkos::subview(h_qkv, Kokkos::ALL, Kokkos::ALL, heads_q, Kokkos::ALL);
    auto hk = Kokkos::subview(h_qkv, Kokkos::ALL, Kokkos::ALL, heads_k, Kokkos::ALL);
    for (std::int64_t t = 0; t < T_; ++t) {
      for (int h = 0; h < Hq; ++h) for (int d = 0; d < D; ++d) bshd_index(hq, t, h, d) = static_cast<T>(q_init[(t * Hq + h) * D + d]);
      for (int h = 0; h < Hk; ++h) for (int d = 0; d < D; ++d) bshd_index(hk, t, h, d) = static_cast<T>(k_init[(t * Hk + h) * D + d]);
    }
    Kokkos::deep_copy(space, qkv, h_qkv);
    auto q = Kokkos::subview(qkv, Kokkos::ALL, Kokkos::ALL, heads_q, Kokkos::ALL);
    auto k = Kokkos::subview(qkv, Kokkos::ALL, Kokkos::ALL, heads_k, Kokkos::ALL);
    auto qo = Kokkos::subview(qkv_out, Kokkos::ALL, Kokkos::ALL, heads_q, Kokkos::ALL);
    auto ko = Kokkos::subview(qkv_out, Kokkos::ALL, Kokkos::ALL, heads_k, Kokkos::ALL);
    static_assert(std::is_same_v<typename decltype(q)::array_layout, Kokkos::LayoutStride>);
    call(KokkosRope::bshd, q, k, qo, ko, pos, streams);
    auto h_out = Kokkos::create_mirror_view(qkv_out);
    Kokkos::deep_copy(space, h_out, qkv_out);
    Kokkos::deep_copy(space, h_qkv, qkv);
    space.fence();
    auto& result = out_of_place ? h_out : h_qkv;
    auto rq = Kokkos::subview(result, Kokkos::ALL, Kokkos::ALL, heads_q, Kokkos::ALL);
    auto rk = Kokkos::subview(result, Kokkos::ALL, Kokkos::ALL, heads_k, Kokkos::ALL);
    compare("q", Hq, q_init, [&](std::int64_t t, int h, int d) { return bshd_index(rq, t, h, d); });
    compare("k", Hk, k_init, [&](std::int64_t t, int h, int d) { return bshd_index(rk, t, h, d); });
    for (int b = 0; b < B; ++b)
      for (int s = 0; s < S; ++s)
        for (int h = Hq + Hk; h < H; ++h)
          for (int d = 0; d < D; ++d)
            if (static_cast<double>(static_cast<Acc>(h_qkv(b, s, h, d))) != 0.5) {
              if (mismatches < 5) ADD_FAILURE() << describe() << ": v[" << b << "," << s << "," << h << "," << d << "] changed";
              ++mismatches;
            }
   }
  }
  return mismatches;
}

}  // namespace KokkosRopeTest

#endif
