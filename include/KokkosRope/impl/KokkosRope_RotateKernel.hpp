// SPDX-License-Identifier: Apache-2.0
// The fused rotation kernel: a team per token; the token's cos/sin are evaluated (or loaded)
// once into team scratch and reused by every q and k head; threads over heads, vector lanes over
// consecutive pairs (coalesced on GPUs, a contiguous vectorisable loop on CPUs).
#ifndef KOKKOSROPE_IMPL_ROTATEKERNEL_HPP
#define KOKKOSROPE_IMPL_ROTATEKERNEL_HPP

#include <KokkosRope/Params.hpp>
#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_PairRotation.hpp>
#include <KokkosRope/impl/KokkosRope_TensorAccess.hpp>

#include <cstdint>
#include <type_traits>

namespace KokkosRope::Impl {

// ---- the kernel ------------------------------------------------------------------------------

// Pair style and direction are run-time members, not template parameters: both are uniform
// across a launch (a predictable branch per head row, a sign per cos/sin pair), and keeping
// them out of the type makes each rotate call instantiate one kernel instead of four.
template <class ExecutionSpace, class Layout, class Acc, class QIn, class QOut, class KIn, class KOut,
          class Eval, class Tokens, class Positions>
struct RotateKernel {
  using member_type = typename Kokkos::TeamPolicy<ExecutionSpace>::member_type;
  using scratch_view =
      Kokkos::View<Acc*, typename ExecutionSpace::scratch_memory_space, Kokkos::MemoryUnmanaged>;
  using access = Access<Layout>;

  QIn m_q_in;
  QOut m_q_out;
  KIn m_k_in;
  KOut m_k_out;
  Eval m_eval;
  Tokens m_tokens;
  Positions m_positions;
  std::int64_t m_token_offset;  // league index 0 is this token (launches are chunked at 2^31)
  int m_half;
  int m_head_dim;
  int m_q_heads;
  int m_k_heads;
  bool m_copy_tail;
  bool m_unit_stride;  // every tensor's head_dim has stride 1 (host pointer path)
  bool m_interleaved;  // pairs (2i, 2i + 1); otherwise (i, i + half)
  bool m_backward;     // rotate by -angle (the gradient of the forward rotation)

  // LayoutRight Views have a unit-stride last extent whatever their shape.
  static constexpr bool static_unit_stride =
      std::is_same_v<typename QIn::array_layout, Kokkos::LayoutRight> &&
      std::is_same_v<typename QOut::array_layout, Kokkos::LayoutRight> &&
      std::is_same_v<typename KIn::array_layout, Kokkos::LayoutRight> &&
      std::is_same_v<typename KOut::array_layout, Kokkos::LayoutRight>;

  static std::size_t scratch_bytes(int half) { return scratch_view::shmem_size(2 * half); }

  template <PairStyle Style, class In, class Out>
  KOKKOS_FORCEINLINE_FUNCTION void rotate_pairs(const member_type& member, const In& in, const Out& out,
                                                const TokenCoord& c, int h, const scratch_view& cs) const {
    const int half = m_half;
    Kokkos::parallel_for(Kokkos::ThreadVectorRange(member, half), [&](const int i) {
      const int i1 = PairIndex<Style>::first(i, half), i2 = PairIndex<Style>::second(i, half);
      Impl::rotate_pair(cs(i), cs(half + i), access::at(in, c, h, i1), access::at(in, c, h, i2),
                        access::at(out, c, h, i1), access::at(out, c, h, i2));
    });
  }

  template <class In, class Out>
  KOKKOS_FORCEINLINE_FUNCTION void rotate_head(const member_type& member, const In& in, const Out& out,
                                               const TokenCoord& c, int h, const scratch_view& cs) const {
    const int half = m_half;
    if constexpr (is_host_space_v<ExecutionSpace>) {
      if (static_unit_stride || m_unit_stride) {  // rows of head_dim contiguous elements: pointer loops
        const auto* row_in = &access::at(in, c, h, 0);
        auto* row_out = &access::at(out, c, h, 0);
        if (m_interleaved)
          rotate_row_host<PairStyle::interleaved>(row_in, row_out, cs.data(), cs.data() + half, half);
        else
          rotate_row_host<PairStyle::half_split>(row_in, row_out, cs.data(), cs.data() + half, half);
        if (m_copy_tail)
          for (int d = 2 * half; d < m_head_dim; ++d) row_out[d] = row_in[d];
        return;
      }
    }
    // The lane-parallel path: GPUs, and host Views whose head_dim is strided. Not compiled for
    // host kernels over LayoutRight Views, which never take it.
    if constexpr (!(is_host_space_v<ExecutionSpace> && static_unit_stride)) {
      if (m_interleaved)
        rotate_pairs<PairStyle::interleaved>(member, in, out, c, h, cs);
      else
        rotate_pairs<PairStyle::half_split>(member, in, out, c, h, cs);
      if (m_copy_tail) {
        Kokkos::parallel_for(Kokkos::ThreadVectorRange(member, 2 * half, m_head_dim),
                             [&](const int d) { access::at(out, c, h, d) = access::at(in, c, h, d); });
      }
    }
  }

  KOKKOS_INLINE_FUNCTION void operator()(const member_type& member) const {
    const TokenCoord c = m_tokens(m_token_offset + member.league_rank());
    const std::int64_t pos = m_positions(c);
    const scratch_view cs(member.team_scratch(0), 2 * m_half);
    const int half = m_half;
    const bool backward = m_backward;
    Kokkos::parallel_for(Kokkos::TeamVectorRange(member, half), [&](const int i) {
      Acc cv, sv;
      m_eval(pos, i, cv, sv);
      cs(i) = cv;
      cs(half + i) = backward ? -sv : sv;
    });
    member.team_barrier();
    Kokkos::parallel_for(Kokkos::TeamThreadRange(member, m_q_heads + m_k_heads), [&](const int h) {
      if (h < m_q_heads)
        rotate_head(member, m_q_in, m_q_out, c, h, cs);
      else
        rotate_head(member, m_k_in, m_k_out, c, h - m_q_heads, cs);
    });
  }
};

/// Threads per team and lanes per thread: one of each on the host (a team is a token, the pair
/// loop is the vector loop); on a GPU a warp's lanes over consecutive pairs and up to 8 warps over
/// heads, so a token's q and k heads are one block's coalesced work.
template <class ExecutionSpace>
struct LaunchShape {
  int team_size;
  int vector_length;
  static LaunchShape choose(int half, int heads) {
    if constexpr (is_host_space_v<ExecutionSpace>) {
      (void)half;
      (void)heads;
      return {1, 1};
    } else {
      int lanes = 1;
      while (lanes < half && lanes < 32) lanes *= 2;
      const int warps = heads < 1 ? 1 : (heads > 8 ? 8 : heads);
      return {warps, lanes};
    }
  }
};

}  // namespace KokkosRope::Impl

#endif
