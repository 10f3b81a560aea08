// SPDX-License-Identifier: Apache-2.0
// Every difference between the supported Kokkos versions (4.5 with C++17, 5.x with C++20) lives
// here, each with the reason, so the rest of the library spells things one way.
#ifndef KOKKOSROPE_IMPL_COMPAT_HPP
#define KOKKOSROPE_IMPL_COMPAT_HPP

#include <Kokkos_Core.hpp>
#include <Kokkos_Profiling_ScopedRegion.hpp>

#include <type_traits>

#if KOKKOS_VERSION < 40500
#error "KokkosRope needs Kokkos 4.5 or newer"
#endif

namespace KokkosRope::Impl {

// The reduced-precision types live in Kokkos::Experimental in 4.5 and 5.x alike.
using half_t = Kokkos::Experimental::half_t;
using bhalf_t = Kokkos::Experimental::bhalf_t;

// True when the execution space runs on the host's cores: it then takes the host-rows path and
// may validate before the kernel. Asked of the execution space itself, not of its memory: on
// unified-memory builds (CUDA unified memory, MI300A) the host can reach a GPU's memory.
template <class ExecutionSpace>
inline constexpr bool is_host_execution_space_v = false
#if defined(KOKKOS_ENABLE_SERIAL)
                                                  || std::is_same_v<ExecutionSpace, Kokkos::Serial>
#endif
#if defined(KOKKOS_ENABLE_OPENMP)
                                                  || std::is_same_v<ExecutionSpace, Kokkos::OpenMP>
#endif
#if defined(KOKKOS_ENABLE_THREADS)
                                                  || std::is_same_v<ExecutionSpace, Kokkos::Threads>
#endif
#if defined(KOKKOS_ENABLE_HPX)
                                                  || std::is_same_v<ExecutionSpace, Kokkos::Experimental::HPX>
#endif
    ;

}  // namespace KokkosRope::Impl

#endif
