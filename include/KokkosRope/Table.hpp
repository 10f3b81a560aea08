// SPDX-License-Identifier: Apache-2.0
/// \file Table.hpp
/// A cos/sin source that holds cos and sin for a range of positions, built by a kernel.
#ifndef KOKKOSROPE_TABLE_HPP
#define KOKKOSROPE_TABLE_HPP

#include <KokkosRope/OnTheFly.hpp>
#include <KokkosRope/Params.hpp>
#include <KokkosRope/Precision.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_Evaluators.hpp>

#include <cstdint>
#include <optional>
#include <type_traits>

namespace KokkosRope {

/// Precomputed cos/sin for positions [0, num_positions), attention factor included, built by a
/// kernel on the given instance.
/// \tparam MemorySpace where the table lives; accessible from the rotation's execution space
/// \tparam Real the stored type: float, or double for fp64 models
template <class MemorySpace = Kokkos::DefaultExecutionSpace::memory_space, class Real = float>
class Table {
 public:
  using memory_space = MemorySpace;  ///< where the table lives
  /// [num_positions][rotary_dim / 2]
  using view_type = Kokkos::View<Real**, Kokkos::LayoutRight, MemorySpace>;
  static_assert(std::is_same_v<Real, float> || std::is_same_v<Real, double>,
                "KokkosRope::Table: Real must be float or double");

  /// The table of `params` for positions [0, num_positions).
  /// \param space the instance that builds the table (no fence but the frequencies' copy)
  /// \param params validated first (InvalidArgument naming the field)
  /// \param num_positions > 0; at most 2^40 entries in all
  /// \param precision accurate (angles reduced in double) or hf_compatible
  /// \param seq_len the sequence length, for the kinds that depend on it; absent: the reference
  ///        framework's initial state
  template <class ExecutionSpace>
  Table(const ExecutionSpace& space, const Params& params, std::int64_t num_positions,
        Precision precision = Precision::accurate, std::optional<std::int64_t> seq_len = std::nullopt)
      : Table(space,
              (Impl::check_table_positions(num_positions, params.rotary_dim),
               OnTheFly<MemorySpace>(space, params, precision, seq_len)),
              num_positions) {}

  /// A table of whatever an on-the-fly source evaluates (e.g. one built from a checkpoint's own
  /// frequencies), for positions [0, num_positions).
  /// \param space the instance that builds the table
  /// \param source the frequencies, pair style and precision of the table
  /// \param num_positions > 0; at most 2^40 entries in all
  template <class ExecutionSpace>
  Table(const ExecutionSpace& space, const OnTheFly<MemorySpace>& source, std::int64_t num_positions)
      : m_source(source),
        m_pair_style(source.pair_style()),
        m_precision(source.precision()),
        m_attention_factor(source.attention_factor()) {
    static_assert(Kokkos::SpaceAccessibility<ExecutionSpace, MemorySpace>::accessible,
                  "KokkosRope::Table: MemorySpace must be accessible from ExecutionSpace");
    Kokkos::Profiling::ScopedRegion region("KokkosRope::Table");
    Impl::check_table_positions(num_positions, source.rotary_dim());
    m_cos = view_type(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "KokkosRope::Table::cos"),
                      num_positions, source.rotary_dim() / 2);
    m_sin = view_type(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "KokkosRope::Table::sin"),
                      num_positions, source.rotary_dim() / 2);
    source.visit([&](const auto& eval) { Impl::build_table(space, eval, m_cos, m_sin); });
  }

  /// \return cos, [num_positions][rotary_dim / 2], attention factor included.
  const view_type& cos() const { return m_cos; }
  /// \return sin, [num_positions][rotary_dim / 2], attention factor included.
  const view_type& sin() const { return m_sin; }
  /// \return the number of positions the table holds.
  std::int64_t num_positions() const { return static_cast<std::int64_t>(m_cos.extent(0)); }
  /// \return the number of rotated dimensions.
  int rotary_dim() const { return static_cast<int>(2 * m_cos.extent(1)); }
  /// \return how the rotary dimensions are paired.
  PairStyle pair_style() const { return m_pair_style; }
  /// \return the precision mode the table was built in.
  Precision precision() const { return m_precision; }
  /// \return the factor included in cos and sin.
  double attention_factor() const { return m_attention_factor; }
  /// \return exclusive bound on positions: num_positions().
  std::int64_t position_limit() const { return num_positions(); }
  /// Calls `f(evaluator)` once with the table's evaluator.
  /// \param f a generic callable
  template <class F>
  void visit(F&& f) const {
    f(Impl::ViewEvaluator<Kokkos::View<const Real**, Kokkos::LayoutRight, MemorySpace>,
                          Kokkos::View<const Real**, Kokkos::LayoutRight, MemorySpace>>{m_cos, m_sin});
  }

 private:
  // Kept, not freed at the end of construction: freeing a Kokkos allocation fences globally.
  OnTheFly<MemorySpace> m_source;
  view_type m_cos;
  view_type m_sin;
  PairStyle m_pair_style;
  Precision m_precision;
  double m_attention_factor = 1.0;
};

}  // namespace KokkosRope

#endif
