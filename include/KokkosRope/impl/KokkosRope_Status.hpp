// SPDX-License-Identifier: Apache-2.0
// What a rotation kernel does with a token that fails validation: flag it in the caller's
// RotateStatus record (atomics), abort with a message (no status given), or nothing.
#ifndef KOKKOSROPE_IMPL_STATUS_HPP
#define KOKKOSROPE_IMPL_STATUS_HPP

#include <KokkosRope/impl/KokkosRope_Compat.hpp>

#include <cstdint>
#include <limits>

namespace KokkosRope::Impl {

/// Record layout: [0] flagged tokens, [1] first token, [2] min position, [3] max position,
/// [4] reason bits.
template <class Record>
struct ResetStatus {
  Record m_record;
  KOKKOS_INLINE_FUNCTION void operator()(int) const {
    m_record(0) = 0;
    m_record(1) = Kokkos::Experimental::finite_max_v<std::int64_t>;
    m_record(2) = Kokkos::Experimental::finite_max_v<std::int64_t>;
    m_record(3) = Kokkos::Experimental::finite_min_v<std::int64_t>;
    m_record(4) = 0;
  }
};

/// What a rotation kernel does with a token that fails validation. One type per record type
/// with the behaviour chosen at run time, so that a call instantiates one kernel whatever the
/// validation mode.
enum class FlagMode { silent, record, abort };

template <class Record>
struct TokenFlagger {
  Record m_record;  // unallocated unless m_mode is record
  FlagMode m_mode = FlagMode::silent;
  KOKKOS_INLINE_FUNCTION void flag(std::int64_t token, std::int64_t position, unsigned reasons) const {
    if (m_mode == FlagMode::record) {
      Kokkos::atomic_add(&m_record(0), std::int64_t(1));
      Kokkos::atomic_min(&m_record(1), token);
      Kokkos::atomic_min(&m_record(2), position);
      Kokkos::atomic_max(&m_record(3), position);
      Kokkos::atomic_or(&m_record(4), static_cast<std::int64_t>(reasons));
    } else if (m_mode == FlagMode::abort) {
      Kokkos::printf(
          "KokkosRope::rotate: token %lld (position %lld) fails validation (reason bits %u: 1 negative "
          "position, 2 past the cos/sin source, 4 malformed cu_seqlens, 8 odd dual_chunk length, 16 cache slot past the cache)\n",
          static_cast<long long>(token), static_cast<long long>(position), reasons);
      Kokkos::abort(
          "KokkosRope::rotate: invalid position or cu_seqlens (pass a RotateStatus to flag instead)");
    }
  }
};

}  // namespace KokkosRope::Impl

#endif
