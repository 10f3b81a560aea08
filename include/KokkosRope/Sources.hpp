// SPDX-License-Identifier: Apache-2.0
/// \file Sources.hpp
/// Where a rotation gets its cos and sin: a precomputed `Table`, evaluation `OnTheFly` from the
/// frequencies (no table bytes, more arithmetic), or the caller's own `CosSinViews`. Each source
/// hands the kernels a small copyable evaluator of cos/sin(position, pair), attention factor
/// included.
#ifndef KOKKOSROPE_SOURCES_HPP
#define KOKKOSROPE_SOURCES_HPP

#include <KokkosRope/CosSinViews.hpp>
#include <KokkosRope/OnTheFly.hpp>
#include <KokkosRope/Table.hpp>

#include <type_traits>

namespace KokkosRope {

/// True for the cos/sin sources: Table, OnTheFly, CosSinViews.
/// \tparam T any type
template <class T>
struct is_cos_sin_source : std::false_type {};
/// \cond
template <class M>
struct is_cos_sin_source<OnTheFly<M>> : std::true_type {};
template <class C, class S>
struct is_cos_sin_source<CosSinViews<C, S>> : std::true_type {};
template <class M, class R>
struct is_cos_sin_source<Table<M, R>> : std::true_type {};
/// \endcond
/// `is_cos_sin_source<T>::value` for T without cv and reference qualifiers.
template <class T>
inline constexpr bool is_cos_sin_source_v =
    is_cos_sin_source<std::remove_cv_t<std::remove_reference_t<T>>>::value;

}  // namespace KokkosRope

#endif
