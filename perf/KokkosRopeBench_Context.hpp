// SPDX-License-Identifier: Apache-2.0
/// \file KokkosRopeBench_Context.hpp
/// What the parts of kokkos-rope-bench share: the case description (shape, dtype, variant) and its
/// benchmark name and label, the run-wide settings and results, and the interface every variant
/// implements. The parts: KokkosRopeBench_Main.cpp (main, run context), KokkosRopeBench_Suite.cpp
/// (the cases, the timed body), KokkosRopeBench_Verify.cpp (the check against the reference),
/// KokkosRopeBench_Roofline.cpp (the rooflines), KokkosRopeBench_Variants.cpp (library, seed port),
/// KokkosRopeBench_Ggml.cpp (ggml's rope; compiled only when ggml is found).
#ifndef KOKKOSROPE_PERF_KOKKOSROPEBENCH_CONTEXT_HPP
#define KOKKOSROPE_PERF_KOKKOSROPEBENCH_CONTEXT_HPP

#include <KokkosRope.hpp>
#include <KokkosRopeTesting_Fill.hpp>
#include <KokkosRopeTesting_Models.hpp>
#include <benchmark/benchmark.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <exception>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace KokkosRopeBench {

namespace kr = KokkosRope;

using Exec = Kokkos::DefaultExecutionSpace;
using Mem = Exec::memory_space;
using HostExec = Kokkos::DefaultHostExecutionSpace;
using Range = Kokkos::RangePolicy<Exec, Kokkos::IndexType<std::int64_t>>;

// The library's 2-byte type: Kokkos::Experimental::bhalf_t is a 4-byte float in builds without a
// GPU backend, so a "bf16" tensor of the OpenMP/Serial builds would move fp32 bytes.
using bf16 = KokkosRope::bfloat16;

enum class DType { f32, bf16 };
inline const char* name(DType d) {
  return d == DType::f32 ? "f32" : "bf16";
}
inline std::size_t bytes_of(DType d) {
  return d == DType::f32 ? 4 : 2;
}

using Model = KokkosRopeTesting::ModelShape;

enum class Kind { copy, fused, seed, ggml };
enum class Src { table, otf };

struct Case {
  bool decode = false;
  Model model = KokkosRopeTesting::llama31_8b;
  DType dtype = DType::bf16;
  std::int64_t batch = 1, seq = 1;
  std::int64_t max_offset = 0;  ///< decode: offsets in [0, max_offset)
  Kind kind = Kind::fused;
  Src source = Src::table;
  kr::PairStyle pair = kr::PairStyle::half_split;
  bool in_place = true;
  kr::Direction dir = kr::Direction::forward;

  std::int64_t tokens() const { return batch * seq; }
  std::int64_t q_elems() const { return tokens() * model.q_heads * model.head_dim; }
  std::int64_t k_elems() const { return tokens() * model.kv_heads * model.head_dim; }
  std::int64_t tensor_bytes() const {
    return (q_elems() + k_elems()) * static_cast<std::int64_t>(bytes_of(dtype));
  }
  /// Compulsory traffic of RoPE on q and k: every element read once and written once.
  std::int64_t moved_bytes() const { return 2 * tensor_bytes(); }
  std::int64_t positions() const { return decode ? max_offset : seq; }
  /// Position of token s of sequence b: decode offsets (see decode_offset) or 0, 1, ...
  std::int64_t position(std::int64_t b, std::int64_t s) const;

  std::string variant() const;
  /// The benchmark name: prefill/<model>/<dtype>/<variant>/seq:<S>, decode/.../batch:<B>.
  std::string name() const;
  /// key=value pairs for the post-processing (perf/report.py, perf/compare).
  std::string label() const;
  /// Key under which a variant is verified once (the kernel does not depend on the shape).
  std::string verify_key() const {
    return std::string(decode ? "decode/" : "prefill/") + KokkosRopeBench::name(dtype) + '/' + variant();
  }
  /// Peak bytes a benchmark of this case allocates (tensors, tables, temporaries).
  std::int64_t memory_bytes() const;
};

/// Decode: the position offset of sequence b, pseudo-random in [0, max_offset), reproducible.
inline std::int64_t decode_offset(std::int64_t b, std::int64_t max_offset) {
  return static_cast<std::int64_t>(KokkosRopeTesting::fill_bits(static_cast<std::uint64_t>(b), 0x5eedull) %
                                   static_cast<std::uint64_t>(max_offset));
}
inline std::int64_t Case::position(std::int64_t b, std::int64_t s) const {
  return decode ? decode_offset(b, max_offset) + s : s;
}

/// The seeds of the deterministic inputs (KokkosRopeTesting::fill) every variant starts from.
inline constexpr std::uint64_t seed_q = 1, seed_k = 2, seed_q_out = 3, seed_k_out = 4;

// ---- run-wide state ---------------------------------------------------------------------------

/// The suite's own options (the pre-pass of main); every other flag is Google Benchmark's.
struct Settings {
  std::string mode = "full";  ///< full | quick | smoke
  double min_time = 0.3;
  double mem_limit_gb = 6.0;
};
inline Settings settings;
inline bool any_failure = false;
inline std::map<std::string, double> verified;  ///< verify_key -> max relative error (passed)
inline std::map<std::int64_t, double> copy_gbps_by_bytes;

/// A case that threw: the run fails at exit (Main), and the case reports the error in the output.
inline void fail_case(benchmark::State& state, const std::string& name, const std::exception& e) {
  any_failure = true;
  std::cerr << "ERROR in " << name << ": " << e.what() << std::endl;
  state.SkipWithError(e.what());
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const std::size_t m = v.size() / 2;
  return v.size() % 2 ? v[m] : 0.5 * (v[m - 1] + v[m]);
}

/// The timed loop of every benchmark: one warm-up run (first touch, kernel and thread start-up),
/// then per iteration one run of `roofline` (when `with_roofline`; its own tensors, timed into
/// roof_times) and one of `run` (its launches and the fence of its instance), each on the host's
/// steady clock; the variant's time is the iteration's manual time.
template <class Run, class Roofline>
void time_iterations(benchmark::State& state, Run&& run, Roofline&& roofline, bool with_roofline,
                     std::vector<double>& times, std::vector<double>& roof_times) {
  run();
  if (with_roofline) roofline();
  for (auto _ : state) {
    if (with_roofline) {
      const auto r0 = std::chrono::steady_clock::now();
      roofline();
      roof_times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - r0).count());
    }
    const auto t0 = std::chrono::steady_clock::now();
    run();
    const double dt = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    state.SetIterationTime(dt);
    times.push_back(dt);
  }
}

// ---- the variants -----------------------------------------------------------------------------

/// A variant's q and k (and q_out, k_out when it writes out of place), token-major rows of the
/// case's sizes in Mem: its same-pattern roofline runs on them, alternating with the variant.
struct TensorBuffers {
  void* q = nullptr;
  void* k = nullptr;
  void* q_out = nullptr;
  void* k_out = nullptr;
  explicit operator bool() const { return q != nullptr && k != nullptr; }
};

/// One application of a variant on its data; run() returns when the work is complete.
struct Instance {
  virtual ~Instance() = default;
  virtual void run() = 0;
  /// The variant's tensors, or none (its roofline then gets buffers of its own).
  virtual TensorBuffers buffers() { return {}; }
  /// Current contents of the result tensors (q then k), as double.
  virtual std::vector<double> result_q() = 0;
  virtual std::vector<double> result_k() = 0;
  /// Records the inputs (before any run) in in_q, in_k for the verification.
  virtual void capture_inputs() {}
  std::vector<double> in_q, in_k;
};

/// The library's rotate (fused) or the seed port, on Exec (KokkosRopeBench_Variants.cpp).
std::unique_ptr<Instance> make_kokkos_instance(const Case& c);

/// A CPU peer measured side by side: ggml's rope. KokkosRopeBench_Ggml.cpp, compiled only when
/// ggml is found, sets it at static initialisation; empty otherwise.
struct Peer {
  std::function<std::unique_ptr<Instance>(const Case&)> make;
  std::function<void()> add_context;  ///< benchmark::AddCustomContext of its backend; may throw
  std::function<void()> shutdown;
};
inline std::optional<Peer>& ggml_peer() {
  static std::optional<Peer> peer;
  return peer;
}

/// Verifies a variant once per verify_key (on a small version of the case) against the reference
/// rotation of tests/common; false (and the message) on a mismatch (KokkosRopeBench_Verify.cpp).
bool verify_once(const Case& c, std::string& message);

/// Registers the benchmarks of a mode (full, quick, smoke) with Google Benchmark (KokkosRopeBench_Suite.cpp).
void register_suite(const std::string& mode, bool min_time_given);

/// Registers the serving-step benchmarks (rotate_and_cache against rotate + copy) of a mode
/// (KokkosRopeBench_Serving.cpp).
void register_serving(const std::string& mode, bool min_time_given);

}  // namespace KokkosRopeBench

#endif
