// SPDX-License-Identifier: Apache-2.0
/// \file Status.hpp
/// Where a rotation that validates in its kernel (Validation::in_kernel, the default on device
/// execution spaces) flags the tokens it skipped, without making the call wait: a small record in
/// device memory that the caller reads when it synchronises anyway (e.g. once per step).
#ifndef KOKKOSROPE_STATUS_HPP
#define KOKKOSROPE_STATUS_HPP

#include <KokkosRope/impl/KokkosRope_Compat.hpp>
#include <KokkosRope/impl/KokkosRope_Error.hpp>
#include <KokkosRope/impl/KokkosRope_Status.hpp>

#include <cstdint>
#include <limits>
#include <string>

namespace KokkosRope {

/// Why a token was flagged (bits of RotateReport::reasons).
enum StatusReason : unsigned {
  position_negative = 1u,     ///< its position is < 0
  position_past_source = 2u,  ///< its position is >= the cos/sin source's number of positions
  malformed_cu_seqlens = 4u,  ///< cu_seqlens does not start at 0, decreases or ends elsewhere
  odd_dual_chunk = 8u,        ///< its sequence's local length is odd under a dual_chunk shard
  slot_past_cache = 16u       ///< rotate_and_cache: its slot is past the cache, or its block table has no block for it
};

/// What a RotateStatus has recorded since its last reset, on the host.
struct RotateReport {
  std::int64_t flagged_tokens = 0;  ///< how many tokens were skipped (summed over calls)
  std::int64_t first_token = -1;    ///< the smallest flagged flat token index; -1: none
  std::int64_t min_position = 0;    ///< the smallest position among the flagged tokens
  std::int64_t max_position = 0;    ///< the largest position among the flagged tokens
  unsigned reasons = 0;             ///< StatusReason bits
  /// \return true when no token was flagged.
  bool ok() const { return flagged_tokens == 0; }
  /// \return what was flagged, in one sentence; empty when ok().
  std::string message() const {
    if (ok()) return {};
    std::string why;
    const auto add = [&](unsigned bit, const char* text) {
      if ((reasons & bit) == 0) return;
      if (!why.empty()) why += ", ";
      why += text;
    };
    add(position_negative, "negative position");
    add(position_past_source, "position past the cos/sin source");
    add(malformed_cu_seqlens, "cu_seqlens must start at 0, never decrease and end at the token count");
    add(odd_dual_chunk, "dual_chunk needs an even local length for every sequence");
    add(slot_past_cache, "cache slot past the cache or missing from the block table");
    return std::to_string(flagged_tokens) + " token(s) skipped (" + why + "); first token " +
           std::to_string(first_token) + ", positions " + std::to_string(min_position) + " to " +
           std::to_string(max_position);
  }
};

/// A device-side record of the tokens that rotations skipped. Calls only add to it (atomics);
/// reading it (report, check) waits for the instance, so read it where the code synchronises
/// anyway.
/// \tparam MemorySpace where the record lives; must be accessible from the rotations' space
template <class MemorySpace = Kokkos::DefaultExecutionSpace::memory_space>
class RotateStatus {
 public:
  using memory_space = MemorySpace;  ///< where the record lives
  /// flagged count, first token, min position, max position, reason bits
  using record_type = Kokkos::View<std::int64_t[5], MemorySpace>;

  /// A cleared record, allocated and cleared on `space` without waiting for it.
  /// \param space the instance that clears it
  template <class ExecutionSpace>
  explicit RotateStatus(const ExecutionSpace& space)
      : m_record(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "KokkosRope::RotateStatus")) {
    reset(space);
  }

  /// Clears the record on `space`, without waiting for it.
  /// \param space the instance ordered with the rotations that use this status
  template <class ExecutionSpace>
  void reset(const ExecutionSpace& space) const {
    static_assert(Kokkos::SpaceAccessibility<ExecutionSpace, MemorySpace>::accessible,
                  "KokkosRope::RotateStatus: the record must be accessible from the execution space");
    Kokkos::parallel_for("KokkosRope::RotateStatus::reset", Kokkos::RangePolicy<ExecutionSpace>(space, 0, 1),
                         Impl::ResetStatus<record_type>{m_record});
  }

  /// Copies the record to the host; waits for `space` (and so for the rotations on it).
  /// \param space the instance the rotations ran on
  /// \return what was flagged since the last reset
  template <class ExecutionSpace>
  RotateReport report(const ExecutionSpace& space) const {
    auto host = Kokkos::create_mirror(Kokkos::HostSpace{}, m_record);
    Kokkos::deep_copy(space, host, m_record);
    space.fence("KokkosRope::RotateStatus::report");
    RotateReport r;
    r.flagged_tokens = host(0);
    r.first_token = r.flagged_tokens > 0 ? host(1) : -1;
    r.min_position = r.flagged_tokens > 0 ? host(2) : 0;
    r.max_position = r.flagged_tokens > 0 ? host(3) : 0;
    r.reasons = static_cast<unsigned>(host(4));
    return r;
  }

  /// Throws InvalidArgument with report(space).message() when a token was flagged.
  /// \param space the instance the rotations ran on
  template <class ExecutionSpace>
  void check(const ExecutionSpace& space) const {
    const RotateReport r = report(space);
    if (!r.ok()) Impl::throw_invalid_argument("RotateStatus", r.message());
  }

  /// \return the record (see record_type), for kernels of the caller's own.
  const record_type& record() const { return m_record; }

 private:
  record_type m_record;
};

/// \tparam T a type
/// True for RotateStatus types.
template <class T>
inline constexpr bool is_rotate_status_v = false;
/// \tparam M a memory space
template <class M>
inline constexpr bool is_rotate_status_v<RotateStatus<M>> = true;

}  // namespace KokkosRope

#endif
