// SPDX-License-Identifier: Apache-2.0
/// \file Sources.hpp
/// Where a rotation gets its cos and sin: a precomputed `Table`, evaluation `OnTheFly` from the
/// frequencies (no table bytes, more arithmetic), or the caller's own cos/sin Views. Each source
/// hands the kernels a small copyable evaluator: cos/sin of (position, pair), attention factor
/// included.
#ifndef KOKKOSROPE_SOURCES_HPP
#define KOKKOSROPE_SOURCES_HPP

#include <KokkosRope/Frequencies.hpp>
#include <KokkosRope/Params.hpp>
#include <KokkosRope/Precision.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>

#include <cmath>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace KokkosRope {

namespace Impl {

// Copies a host vector into a new View on the instance. The staging buffer is a std::vector
// (freeing a Kokkos host allocation would fence globally); the instance fence keeps it alive until
// the transfer is done (sources are built once, so this is not on a hot path).
template <class T, class MemorySpace, class ExecutionSpace, class Source>
Kokkos::View<T*, MemorySpace> upload(const ExecutionSpace& space, const std::vector<Source>& host,
                                     const std::string& label) {
  Kokkos::View<T*, MemorySpace> device(
      Kokkos::view_alloc(space, Kokkos::WithoutInitializing, label), host.size());
  std::vector<T> staging(host.begin(), host.end());
  Kokkos::deep_copy(space, device,
                    Kokkos::View<const T*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(staging.data(), staging.size()));
  space.fence("KokkosRope::upload: " + label);
  return device;
}

/// Evaluator over two [positions][rotary_dim / 2] Views.
template <class CosView, class SinView>
struct ViewEvaluator {
  CosView m_cos;
  SinView m_sin;
  template <class Acc>
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t pos, int pair, Acc& c, Acc& s) const {
    c = static_cast<Acc>(m_cos(pos, pair));
    s = static_cast<Acc>(m_sin(pos, pair));
  }
};

/// Evaluator that computes cos/sin from double frequencies, angle reduced in double.
template <class MemorySpace>
struct AccurateEvaluator {
  Kokkos::View<const double*, MemorySpace> m_inv_freq;
  double m_attention_factor;
  template <class Acc>
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t pos, int pair, Acc& c, Acc& s) const {
    accurate_cos_sin(pos, m_inv_freq(pair), c, s);
    c *= static_cast<Acc>(m_attention_factor);
    s *= static_cast<Acc>(m_attention_factor);
  }
};

/// Evaluator that replays the reference framework's float32 recipe.
template <class MemorySpace>
struct HfEvaluator {
  Kokkos::View<const float*, MemorySpace> m_inv_freq;
  float m_attention_factor;
  template <class Acc>
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t pos, int pair, Acc& c, Acc& s) const {
    float cf, sf;
    hf_cos_sin(pos, m_inv_freq(pair), cf, sf);
    c = static_cast<Acc>(cf * m_attention_factor);
    s = static_cast<Acc>(sf * m_attention_factor);
  }
};

/// One table entry per index (a named functor: CUDA forbids device lambdas inside generic ones).
template <class Eval, class TableView>
struct BuildTable {
  Eval m_eval;
  TableView m_cos;
  TableView m_sin;
  int m_pairs;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t idx) const {
    using Real = typename TableView::non_const_value_type;
    const std::int64_t pos = idx / m_pairs;
    const int pair = static_cast<int>(idx - pos * m_pairs);
    Real c, s;
    m_eval(pos, pair, c, s);
    m_cos(pos, pair) = c;
    m_sin(pos, pair) = s;
  }
};

}  // namespace Impl

/// cos/sin evaluated inside the rotation kernel from the frequencies: no table traffic, a few
/// flops per (token, pair), any position >= 0. Built on the host from `Params`.
template <class MemorySpace = Kokkos::DefaultExecutionSpace::memory_space>
class OnTheFly {
 public:
  using memory_space = MemorySpace;

  /// Frequencies of `params` (at `seq_len` for the kinds that depend on it) in `precision`.
  template <class ExecutionSpace>
  OnTheFly(const ExecutionSpace& space, const Params& params,
           Precision precision = Precision::accurate,
           std::optional<std::int64_t> seq_len = std::nullopt)
      : m_rotary_dim(params.rotary_dim), m_pair_style(params.pair_style), m_precision(precision) {
    static_assert(Kokkos::SpaceAccessibility<ExecutionSpace, MemorySpace>::accessible,
                  "KokkosRope::OnTheFly: MemorySpace must be accessible from ExecutionSpace");
    Kokkos::Profiling::ScopedRegion region("KokkosRope::OnTheFly");
    if (precision == Precision::accurate) set(space, compute_frequencies(params, seq_len));
    else set(space, compute_hf_frequencies(params, seq_len));
  }

  /// Frequencies computed elsewhere, in double: the accurate mode (e.g. a scaling this library
  /// does not know).
  template <class ExecutionSpace>
  OnTheFly(const ExecutionSpace& space, const Frequencies& frequencies, PairStyle pair_style)
      : m_rotary_dim(2 * static_cast<int>(frequencies.inv_freq.size())), m_pair_style(pair_style),
        m_precision(Precision::accurate) {
    Kokkos::Profiling::ScopedRegion region("KokkosRope::OnTheFly");
    check_frequencies(frequencies.inv_freq, frequencies.attention_factor);
    set(space, frequencies);
  }

  /// float32 frequencies computed elsewhere (e.g. a checkpoint's own `inv_freq` buffer): the
  /// hf_compatible mode reproduces that framework's forward pass from them.
  template <class ExecutionSpace>
  OnTheFly(const ExecutionSpace& space, const FrequenciesF32& frequencies, PairStyle pair_style)
      : m_rotary_dim(2 * static_cast<int>(frequencies.inv_freq.size())), m_pair_style(pair_style),
        m_precision(Precision::hf_compatible) {
    Kokkos::Profiling::ScopedRegion region("KokkosRope::OnTheFly");
    check_frequencies(frequencies.inv_freq, frequencies.attention_factor);
    set(space, frequencies);
  }

  int rotary_dim() const { return m_rotary_dim; }
  PairStyle pair_style() const { return m_pair_style; }
  Precision precision() const { return m_precision; }
  double attention_factor() const { return m_attention_factor; }
  /// Exclusive bound on positions; -1: none.
  std::int64_t position_limit() const { return -1; }

  /// Calls `f(evaluator)` with the evaluator of the chosen precision (two kernel instantiations,
  /// chosen once per call, never per element).
  template <class F>
  void visit(F&& f) const {
    if (m_precision == Precision::accurate) f(m_accurate);
    else f(m_hf);
  }

 private:
  template <class Vector, class Factor>
  static void check_frequencies(const Vector& inv_freq, Factor attention_factor) {
    if (inv_freq.empty())
      throw std::invalid_argument("KokkosRope::OnTheFly: invalid inv_freq: empty (rotary_dim / 2 entries needed)");
    for (std::size_t i = 0; i < inv_freq.size(); ++i)
      if (!(std::isfinite(static_cast<double>(inv_freq[i])) && inv_freq[i] >= 0))
        throw std::invalid_argument("KokkosRope::OnTheFly: invalid inv_freq[" + std::to_string(i) +
                                    "] = " + std::to_string(static_cast<double>(inv_freq[i])) +
                                    ": must be finite and >= 0");
    if (!(std::isfinite(static_cast<double>(attention_factor)) && attention_factor > 0))
      throw std::invalid_argument("KokkosRope::OnTheFly: invalid attention_factor = " +
                                  std::to_string(static_cast<double>(attention_factor)) + ": must be finite and > 0");
  }
  template <class ExecutionSpace>
  void set(const ExecutionSpace& space, const Frequencies& f) {
    m_accurate = {Impl::upload<double, MemorySpace>(space, f.inv_freq, "KokkosRope::OnTheFly::inv_freq"),
                  f.attention_factor};
    m_attention_factor = f.attention_factor;
  }
  template <class ExecutionSpace>
  void set(const ExecutionSpace& space, const FrequenciesF32& f) {
    m_hf = {Impl::upload<float, MemorySpace>(space, f.inv_freq, "KokkosRope::OnTheFly::inv_freq"),
            f.attention_factor};
    m_attention_factor = f.attention_factor;
  }

  int m_rotary_dim;
  PairStyle m_pair_style;
  Precision m_precision;
  double m_attention_factor = 1.0;
  Impl::AccurateEvaluator<MemorySpace> m_accurate{};
  Impl::HfEvaluator<MemorySpace> m_hf{};
};

/// The caller's own cos/sin: two rank-2 Views [positions][rotary_dim / 2] of any floating type
/// (whatever scaling they contain is applied as is).
template <class CosView, class SinView = CosView>
class CosSinViews {
 public:
  using memory_space = typename CosView::memory_space;
  static_assert(Kokkos::is_view_v<CosView> && Kokkos::is_view_v<SinView>,
                "KokkosRope::CosSinViews: cos and sin must be Kokkos Views");
  static_assert(CosView::rank() == 2 && SinView::rank() == 2,
                "KokkosRope::CosSinViews: cos and sin must be rank 2 [positions][rotary_dim / 2]");

  CosSinViews(const CosView& cos, const SinView& sin, PairStyle pair_style = PairStyle::half_split)
      : m_eval{cos, sin}, m_pair_style(pair_style) {
    if (cos.extent(0) != sin.extent(0) || cos.extent(1) != sin.extent(1))
      throw std::invalid_argument(
          "KokkosRope::CosSinViews: cos and sin extents differ (" + std::to_string(cos.extent(0)) +
          "x" + std::to_string(cos.extent(1)) + " vs " + std::to_string(sin.extent(0)) + "x" +
          std::to_string(sin.extent(1)) + ")");
    if (cos.extent(1) == 0)
      throw std::invalid_argument("KokkosRope::CosSinViews: rotary_dim / 2 (extent 1) must be > 0");
  }

  int rotary_dim() const { return static_cast<int>(2 * m_eval.m_cos.extent(1)); }
  PairStyle pair_style() const { return m_pair_style; }
  std::int64_t position_limit() const { return static_cast<std::int64_t>(m_eval.m_cos.extent(0)); }
  template <class F>
  void visit(F&& f) const { f(m_eval); }

 private:
  Impl::ViewEvaluator<CosView, SinView> m_eval;
  PairStyle m_pair_style;
};

/// Precomputed cos/sin for positions [0, num_positions), attention factor included, built by a
/// kernel on the given instance. `Real` is the stored type (float, or double for fp64 models).
template <class MemorySpace = Kokkos::DefaultExecutionSpace::memory_space, class Real = float>
class Table {
 public:
  using memory_space = MemorySpace;
  using view_type = Kokkos::View<Real**, Kokkos::LayoutRight, MemorySpace>;
  static_assert(std::is_same_v<Real, float> || std::is_same_v<Real, double>,
                "KokkosRope::Table: Real must be float or double");

  template <class ExecutionSpace>
  Table(const ExecutionSpace& space, const Params& params, std::int64_t num_positions,
        Precision precision = Precision::accurate,
        std::optional<std::int64_t> seq_len = std::nullopt)
      : Table(space, (check_positions(num_positions, params.rotary_dim),
                      OnTheFly<MemorySpace>(space, params, precision, seq_len)),
              num_positions) {}

  /// A table of whatever an on-the-fly source evaluates (e.g. one built from a checkpoint's own
  /// frequencies), for positions [0, num_positions).
  template <class ExecutionSpace>
  Table(const ExecutionSpace& space, const OnTheFly<MemorySpace>& source, std::int64_t num_positions)
      : m_source(source), m_pair_style(source.pair_style()), m_precision(source.precision()),
        m_attention_factor(source.attention_factor()) {
    static_assert(Kokkos::SpaceAccessibility<ExecutionSpace, MemorySpace>::accessible,
                  "KokkosRope::Table: MemorySpace must be accessible from ExecutionSpace");
    Kokkos::Profiling::ScopedRegion region("KokkosRope::Table");
    const int pairs = source.rotary_dim() / 2;
    check_positions(num_positions, source.rotary_dim());
    m_cos = view_type(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "KokkosRope::Table::cos"),
                      num_positions, pairs);
    m_sin = view_type(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "KokkosRope::Table::sin"),
                      num_positions, pairs);
    source.visit([&](const auto& eval) {
      using Eval = std::decay_t<decltype(eval)>;
      Kokkos::parallel_for(
          "KokkosRope::Table::build",
          Kokkos::RangePolicy<ExecutionSpace, Kokkos::IndexType<std::int64_t>>(space, 0, num_positions * pairs),
          Impl::BuildTable<Eval, view_type>{eval, m_cos, m_sin, pairs});
    });
  }

  /// [num_positions][rotary_dim / 2], attention factor included.
  const view_type& cos() const { return m_cos; }
  const view_type& sin() const { return m_sin; }
  std::int64_t num_positions() const { return static_cast<std::int64_t>(m_cos.extent(0)); }
  int rotary_dim() const { return static_cast<int>(2 * m_cos.extent(1)); }
  PairStyle pair_style() const { return m_pair_style; }
  Precision precision() const { return m_precision; }
  double attention_factor() const { return m_attention_factor; }
  std::int64_t position_limit() const { return num_positions(); }
  template <class F>
  void visit(F&& f) const {
    f(Impl::ViewEvaluator<Kokkos::View<const Real**, Kokkos::LayoutRight, MemorySpace>,
                          Kokkos::View<const Real**, Kokkos::LayoutRight, MemorySpace>>{m_cos, m_sin});
  }

 private:
  static void check_positions(std::int64_t num_positions, int rotary_dim) {
    if (num_positions <= 0)
      throw std::invalid_argument("KokkosRope::Table: invalid num_positions = " +
                                  std::to_string(num_positions) + ": must be > 0");
    if (num_positions > (std::int64_t(1) << 40) / std::max(rotary_dim / 2, 1))
      throw std::invalid_argument("KokkosRope::Table: invalid num_positions = " +
                                  std::to_string(num_positions) + ": table would exceed 2^40 entries");
  }

  // Kept, not freed at the end of construction: freeing a Kokkos allocation fences globally.
  OnTheFly<MemorySpace> m_source;
  view_type m_cos;
  view_type m_sin;
  PairStyle m_pair_style;
  Precision m_precision;
  double m_attention_factor = 1.0;
};

/// True for the cos/sin sources above.
template <class T>
struct is_cos_sin_source : std::false_type {};
template <class M>
struct is_cos_sin_source<OnTheFly<M>> : std::true_type {};
template <class C, class S>
struct is_cos_sin_source<CosSinViews<C, S>> : std::true_type {};
template <class M, class R>
struct is_cos_sin_source<Table<M, R>> : std::true_type {};
template <class T>
inline constexpr bool is_cos_sin_source_v = is_cos_sin_source<std::remove_cv_t<std::remove_reference_t<T>>>::value;

}  // namespace KokkosRope

#endif
