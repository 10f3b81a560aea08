// SPDX-License-Identifier: Apache-2.0
// Execution-space registry, Kokkos lifetime and the dtype dispatch of the rotation engine.
#include "Engine.hpp"

#include <Kokkos_Core.hpp>

namespace KokkosRopeTool {

std::vector<std::string> enabled_spaces() {
  std::vector<std::string> names;
  for_each_space([&](auto tag) {
    names.push_back(decltype(tag)::type::name());
    return false;
  });
  return names;
}

void run_rotation(int space, const RotationJob& job, const std::vector<double>& q, const std::vector<double>& k,
                  std::vector<double>& q_out, std::vector<double>& k_out) {
  switch (job.dtype) {
    case DType::f32: return run_typed<float>(space, job, q, k, q_out, k_out);
    case DType::f64: return run_typed<double>(space, job, q, k, q_out, k_out);
    case DType::f16: return run_typed<Kokkos::Experimental::half_t>(space, job, q, k, q_out, k_out);
    case DType::bf16: return run_typed<Kokkos::Experimental::bhalf_t>(space, job, q, k, q_out, k_out);
    default: throw Error("tensors must be float32, float64, float16 or bfloat16, not " + dtype_name(job.dtype));
  }
}

void run_rotation_and_cache(int space, const RotationJob& job, const CacheJob& cache, const std::vector<double>& q,
                            const std::vector<double>& k, const std::vector<double>& v, std::vector<double>& q_out,
                            CacheResult& result) {
  switch (job.dtype) {
    case DType::f32: return run_cache_typed<float>(space, job, cache, q, k, v, q_out, result);
    case DType::f64: return run_cache_typed<double>(space, job, cache, q, k, v, q_out, result);
    case DType::f16: return run_cache_typed<Kokkos::Experimental::half_t>(space, job, cache, q, k, v, q_out, result);
    case DType::bf16: return run_cache_typed<Kokkos::Experimental::bhalf_t>(space, job, cache, q, k, v, q_out, result);
    default: throw Error("tensors must be float32, float64, float16 or bfloat16, not " + dtype_name(job.dtype));
  }
}

namespace {
bool g_initialized_here = false;
}

void ensure_kokkos() {
  if (Kokkos::is_initialized()) return;
  Kokkos::InitializationSettings settings;
  settings.set_disable_warnings(true);
  Kokkos::initialize(settings);
  g_initialized_here = true;
}

void finalize_kokkos() {
  if (g_initialized_here && Kokkos::is_initialized() && !Kokkos::is_finalized()) Kokkos::finalize();
}

}  // namespace KokkosRopeTool
