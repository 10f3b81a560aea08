// SPDX-License-Identifier: Apache-2.0
// The checks of a rotation's arguments: at compile time (Views, ranks, accessibility), then on
// the host (extents), then, for Validation::before_kernel, on the instance (cu_seqlens and
// positions, by small reductions read back on the host). In-kernel validation is the kernel's.
#ifndef KOKKOSROPE_IMPL_CHECKS_HPP
#define KOKKOSROPE_IMPL_CHECKS_HPP

#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_Error.hpp>
#include <KokkosRope/impl/KokkosRope_PositionMaps.hpp>
#include <KokkosRope/impl/KokkosRope_TensorAccess.hpp>

#include <cstdint>
#include <string>
#include <type_traits>

namespace KokkosRope::Impl {

/// Compile-time checks shared by every entry point.
template <class ExecutionSpace, class Layout, class View>
constexpr void static_check_view() {
  static_assert(Kokkos::is_execution_space_v<ExecutionSpace>,
                "KokkosRope::rotate: the first argument must be an execution space instance");
  static_assert(is_layout_v<Layout>, "KokkosRope::rotate: the layout must be bshd, bhsd or packed(...)");
  static_assert(Kokkos::is_view_v<View>, "KokkosRope::rotate: q and k must be Kokkos Views");
  static_assert(View::rank() == Layout::rank,
                "KokkosRope::rotate: q/k rank must be 4 for bshd/bhsd, 3 for packed layouts");
  static_assert(Kokkos::SpaceAccessibility<ExecutionSpace, typename View::memory_space>::accessible,
                "KokkosRope::rotate: q/k must be accessible from the execution space");
}

/// An integer View (cu_seqlens, offsets, positions) that kernels on ExecutionSpace can read.
template <class ExecutionSpace, class View>
inline constexpr bool is_index_view_v = std::is_integral_v<typename View::value_type>&&
    Kokkos::SpaceAccessibility<ExecutionSpace, typename View::memory_space>::accessible;

template <class View>
inline constexpr bool is_mutable_view_v =
    Kokkos::is_view_v<View> && !std::is_const_v<typename View::value_type>;

/// q and k must agree on everything but the number of heads (grouped-query attention).
template <class Layout, class A, class B>
void check_same_tokens(const char* where, const char* a_name, const A& a, const char* b_name, const B& b) {
  using acc = Access<Layout>;
  if constexpr (Layout::rank == 4) {
    if (acc::batch(a) != acc::batch(b) || acc::seq(a) != acc::seq(b))
      throw_invalid_argument(where, std::string(b_name) + " has batch x seq " +
                                        std::to_string(acc::batch(b)) + " x " + std::to_string(acc::seq(b)) +
                                        ", " + a_name + " has " + std::to_string(acc::batch(a)) + " x " +
                                        std::to_string(acc::seq(a)));
  } else {
    if (acc::tokens(a) != acc::tokens(b))
      throw_invalid_argument(where, std::string(b_name) + " has " + std::to_string(acc::tokens(b)) +
                                        " tokens, " + a_name + " has " + std::to_string(acc::tokens(a)));
  }
  if (acc::dim(a) != acc::dim(b))
    throw_invalid_argument(where, std::string(b_name) + " head_dim " + std::to_string(acc::dim(b)) +
                                      " differs from " + a_name + " head_dim " + std::to_string(acc::dim(a)));
}

template <class Layout, class In, class Out>
void check_same_shape(const char* where, const char* in_name, const In& in, const char* out_name,
                      const Out& out) {
  for (int r = 0; r < Layout::rank; ++r)
    if (in.extent(r) != out.extent(r))
      throw_invalid_argument(where, std::string(out_name) + " extent(" + std::to_string(r) +
                                        ") = " + std::to_string(out.extent(r)) + " differs from " + in_name +
                                        " extent(" + std::to_string(r) +
                                        ") = " + std::to_string(in.extent(r)));
}

/// A section of the source's rotary pairs: three counts >= 0 that sum to `pairs`.
inline void check_mrope_section(const char* where, const MropeSection& section, int pairs) {
  const int counts[3] = {section.temporal, section.height, section.width};
  const char* names[3] = {"temporal", "height", "width"};
  for (int r = 0; r < 3; ++r)
    if (counts[r] < 0)
      throw_invalid_argument(where, std::string("invalid mrope section ") + names[r] + " = " +
                                        std::to_string(counts[r]) + ": must be >= 0");
  const long long sum = static_cast<long long>(counts[0]) + counts[1] + counts[2];
  if (sum != pairs)
    throw_invalid_argument(where, "invalid mrope section [" + std::to_string(counts[0]) + ", " +
                                      std::to_string(counts[1]) + ", " + std::to_string(counts[2]) +
                                      "]: sums to " + std::to_string(sum) + ", the cos/sin source has " +
                                      std::to_string(pairs) + " rotary pairs (rotary_dim / 2)");
}

/// Indices up to which a host space runs a validation reduction as a loop on the calling thread:
/// below it a parallel region's launch costs more than the loop (decode steps, a batch's cu_seqlens).
inline constexpr std::int64_t host_serial_check_limit = 4096;

/// A validation reduction of `count` indices: functor(i, values...) into each reducer's result,
/// which the host then reads. On a host space below host_serial_check_limit, a loop on the calling
/// thread after waiting for the instance (which may still be writing the inputs); otherwise a
/// parallel_reduce on the instance.
template <class ExecutionSpace, class Functor, class... Reducers>
void validation_reduce(const char* label, const ExecutionSpace& space, std::int64_t count,
                       const Functor& functor, const Reducers&... reducers) {
  if constexpr (is_host_execution_space_v<ExecutionSpace>) {
    if (count <= host_serial_check_limit) {
      space.fence(label);
      (reducers.init(reducers.reference()), ...);
      for (std::int64_t i = 0; i < count; ++i) functor(i, reducers.reference()...);
      return;
    }
  }
  Kokkos::parallel_reduce(label,
                          Kokkos::RangePolicy<ExecutionSpace, Kokkos::IndexType<std::int64_t>>(space, 0, count),
                          functor, reducers...);
}

// Validation reductions (run on the caller's instance; the result comes back to the host).
template <class Cu>
struct CuSeqlensCheck {
  Cu m_cu;
  std::int64_t m_batch, m_tokens;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t b, std::int64_t& bad) const {
    if (b == 0 && m_cu(0) != 0) ++bad;
    if (b == m_batch && static_cast<std::int64_t>(m_cu(m_batch)) != m_tokens) ++bad;
    if (b < m_batch && m_cu(b + 1) < m_cu(b)) ++bad;
  }
};

template <class Tokens, class Positions>
struct PositionRange {
  Tokens m_tokens;
  Positions m_positions;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t g, std::int64_t& lo, std::int64_t& hi) const {
    const auto p = m_positions(m_tokens(g));
    if (lowest_position(p) < lo) lo = lowest_position(p);
    if (highest_position(p) > hi) hi = highest_position(p);
  }
};

template <class ExecutionSpace, class Tokens, class Positions>
void check_position_range(const ExecutionSpace& space, const char* where, std::int64_t tokens,
                          const Tokens& token_map, const Positions& position_map, std::int64_t limit) {
  std::int64_t lo = 0, hi = 0;
  validation_reduce("KokkosRope::check_positions", space, tokens,
                    PositionRange<Tokens, Positions>{token_map, position_map}, Kokkos::Min<std::int64_t>(lo),
                    Kokkos::Max<std::int64_t>(hi));
  if (lo < 0) throw_invalid_argument(where, "position " + std::to_string(lo) + " is negative");
  if (limit >= 0 && hi >= limit)
    throw_invalid_argument(where, "position " + std::to_string(hi) + " is past the cos/sin source (" +
                                      std::to_string(limit) +
                                      " positions); build the table for more positions");
}

/// What the host checks for free: implicit positions of a grid layout run 0 .. seq - 1.
template <class Layout, class Positions>
void check_positions_on_host(const char* where, std::int64_t seq, const Positions&, std::int64_t limit) {
  if constexpr (std::is_same_v<Positions, ImplicitPositionMap> && Layout::rank == 4) {
    if (limit >= 0 && seq > limit)
      throw_invalid_argument(where, "sequence length " + std::to_string(seq) +
                                        " is past the cos/sin source (" + std::to_string(limit) +
                                        " positions)");
  }
}

/// Validation::before_kernel: every token's position in [0, limit), by a reduction read back on
/// the host (the implicit positions of grid layouts are the host's, above).
template <class Layout, class ExecutionSpace, class Tokens, class Positions>
void check_positions(const ExecutionSpace& space, const char* where, std::int64_t tokens,
                     const Tokens& token_map, const Positions& position_map, std::int64_t limit) {
  if constexpr (!(std::is_same_v<Positions, ImplicitPositionMap> && Layout::rank == 4))
    check_position_range(space, where, tokens, token_map, position_map, limit);
}

/// Finds the first sequence with an odd local length (dual_chunk needs two equal chunks).
template <class Cu>
struct OddLengthCheck {
  Cu m_cu;
  using first_type = Kokkos::ValLocScalar<std::int64_t, std::int64_t>;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t b, first_type& first) const {
    const std::int64_t n = static_cast<std::int64_t>(m_cu(b + 1)) - static_cast<std::int64_t>(m_cu(b));
    if (n % 2 != 0 && b < first.val) {
      first.val = b;
      first.loc = n;
    }
  }
};

}  // namespace KokkosRope::Impl

#endif
