// SPDX-License-Identifier: Apache-2.0
// kokkos-rope-bench: RoPE on Llama 3.1 shapes (prefill and decode) measured against
//  - a copy kernel moving the same bytes on the same execution space (the roofline),
//  - a plain port of the seed's approach (full-width cos/sin tables, rotate_half materialised,
//    q*cos + rotate_half(q)*sin as separate kernels),
//  - ggml's CPU rope (NeoX mode, Llama 3 frequency factors) when built with ggml.
// Every variant is verified once against the reference rotation of tests/common before it is
// timed; a failed check marks the benchmark as errored and makes the process exit non-zero.
// Timing: manual time around (launch + fence of the execution-space instance); counters `bytes`
// (2 x (q + k) bytes: every element read and written once), `GB/s`, `frac_of_copy` (this
// result's GB/s over the copy kernel's for the same bytes, measured in the same run). See
// perf/README.md.
//
// This file: main and the run context (Kokkos configuration, git revision, machine). The flags are
// Google Benchmark's (--benchmark_filter, --benchmark_out, --benchmark_repetitions, ...), plus the
// suite's sizing, removed before benchmark::Initialize: --quick, --smoke, --mode=full|quick|smoke
// (or KOKKOSROPE_BENCH_MODE) and --mem-gb=N (or KOKKOSROPE_BENCH_MEM_GB).
#include "KokkosRopeBench_Context.hpp"

#include <KokkosRopeBench_Revision.hpp>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>

namespace {

using namespace KokkosRopeBench;

/// Removes the suite's own flags from argv into `settings`; true when --benchmark_min_time was
/// given (it then overrides the mode's minimum time).
bool take_suite_flags(int& argc, char** argv) {
  if (const char* env = std::getenv("KOKKOSROPE_BENCH_MODE")) settings.mode = env;
  if (const char* env = std::getenv("KOKKOSROPE_BENCH_MEM_GB")) settings.mem_limit_gb = std::atof(env);
  bool min_time_given = false;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    if (std::strcmp(a, "--quick") == 0)
      settings.mode = "quick";
    else if (std::strcmp(a, "--smoke") == 0)
      settings.mode = "smoke";
    else if (std::strncmp(a, "--mode=", 7) == 0)
      settings.mode = a + 7;
    else if (std::strncmp(a, "--mem-gb=", 9) == 0)
      settings.mem_limit_gb = std::atof(a + 9);
    else {
      min_time_given = min_time_given || std::strncmp(a, "--benchmark_min_time", 20) == 0;
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  return min_time_given;
}

std::string kokkos_version() {
  std::ostringstream s;
  s << KOKKOS_VERSION / 10000 << '.' << (KOKKOS_VERSION / 100) % 100 << '.' << KOKKOS_VERSION % 100;
  return s.str();
}

/// The run context: what produced the numbers (library, Kokkos, compiler flags, machine load).
void add_context() {
  std::ostringstream config;
  Kokkos::print_configuration(config);
  benchmark::AddCustomContext("kokkosrope_version", KOKKOSROPE_VERSION_STRING);
  benchmark::AddCustomContext("git_revision", KOKKOSROPE_BENCH_GIT_REVISION);
  benchmark::AddCustomContext("kokkos_version", kokkos_version());
  benchmark::AddCustomContext("kokkos_execution_space", Exec::name());
  benchmark::AddCustomContext("kokkos_concurrency", std::to_string(Exec().concurrency()));
  benchmark::AddCustomContext("kokkos_configuration", config.str());
  benchmark::AddCustomContext("bench_mode", settings.mode);
  benchmark::AddCustomContext("precision", "accurate");
  benchmark::AddCustomContext("bf16_storage", "2-byte KokkosRope::bfloat16; Kokkos bhalf_t is " +
                                                  std::to_string(sizeof(Kokkos::Experimental::bhalf_t)) +
                                                  " bytes in this build");
  benchmark::AddCustomContext("frac_of_copy",
                              "GB/s over the copy kernel's GB/s for the same bytes, same run, same space");
  benchmark::AddCustomContext("compiler", __VERSION__);
  benchmark::AddCustomContext("bench_march", KOKKOSROPE_BENCH_MARCH);
  std::ifstream load("/proc/loadavg");
  std::string l1;
  if (load >> l1) benchmark::AddCustomContext("loadavg_at_start", l1);
  if (ggml_peer())
    ggml_peer()->add_context();
  else
    benchmark::AddCustomContext("ggml_version", KOKKOSROPE_BENCH_GGML_STATUS);  // why no ggml rows
}

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard guard(argc, argv);
  const bool min_time_given = take_suite_flags(argc, argv);
  if (settings.mode != "full" && settings.mode != "quick" && settings.mode != "smoke") {
    std::cerr << "kokkos-rope-bench: invalid --mode=" << settings.mode << " (full, quick or smoke)"
              << std::endl;
    return 2;
  }
  settings.min_time = settings.mode == "full" ? 0.2 : settings.mode == "quick" ? 0.05 : 0.002;
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;

  try {
    add_context();
  } catch (const std::exception& e) {
    std::cerr << "kokkos-rope-bench: " << e.what() << std::endl;
    return 1;
  }
  register_suite(settings.mode, min_time_given);
  register_serving(settings.mode, min_time_given);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  if (ggml_peer()) ggml_peer()->shutdown();
  if (any_failure) {
    std::cerr << "kokkos-rope-bench: FAILED (a variant did not verify or errored; see above)" << std::endl;
    return 1;
  }
  return 0;
}
