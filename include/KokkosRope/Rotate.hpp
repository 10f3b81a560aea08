// SPDX-License-Identifier: Apache-2.0
/// \file Rotate.hpp
/// Applying RoPE to query and key tensors: q and k together in one launch (k optional), in place
/// (`rotate`) or out of place (`rotate_copy`), forward or backward, in any tensor order of
/// Layouts.hpp, at the positions of Positions.hpp (multimodal RoPE's three streams included) or
/// ContextParallel.hpp, with cos/sin from any
/// source of Sources.hpp. Every entry point takes the execution-space instance first and runs
/// all its kernels on it; on a device execution space none waits for the device (positions are
/// validated in the kernel and failures flagged in a RotateStatus, see Options.hpp).
#ifndef KOKKOSROPE_ROTATE_HPP
#define KOKKOSROPE_ROTATE_HPP

#include <KokkosRope/ContextParallel.hpp>
#include <KokkosRope/Layouts.hpp>
#include <KokkosRope/Options.hpp>
#include <KokkosRope/Positions.hpp>
#include <KokkosRope/Sources.hpp>
#include <KokkosRope/Status.hpp>
#include <KokkosRope/impl/KokkosRope_Checks.hpp>
#include <KokkosRope/impl/KokkosRope_Launch.hpp>

#include <type_traits>

namespace KokkosRope {

/// Rotates q and k in place, in one launch.
/// \tparam ExecutionSpace a Kokkos execution space that can access q, k, the source and the
///         position Views
/// \param space the instance every kernel of the call runs on
/// \param layout the tensor order: `bshd`, `bhsd`, `packed()` or `packed(cu_seqlens)`
/// \param q non-const rank-4 (bshd, bhsd) or rank-3 (packed) View [.., head_dim]
/// \param k as q, with any number of heads (GQA/MQA)
/// \param source Table, OnTheFly or CosSinViews; its rotary_dim is <= head_dim, the rest of each
///        head is left as it is
/// \param positions ImplicitPositions{}, sequence_offsets(v), token_positions(v),
///        multimodal_positions(v, section) or context_parallel(shard[, v])
/// \param options direction, validation, kernel path
/// \param status where in-kernel validation flags skipped tokens (Status.hpp); without one, a
///        failing token aborts the kernel
/// \throws InvalidArgument for inconsistent shapes, an impossible forced kernel path, and (with
///         Validation::before_kernel, the default on host spaces) positions past the source,
///         before anything is written
template <
    class ExecutionSpace, class Layout, class QView, class KView, class Source,
    class Positions = ImplicitPositions, class Status = Impl::NoStatus,
    std::enable_if_t<Kokkos::is_view_v<KView> && is_cos_sin_source_v<Source> && Impl::is_status_arg_v<Status>,
                     int> = 0>
void rotate(const ExecutionSpace& space, const Layout& layout, const QView& q, const KView& k,
            const Source& source, const Positions& positions = {}, const RotateOptions& options = {},
            const Status& status = {}) {
  Impl::static_check_view<ExecutionSpace, Layout, QView>();
  Impl::static_check_view<ExecutionSpace, Layout, KView>();
  static_assert(
      Impl::is_mutable_view_v<QView> && Impl::is_mutable_view_v<KView>,
      "KokkosRope::rotate: in-place q and k must be non-const Views (use rotate_copy for const inputs)");
  Impl::check_same_tokens<Layout>("rotate", "q", q, "k", k);
  Impl::rotate_impl("rotate", space, layout, q, q, k, k, Impl::Access<Layout>::heads(k), source, positions,
                    options, status);
}

/// Rotates q alone in place.
/// \param space the instance every kernel of the call runs on
/// \param layout the tensor order
/// \param q non-const View [.., head_dim], rotated in place
/// \param source Table, OnTheFly or CosSinViews
/// \param positions where each token sits (see the q-and-k overload)
/// \param options direction, validation, kernel path
/// \param status where in-kernel validation flags skipped tokens (Status.hpp); without one, a
///        failing token aborts the kernel
template <
    class ExecutionSpace, class Layout, class QView, class Source, class Positions = ImplicitPositions,
    class Status = Impl::NoStatus,
    std::enable_if_t<Kokkos::is_view_v<QView> && is_cos_sin_source_v<Source> && Impl::is_status_arg_v<Status>,
                     int> = 0>
void rotate(const ExecutionSpace& space, const Layout& layout, const QView& q, const Source& source,
            const Positions& positions = {}, const RotateOptions& options = {}, const Status& status = {}) {
  Impl::static_check_view<ExecutionSpace, Layout, QView>();
  static_assert(Impl::is_mutable_view_v<QView>,
                "KokkosRope::rotate: in-place q must be a non-const View (use rotate_copy for const inputs)");
  Impl::rotate_impl("rotate", space, layout, q, q, q, q, 0, source, positions, options, status);
}

/// Out of place: q_out, k_out = RoPE(q_in, k_in), in one launch; the unrotated tail of a partial
/// rotary head_dim is copied.
/// \param space the instance every kernel of the call runs on
/// \param layout the tensor order
/// \param q_in View [.., head_dim], may be const
/// \param k_in as q_in, with any number of heads
/// \param q_out non-const View of q_in's extents, not overlapping q_in
/// \param k_out non-const View of k_in's extents, not overlapping k_in
/// \param source Table, OnTheFly or CosSinViews
/// \param positions where each token sits (see `rotate`)
/// \param options direction, validation, kernel path
/// \param status where in-kernel validation flags skipped tokens (Status.hpp); without one, a
///        failing token aborts the kernel
template <class ExecutionSpace, class Layout, class QIn, class KIn, class QOut, class KOut, class Source,
          class Positions = ImplicitPositions, class Status = Impl::NoStatus,
          std::enable_if_t<Kokkos::is_view_v<KIn> && Kokkos::is_view_v<QOut> && Kokkos::is_view_v<KOut> &&
                               is_cos_sin_source_v<Source> && Impl::is_status_arg_v<Status>,
                           int> = 0>
void rotate_copy(const ExecutionSpace& space, const Layout& layout, const QIn& q_in, const KIn& k_in,
                 const QOut& q_out, const KOut& k_out, const Source& source, const Positions& positions = {},
                 const RotateOptions& options = {}, const Status& status = {}) {
  Impl::static_check_view<ExecutionSpace, Layout, QIn>();
  Impl::static_check_view<ExecutionSpace, Layout, KIn>();
  Impl::static_check_view<ExecutionSpace, Layout, QOut>();
  Impl::static_check_view<ExecutionSpace, Layout, KOut>();
  static_assert(Impl::is_mutable_view_v<QOut> && Impl::is_mutable_view_v<KOut>,
                "KokkosRope::rotate_copy: q_out and k_out must be non-const Views");
  Impl::check_same_tokens<Layout>("rotate_copy", "q_in", q_in, "k_in", k_in);
  Impl::check_same_shape<Layout>("rotate_copy", "q_in", q_in, "q_out", q_out);
  Impl::check_same_shape<Layout>("rotate_copy", "k_in", k_in, "k_out", k_out);
  Impl::rotate_impl("rotate_copy", space, layout, q_in, q_out, k_in, k_out, Impl::Access<Layout>::heads(k_in),
                    source, positions, options, status);
}

/// Out of place, q alone.
/// \param space the instance every kernel of the call runs on
/// \param layout the tensor order
/// \param q_in View [.., head_dim], may be const
/// \param q_out non-const View of q_in's extents, not overlapping q_in
/// \param source Table, OnTheFly or CosSinViews
/// \param positions where each token sits (see `rotate`)
/// \param options direction, validation, kernel path
/// \param status where in-kernel validation flags skipped tokens (Status.hpp); without one, a
///        failing token aborts the kernel
template <
    class ExecutionSpace, class Layout, class QIn, class QOut, class Source,
    class Positions = ImplicitPositions, class Status = Impl::NoStatus,
    std::enable_if_t<Kokkos::is_view_v<QOut> && is_cos_sin_source_v<Source> && Impl::is_status_arg_v<Status>,
                     int> = 0>
void rotate_copy(const ExecutionSpace& space, const Layout& layout, const QIn& q_in, const QOut& q_out,
                 const Source& source, const Positions& positions = {}, const RotateOptions& options = {},
                 const Status& status = {}) {
  Impl::static_check_view<ExecutionSpace, Layout, QIn>();
  Impl::static_check_view<ExecutionSpace, Layout, QOut>();
  static_assert(Impl::is_mutable_view_v<QOut>, "KokkosRope::rotate_copy: q_out must be a non-const View");
  Impl::check_same_shape<Layout>("rotate_copy", "q_in", q_in, "q_out", q_out);
  Impl::rotate_impl("rotate_copy", space, layout, q_in, q_out, q_in, q_out, 0, source, positions, options,
                    status);
}

}  // namespace KokkosRope

#endif
