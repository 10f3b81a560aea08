// SPDX-License-Identifier: Apache-2.0
// What the cos/sin sources of Sources.hpp hand the kernels: small copyable evaluators of
// cos/sin(position, pair), attention factor included; the table-build functor; the checks of
// frequencies given by the caller.
#ifndef KOKKOSROPE_IMPL_EVALUATORS_HPP
#define KOKKOSROPE_IMPL_EVALUATORS_HPP

#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_CosSin.hpp>
#include <KokkosRope/impl/KokkosRope_Error.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <type_traits>
#include <vector>

namespace KokkosRope::Impl {

// Copies a host vector into a new View on the instance, without waiting for it: the staging
// buffer (a std::vector: freeing a Kokkos host allocation would fence globally) is handed to
// `keep_alive`, which the source holds for its lifetime.
template <class T, class MemorySpace, class ExecutionSpace, class Source>
Kokkos::View<T*, MemorySpace> upload(const ExecutionSpace& space, const std::vector<Source>& host,
                                     const std::string& label, std::shared_ptr<const void>& keep_alive) {
  Kokkos::View<T*, MemorySpace> device(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, label),
                                       host.size());
  auto staging = std::make_shared<std::vector<T>>(host.begin(), host.end());
  Kokkos::deep_copy(
      space, device,
      Kokkos::View<const T*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(staging->data(), staging->size()));
  keep_alive = staging;
  return device;
}

/// Evaluator over two [positions][rotary_dim / 2] Views.
template <class CosView, class SinView>
struct ViewEvaluator {
  CosView m_cos;
  SinView m_sin;
  /// The value type of both Views when each position's row is contiguous (the host-rows path
  /// then reads the rows in place); void otherwise.
  using row_type = std::conditional_t<
      std::is_same_v<typename CosView::non_const_value_type, typename SinView::non_const_value_type> &&
          std::is_same_v<typename CosView::array_layout, Kokkos::LayoutRight> &&
          std::is_same_v<typename SinView::array_layout, Kokkos::LayoutRight>,
      typename CosView::non_const_value_type, void>;
  KOKKOS_INLINE_FUNCTION const auto* cos_row(std::int64_t pos) const { return &m_cos(pos, 0); }
  KOKKOS_INLINE_FUNCTION const auto* sin_row(std::int64_t pos) const { return &m_sin(pos, 0); }
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

/// Fills cos/sin [positions][pairs] with `eval` on `space`: one entry per index.
template <class ExecutionSpace, class Eval, class TableView>
void build_table(const ExecutionSpace& space, const Eval& eval, const TableView& cos, const TableView& sin) {
  const int pairs = static_cast<int>(cos.extent(1));
  Kokkos::parallel_for("KokkosRope::Table::build",
                       Kokkos::RangePolicy<ExecutionSpace, Kokkos::IndexType<std::int64_t>>(
                           space, 0, static_cast<std::int64_t>(cos.extent(0)) * pairs),
                       BuildTable<Eval, TableView>{eval, cos, sin, pairs});
}

/// Frequencies handed to OnTheFly by the caller: rotary_dim / 2 finite entries >= 0 and a finite
/// attention factor > 0.
template <class Vector, class Factor>
void check_frequencies(const Vector& inv_freq, Factor attention_factor) {
  if (inv_freq.empty())
    throw_invalid_argument("OnTheFly", "invalid inv_freq: empty (rotary_dim / 2 entries needed)");
  for (std::size_t i = 0; i < inv_freq.size(); ++i)
    if (!(std::isfinite(static_cast<double>(inv_freq[i])) && inv_freq[i] >= 0))
      throw_invalid_argument("OnTheFly", "invalid inv_freq[" + std::to_string(i) +
                                             "] = " + std::to_string(static_cast<double>(inv_freq[i])) +
                                             ": must be finite and >= 0");
  if (!(std::isfinite(static_cast<double>(attention_factor)) && attention_factor > 0))
    throw_invalid_argument(
        "OnTheFly", "invalid attention_factor = " + std::to_string(static_cast<double>(attention_factor)) +
                        ": must be finite and > 0");
}

/// A table of num_positions x pairs entries: at least one position, at most 2^40 entries.
inline void check_table_positions(std::int64_t num_positions, int rotary_dim) {
  if (num_positions <= 0)
    throw_invalid_argument("Table",
                           "invalid num_positions = " + std::to_string(num_positions) + ": must be > 0");
  if (num_positions > (std::int64_t(1) << 40) / std::max(rotary_dim / 2, 1))
    throw_invalid_argument("Table", "invalid num_positions = " + std::to_string(num_positions) +
                                        ": table would exceed 2^40 entries");
}

}  // namespace KokkosRope::Impl

#endif
