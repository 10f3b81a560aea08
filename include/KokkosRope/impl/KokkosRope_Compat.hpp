// SPDX-License-Identifier: Apache-2.0
// Every difference between the supported Kokkos versions (4.5 with C++17, 5.x with C++20) lives
// here, each with the reason, so the rest of the library spells things one way.
#ifndef KOKKOSROPE_IMPL_COMPAT_HPP
#define KOKKOSROPE_IMPL_COMPAT_HPP

#include <Kokkos_Core.hpp>
#include <Kokkos_Profiling_ScopedRegion.hpp>

#if KOKKOS_VERSION < 40500
#error "KokkosRope needs Kokkos 4.5 or newer"
#endif

namespace KokkosRope::Impl {

// Kokkos 5 removes `View::HostMirror`; `host_mirror_type` exists in both 4.5 and 5.x.
template <class View>
using host_mirror_t = typename View::host_mirror_type;

// The reduced-precision types live in Kokkos::Experimental in 4.5 and 5.x alike.
using half_t = Kokkos::Experimental::half_t;
using bhalf_t = Kokkos::Experimental::bhalf_t;

// True when the execution space runs on the host: it then gets one thread per team and loops
// the compiler can vectorise, where a GPU gets lanes over pairs and threads over heads.
template <class ExecutionSpace>
inline constexpr bool is_host_space_v =
    Kokkos::SpaceAccessibility<Kokkos::HostSpace, typename ExecutionSpace::memory_space>::accessible;

}  // namespace KokkosRope::Impl

#endif
