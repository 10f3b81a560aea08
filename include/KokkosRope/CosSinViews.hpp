// SPDX-License-Identifier: Apache-2.0
/// \file CosSinViews.hpp
/// A cos/sin source over the caller's own cos and sin Views.
#ifndef KOKKOSROPE_COSSINVIEWS_HPP
#define KOKKOSROPE_COSSINVIEWS_HPP

#include <KokkosRope/Params.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_Error.hpp>
#include <KokkosRope/impl/KokkosRope_Evaluators.hpp>

#include <cstdint>
#include <string>

namespace KokkosRope {

/// The caller's own cos/sin, whatever scaling they contain applied as is.
/// \tparam CosView rank-2 View [positions][rotary_dim / 2] of any floating type
/// \tparam SinView the same, for sin
template <class CosView, class SinView = CosView>
class CosSinViews {
 public:
  using memory_space = typename CosView::memory_space;  ///< where cos and sin live
  static_assert(Kokkos::is_view_v<CosView> && Kokkos::is_view_v<SinView>,
                "KokkosRope::CosSinViews: cos and sin must be Kokkos Views");
  static_assert(CosView::rank() == 2 && SinView::rank() == 2,
                "KokkosRope::CosSinViews: cos and sin must be rank 2 [positions][rotary_dim / 2]");

  /// \param cos [positions][rotary_dim / 2], attention factor included if wanted
  /// \param sin the same extents as cos
  /// \param pair_style how the rotary dimensions are paired
  CosSinViews(const CosView& cos, const SinView& sin, PairStyle pair_style = PairStyle::half_split)
      : m_eval{cos, sin}, m_pair_style(pair_style) {
    if (cos.extent(0) != sin.extent(0) || cos.extent(1) != sin.extent(1))
      Impl::throw_invalid_argument(
          "CosSinViews", "cos and sin extents differ (" + std::to_string(cos.extent(0)) + "x" +
                             std::to_string(cos.extent(1)) + " vs " + std::to_string(sin.extent(0)) + "x" +
                             std::to_string(sin.extent(1)) + ")");
    if (cos.extent(1) == 0)
      Impl::throw_invalid_argument("CosSinViews", "rotary_dim / 2 (extent 1) must be > 0");
  }

  /// \return the number of rotated dimensions, 2 cos.extent(1).
  int rotary_dim() const { return static_cast<int>(2 * m_eval.m_cos.extent(1)); }
  /// \return how the rotary dimensions are paired.
  PairStyle pair_style() const { return m_pair_style; }
  /// \return exclusive bound on positions: cos.extent(0).
  std::int64_t position_limit() const { return static_cast<std::int64_t>(m_eval.m_cos.extent(0)); }
  /// Calls `f(evaluator)` once.
  /// \param f a generic callable
  template <class F>
  void visit(F&& f) const {
    f(m_eval);
  }

 private:
  Impl::ViewEvaluator<CosView, SinView> m_eval;
  PairStyle m_pair_style;
};

}  // namespace KokkosRope

#endif
