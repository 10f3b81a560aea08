// SPDX-License-Identifier: Apache-2.0
/// \file Layouts.hpp
/// Tensor orders of q and k: which extent of a View is the batch, the sequence, the heads and
/// the head dimension.
#ifndef KOKKOSROPE_LAYOUTS_HPP
#define KOKKOSROPE_LAYOUTS_HPP

#include <KokkosRope/impl/KokkosRope_Compat.hpp>

namespace KokkosRope {

/// q, k as [batch, seq, heads, head_dim] (rank-4 Views of any Kokkos layout, LayoutStride
/// included, e.g. slices of a fused QKV buffer).
struct BSHD {
  static constexpr int rank = 4;  ///< rank of the q and k Views
};
/// q, k as [batch, heads, seq, head_dim] (Hugging Face's order).
struct BHSD {
  static constexpr int rank = 4;  ///< rank of the q and k Views
};
/// Packed variable-length batch: q, k as [tokens, heads, head_dim]; sequence b holds tokens
/// [cu_seqlens(b), cu_seqlens(b + 1)).
/// \tparam CuSeqlens a rank-1 integer View of batch + 1 entries, or `void`: the tokens form one
///         sequence.
template <class CuSeqlens = void>
struct Packed {
  static constexpr int rank = 3;  ///< rank of the q and k Views
  CuSeqlens cu_seqlens;           ///< sequence boundaries (FlashAttention's varlen convention)
};
/// Packed tokens of one sequence.
template <>
struct Packed<void> {
  static constexpr int rank = 3;  ///< rank of the q and k Views
};

inline constexpr BSHD bshd{};  ///< the [batch, seq, heads, head_dim] order
inline constexpr BHSD bhsd{};  ///< the [batch, heads, seq, head_dim] order

/// Packed tokens split into sequences by `cu_seqlens` (FlashAttention's varlen convention).
/// \tparam CuSeqlens a rank-1 integer View, accessible from the rotation's execution space
/// \param cu_seqlens batch + 1 entries: 0, then the running sum of the sequence lengths
/// \return the layout descriptor
template <class CuSeqlens>
Packed<CuSeqlens> packed(const CuSeqlens& cu_seqlens) {
  static_assert(Kokkos::is_view_v<CuSeqlens> && CuSeqlens::rank() == 1,
                "KokkosRope::packed: cu_seqlens must be a rank-1 View");
  return {cu_seqlens};
}
/// Packed tokens of a single sequence.
/// \return the layout descriptor
inline Packed<void> packed() {
  return {};
}

}  // namespace KokkosRope

#endif
