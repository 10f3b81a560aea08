// SPDX-License-Identifier: Apache-2.0
// Device compile checks (scripts/cuda-compile-check.sh, scripts/hip-compile-check.sh): instantiates
// KokkosRope's public kernels for the default device execution space of the Kokkos headers it is
// compiled with (Kokkos::Cuda or Kokkos::HIP: the scripts configure a copy of the headers for one
// of them), so that nvcc (ptxas) or hipcc generates every kernel they launch. Backend-neutral: no
// backend is named here. Compiled, never run (there is no device Kokkos library to link).
//
// One value type per translation unit: -DKR_VALUE=0..3 (float, double, half_t, bhalf_t; Kokkos 4.x has
// no bf16 type on HIP, where bhalf_t is float and that unit repeats the float kernels).
//  - rotate / rotate_copy: a covering design. A unit has one case per tensor layout (7); the cos/sin
//    source (4), the position kind (3) and in place / rotate_copy (2) are functions of the layout and
//    the value type chosen so that, over the four units, every pair of values of any two of these
//    five dimensions occurs (28 cases instead of the 672 of the full product; ptxas_report.py
//    checks the pairs on the kernels ptxas actually compiled). Pair style, direction and
//    OnTheFly's precision are runtime arguments: every call instantiates all their kernels.
//  - SerialRotate / TeamVectorRotate: both pair styles, on the value type, from named functors; the unit
//    of float adds the Table builder (float and double tables, both precisions) and the blocks
//    inside KOKKOS_LAMBDAs as a user's fused kernel would call them.
//  - rotate_and_cache (the unit of float): bf16 into an fp8 NHD cache by slot mapping with the QK
//    norm, float into an HND float cache by block table; the store blocks in a user's lambda.
#include <KokkosRope/BFloat16.hpp>
#include <KokkosRope/Blocks.hpp>
#include <KokkosRope/ContextParallel.hpp>
#include <KokkosRope/Fp8.hpp>
#include <KokkosRope/Rotate.hpp>
#include <KokkosRope/RotateAndCache.hpp>
#include <KokkosRope/Sources.hpp>

#include <cstdint>
#include <tuple>
#include <type_traits>
#include <utility>

#ifndef KR_VALUE
#error "compile with -DKR_VALUE=0 (float), 1 (double), 2 (half_t) or 3 (bhalf_t)"
#endif

namespace kr = KokkosRope;
using Exec = Kokkos::DefaultExecutionSpace;  // Kokkos::Cuda or Kokkos::HIP
using Mem = Exec::memory_space;              // Kokkos::CudaSpace or Kokkos::HIPSpace
static_assert(!std::is_same_v<Exec, Kokkos::DefaultHostExecutionSpace>,
              "instances.cpp: the Kokkos headers are not configured for a device backend (see the scripts)");

namespace {

template <int I>
struct ValueCase;
template <>
struct ValueCase<0> { using type = float; };
template <>
struct ValueCase<1> { using type = double; };
template <>
struct ValueCase<2> { using type = Kokkos::Experimental::half_t; };
template <>
struct ValueCase<3> { using type = Kokkos::Experimental::bhalf_t; };
using T = typename ValueCase<KR_VALUE>::type;

// ---- tensor layouts ---------------------------------------------------------------------------
// The Views are default-constructed: the code is compiled, never run.

template <class V>
using Grid = Kokkos::View<V****, Kokkos::LayoutRight, Mem>;
template <class V>
using Tokens = Kokkos::View<V***, Kokkos::LayoutRight, Mem>;
// q as a slice of a fused QKV buffer: [b, s, 3h, d] -> [b, s, h, d] and [t, 3h, d] -> [t, h, d].
template <class V>
using GridSlice = decltype(Kokkos::subview(Grid<V>(), Kokkos::ALL, Kokkos::ALL, std::pair<int, int>(0, 1), Kokkos::ALL));
template <class V>
using TokensSlice = decltype(Kokkos::subview(Tokens<V>(), Kokkos::ALL, std::pair<int, int>(0, 1), Kokkos::ALL));
template <class V>
using GridStride = Kokkos::View<V****, Kokkos::LayoutStride, Mem>;  // e.g. a transposed bshd buffer as bhsd
using CuSeqlens = Kokkos::View<const int*, Mem>;                    // FlashAttention's int32 cu_seqlens

template <int L>
struct LayoutCase;
template <>
struct LayoutCase<0> {  // bshd, contiguous
  template <class V> using view = Grid<V>;
  static auto layout() { return kr::bshd; }
};
template <>
struct LayoutCase<1> {  // bhsd, contiguous
  template <class V> using view = Grid<V>;
  static auto layout() { return kr::bhsd; }
};
template <>
struct LayoutCase<2> {  // bshd, LayoutStride slice of fused QKV
  template <class V> using view = GridSlice<V>;
  static auto layout() { return kr::bshd; }
};
template <>
struct LayoutCase<3> {  // bhsd, LayoutStride
  template <class V> using view = GridStride<V>;
  static auto layout() { return kr::bhsd; }
};
template <>
struct LayoutCase<4> {  // packed with cu_seqlens
  template <class V> using view = Tokens<V>;
  static auto layout() { return kr::packed(CuSeqlens()); }
};
template <>
struct LayoutCase<5> {  // packed, one sequence
  template <class V> using view = Tokens<V>;
  static auto layout() { return kr::packed(); }
};
template <>
struct LayoutCase<6> {  // packed with cu_seqlens, LayoutStride slice of fused QKV
  template <class V> using view = TokensSlice<V>;
  static auto layout() { return kr::packed(Kokkos::View<const std::int64_t*, Mem>()); }
};
constexpr int num_layouts = 7;

// ---- positions --------------------------------------------------------------------------------

template <int P, int Rank>
auto make_positions() {
  if constexpr (P == 0) return kr::ImplicitPositions{};
  else if constexpr (P == 1) return kr::sequence_offsets(Kokkos::View<const std::int64_t*, Mem>());
  else if constexpr (Rank == 4) return kr::token_positions(Kokkos::View<const std::int64_t**, Kokkos::LayoutRight, Mem>());
  else return kr::token_positions(Kokkos::View<const int*, Mem>());
}

// ---- cos/sin sources --------------------------------------------------------------------------

// The caller's own cos/sin in the value type, as slices of a larger cache (LayoutStride: a type
// distinct from a Table's LayoutRight views, so that its kernels are distinct too).
using CosSin = Kokkos::View<const T**, Kokkos::LayoutStride, Mem>;
using Sources = std::tuple<const kr::Table<Mem, float>&, const kr::Table<Mem, double>&,
                           const kr::OnTheFly<Mem>&, const kr::CosSinViews<CosSin>&>;

// ---- one case ---------------------------------------------------------------------------------

template <int L>
void one_case(const Exec& space, const Sources& sources) {
  constexpr int S = (L + KR_VALUE) % 4;               // source: 0 Table<float>, 1 Table<double>, 2 OnTheFly, 3 views
  constexpr int P = (L + 2 * KR_VALUE) % 3;           // positions: implicit, sequence_offsets, token_positions
  constexpr bool copy = (L + KR_VALUE / 2) % 2 == 1;  // rotate_copy or rotate
  constexpr bool with_k = (L / 2 + KR_VALUE) % 2 == 0;  // q and k, or q alone (host code only: same kernels)
  using LC = LayoutCase<L>;
  using Q = typename LC::template view<T>;
  using QConst = typename LC::template view<const T>;
  const auto layout = LC::layout();
  const auto positions = make_positions<P, Q::rank()>();
  const auto& source = std::get<S>(sources);
  kr::RotateOptions options;  // the default validation; the other members are run-time choices
  options.direction = kr::Direction::backward;
  Q q, k;
  if constexpr (copy) {
    QConst q_in, k_in;
    if constexpr (with_k) kr::rotate_copy(space, layout, q_in, k_in, q, k, source, positions, options);
    else kr::rotate_copy(space, layout, q_in, q, source, positions, options);
  } else {
    if constexpr (with_k) kr::rotate(space, layout, q, k, source, positions, options);
    else kr::rotate(space, layout, q, source, positions, options);
  }
}

template <std::size_t... I>
void all_cases(const Exec& space, const Sources& sources, std::index_sequence<I...>) {
  (one_case<int(I)>(space, sources), ...);
}

}  // namespace

// External linkage: the instantiations above must be emitted.
void kokkosrope_device_rotate_instances(const Exec& space, const kr::Table<Mem, float>& table_f,
                                        const kr::Table<Mem, double>& table_d, const kr::OnTheFly<Mem>& on_the_fly,
                                        const kr::CosSinViews<CosSin>& views) {
  all_cases(space, Sources(table_f, table_d, on_the_fly, views),
            std::make_index_sequence<num_layouts>());
}

// ---- device building blocks and the Table builder ------------------------------------------

namespace {

// x: [tokens][head_dim]; cos/sin: a table's [positions][rotary_dim / 2] as the Table hands it out.
template <class V>
using Rows = Kokkos::View<V**, Kokkos::LayoutRight, Mem>;
template <class Real>
using TableView = typename kr::Table<Mem, Real>::view_type;

template <class PairTag, class V, class Real>
struct SerialBlock {
  Rows<V> m_x;
  TableView<Real> m_cos, m_sin;
  kr::Direction m_direction;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t t) const {
    auto x = Kokkos::subview(m_x, t, Kokkos::ALL);
    auto c = Kokkos::subview(m_cos, t, Kokkos::ALL);
    auto s = Kokkos::subview(m_sin, t, Kokkos::ALL);
    kr::SerialRotate<PairTag>::invoke(x, c, s, m_direction);
  }
};

template <class PairTag, class V, class Real>
struct TeamBlock {
  using member_type = Kokkos::TeamPolicy<Exec>::member_type;
  Rows<V> m_x;
  TableView<Real> m_cos, m_sin;
  kr::Direction m_direction;
  KOKKOS_INLINE_FUNCTION void operator()(const member_type& member) const {
    const int t = member.league_rank();
    auto x = Kokkos::subview(m_x, t, Kokkos::ALL);
    auto c = Kokkos::subview(m_cos, t, Kokkos::ALL);
    auto s = Kokkos::subview(m_sin, t, Kokkos::ALL);
    kr::TeamVectorRotate<PairTag>::invoke(member, x, c, s, m_direction);
  }
};

template <class PairTag, class Real>
void blocks(const Exec& space, const Rows<T>& x, const kr::Table<Mem, Real>& table, kr::Direction direction) {
  const std::int64_t n = static_cast<std::int64_t>(x.extent(0));
  Kokkos::parallel_for("KokkosRope::compile_check::SerialRotate",
                       Kokkos::RangePolicy<Exec, Kokkos::IndexType<std::int64_t>>(space, 0, n),
                       SerialBlock<PairTag, T, Real>{x, table.cos(), table.sin(), direction});
  Kokkos::parallel_for("KokkosRope::compile_check::TeamRotate",
                       Kokkos::TeamPolicy<Exec>(space, static_cast<int>(n), Kokkos::AUTO, 32),
                       TeamBlock<PairTag, T, Real>{x, table.cos(), table.sin(), direction});
}

}  // namespace

// Both pair styles on this unit's value type, cos/sin from a float and a double table (the
// pairing of style and table type alternates over the units, so all four occur).
void kokkosrope_device_blocks(const Exec& space, const Rows<T>& x, const kr::Table<Mem, float>& tf,
                              const kr::Table<Mem, double>& td) {
  if constexpr (KR_VALUE % 2 == 0) {
    blocks<kr::HalfSplit>(space, x, tf, kr::Direction::forward);
    blocks<kr::Interleaved>(space, x, td, kr::Direction::backward);
  } else {
    blocks<kr::HalfSplit>(space, x, td, kr::Direction::backward);
    blocks<kr::Interleaved>(space, x, tf, kr::Direction::forward);
  }
}

#if KR_VALUE == 0
// The Table builder: one kernel per (stored type, precision).
void kokkosrope_device_tables(const Exec& space, const kr::Params& params) {
  const kr::Table<Mem, float> f_accurate(space, params, 4096, kr::Precision::accurate);
  const kr::Table<Mem, float> f_hf(space, params, 4096, kr::Precision::hf_compatible);
  const kr::Table<Mem, double> d_accurate(space, params, 4096, kr::Precision::accurate);
  const kr::Table<Mem, double> d_hf(space, params, 4096, kr::Precision::hf_compatible);
}

// KokkosRope::bfloat16 (2-byte storage on every backend) through the fused kernel, and the same
// call on the host backend of this device build: the host pointer path must compile as device-callable
// code without host-call diagnostics.
void kokkosrope_device_bfloat16(const Exec& space, const Grid<kr::bfloat16>& q, const Grid<kr::bfloat16>& k,
                                const kr::Table<Mem, float>& table, const Kokkos::View<std::int64_t*, Mem>& offsets) {
  kr::rotate(space, kr::bshd, q, k, table, kr::sequence_offsets(offsets));
  using Host = Kokkos::DefaultHostExecutionSpace;
  const Host host;
  Kokkos::View<kr::bfloat16****, Kokkos::LayoutRight, Host::memory_space> hq, hk;
  const kr::Table<Host::memory_space, float> host_table(host, kr::Params{}, 16);
  kr::rotate(host, kr::bshd, hq, hk, host_table);
}

// Context parallelism: global positions of a sharded sequence computed in the kernel (grid layout
// with per-sequence offsets, packed batch with local cu_seqlens).
void kokkosrope_device_context_parallel(const Exec& space, const Grid<float>& q, const Grid<float>& k,
                                        const Kokkos::View<float***, Kokkos::LayoutRight, Mem>& pq,
                                        const Kokkos::View<int*, Mem>& cu, const kr::Table<Mem, float>& table,
                                        const Kokkos::View<std::int64_t*, Mem>& offsets) {
  const kr::ContextShard shard(1, 4, kr::ShardLayout::dual_chunk);
  kr::rotate(space, kr::bshd, q, k, table, kr::context_parallel(shard, offsets));
  kr::rotate(space, kr::packed(cu), pq, table, kr::context_parallel(shard));
}

// Multimodal RoPE: three position streams per token, each pair reading its stream's (bf16 grid
// with a table, packed float on the fly).
void kokkosrope_device_multimodal(const Exec& space, const Grid<kr::bfloat16>& q, const Grid<kr::bfloat16>& k,
                                  const Kokkos::View<float***, Kokkos::LayoutRight, Mem>& pq,
                                  const kr::Table<Mem, float>& table, const kr::OnTheFly<Mem>& on_the_fly,
                                  const Kokkos::View<std::int64_t***, Kokkos::LayoutRight, Mem>& grid_positions,
                                  const Kokkos::View<int**, Kokkos::LayoutRight, Mem>& packed_positions) {
  const kr::MropeSection section{16, 24, 24, kr::MropeLayout::interleaved};
  kr::rotate(space, kr::bshd, q, k, table, kr::multimodal_positions(grid_positions, section));
  kr::rotate(space, kr::packed(), pq, on_the_fly, kr::multimodal_positions(packed_positions, section));
}

// Serving kernels: rotate q and k and write k and v into a paged cache in one pass.
void kokkosrope_device_rotate_and_cache(
    const Exec& space, const Kokkos::View<kr::bfloat16***, Kokkos::LayoutRight, Mem>& q,
    const Kokkos::View<const kr::bfloat16***, Kokkos::LayoutRight, Mem>& k,
    const Kokkos::View<const kr::bfloat16***, Kokkos::LayoutRight, Mem>& v,
    const Kokkos::View<kr::float8_e4m3****, Kokkos::LayoutRight, Mem>& k8,
    const Kokkos::View<kr::float8_e4m3****, Kokkos::LayoutRight, Mem>& v8, const Kokkos::View<int*, Mem>& slots,
    const Kokkos::View<float*, Mem>& weight, const Grid<float>& qf, const Grid<float>& kf,
    const Kokkos::View<float****, Kokkos::LayoutRight, Mem>& kc, const Kokkos::View<float****, Kokkos::LayoutRight, Mem>& vc,
    const Kokkos::View<int**, Mem>& block_table, const Kokkos::View<int*, Mem>& lengths,
    const kr::Table<Mem, float>& table, const kr::OnTheFly<Mem>& on_the_fly) {
  kr::rotate_and_cache(space, kr::packed(), kr::qk_norm(weight, weight, 1e-6f), q, k, v,
                       kr::paged_kv_cache(kr::cache_nhd, k8, v8, 0.5f, 0.5f), kr::slot_mapping(slots), table);
  kr::rotate_and_cache(space, kr::bshd, qf, kf, kf, kr::paged_kv_cache(kr::cache_hnd, kc, vc),
                       kr::block_table_slots(block_table, lengths), on_the_fly);
  const auto cos = table.cos();
  const auto sin = table.sin();
  Kokkos::parallel_for(
      "KokkosRope::compile_check::TeamVectorRotateAndStore(lambda)",
      Kokkos::TeamPolicy<Exec>(space, k.extent(0), Kokkos::AUTO, 32),
      KOKKOS_LAMBDA(const Kokkos::TeamPolicy<Exec>::member_type& member) {
        const int t = member.league_rank();
        kr::TeamVectorRotateAndStore<kr::HalfSplit>::invoke(
            member, Kokkos::subview(k, t, 0, Kokkos::ALL), Kokkos::subview(k8, slots(t) / 16, slots(t) % 16, 0, Kokkos::ALL),
            Kokkos::subview(cos, t, Kokkos::ALL), Kokkos::subview(sin, t, Kokkos::ALL),
            kr::HeadNorm<Kokkos::View<float*, Mem>>{weight, 1e-6f, kr::NormWeight::offset_one}, 0.5f);
        Kokkos::single(Kokkos::PerTeam(member), [&] {
          kr::SerialRotateAndStore<kr::Interleaved>::invoke(
              Kokkos::subview(v, t, 0, Kokkos::ALL), Kokkos::subview(v8, slots(t) / 16, slots(t) % 16, 0, Kokkos::ALL),
              Kokkos::subview(cos, t, Kokkos::ALL), Kokkos::subview(sin, t, Kokkos::ALL), kr::NoHeadNorm{}, 0.5f);
        });
      });
}

// A user's fused kernel: the blocks inside extended device lambdas.
void kokkosrope_device_blocks_in_lambda(const Exec& space, const Rows<Kokkos::Experimental::bhalf_t>& x,
                                        const kr::Table<Mem, float>& table) {
  const auto cos = table.cos();
  const auto sin = table.sin();
  Kokkos::parallel_for(
      "KokkosRope::compile_check::SerialRotate(lambda)", Kokkos::RangePolicy<Exec>(space, 0, x.extent(0)),
      KOKKOS_LAMBDA(const int t) {
        kr::SerialRotate<kr::HalfSplit>::invoke(Kokkos::subview(x, t, Kokkos::ALL), Kokkos::subview(cos, t, Kokkos::ALL),
                                                Kokkos::subview(sin, t, Kokkos::ALL));
      });
  Kokkos::parallel_for(
      "KokkosRope::compile_check::TeamRotate(lambda)", Kokkos::TeamPolicy<Exec>(space, x.extent(0), Kokkos::AUTO, 32),
      KOKKOS_LAMBDA(const Kokkos::TeamPolicy<Exec>::member_type& member) {
        const int t = member.league_rank();
        kr::TeamVectorRotate<kr::Interleaved>::invoke(member, Kokkos::subview(x, t, Kokkos::ALL),
                                                Kokkos::subview(cos, t, Kokkos::ALL),
                                                Kokkos::subview(sin, t, Kokkos::ALL), kr::Direction::backward);
      });
}
#endif
