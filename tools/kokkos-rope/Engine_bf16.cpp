// SPDX-License-Identifier: Apache-2.0
// The rotation engine for Kokkos::Experimental::bhalf_t tensors (one translation unit per type keeps builds parallel).
#include "Engine.hpp"

namespace KokkosRopeTool {
template void run_typed<Kokkos::Experimental::bhalf_t>(int, const RotationJob&, const std::vector<double>&, const std::vector<double>&,
                            std::vector<double>&, std::vector<double>&);
template void run_cache_typed<Kokkos::Experimental::bhalf_t>(int, const RotationJob&, const CacheJob&, const std::vector<double>&,
                                  const std::vector<double>&, const std::vector<double>&, std::vector<double>&,
                                  CacheResult&);
}  // namespace KokkosRopeTool
