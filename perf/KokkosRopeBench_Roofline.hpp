// SPDX-License-Identifier: Apache-2.0
/// \file KokkosRopeBench_Roofline.hpp
/// The rooflines of kokkos-rope-bench, measured in the same run on the same execution space:
///  - the same-pattern roofline of a case (the headline `roofline_frac`): a kernel with the memory
///    access pattern of the case and no arithmetic, on buffers of the case's q and k sizes, token
///    by token: in place (read and write every word of q and k once) for the in-place variants,
///    out of place (read q and k, write q_out and k_out) for rotate_copy and the copy benchmark;
///  - the plain copy (`frac_of_copy`, kept for continuity): one flat buffer copied into another.
/// Every kernel here is a named functor (no extended lambdas: nvcc refuses them in constructors).
#ifndef KOKKOSROPE_PERF_KOKKOSROPEBENCH_ROOFLINE_HPP
#define KOKKOSROPE_PERF_KOKKOSROPEBENCH_ROOFLINE_HPP

#include "KokkosRopeBench_Context.hpp"

namespace KokkosRopeBench {

/// Copies `bytes` (rounded up to 8-byte words) from one buffer to another; check() compares them.
struct CopyInstance : Instance {
  Exec space;
  Kokkos::View<std::uint64_t*, Mem> src, dst;
  std::int64_t q_bytes;  ///< where k starts in src and dst (0: no q / k split to lend a roofline)
  explicit CopyInstance(std::int64_t bytes, std::int64_t q_bytes = 0);
  void run() override;
  /// src as q then k, dst as q_out then k_out.
  TensorBuffers buffers() override;
  bool check();
  std::vector<double> result_q() override { return {}; }
  std::vector<double> result_k() override { return {}; }
};

/// The memory access pattern of a variant: in place (q and k read and written) or out of place
/// (q and k read, q_out and k_out written: with write-allocate, the written lines are read too).
enum class Pattern { in_place, out_of_place };
inline const char* name(Pattern p) {
  return p == Pattern::in_place ? "in_place" : "out_of_place";
}
/// A case's pattern: the copy benchmark and the out-of-place variants are out of place.
inline Pattern pattern_of(const Case& c) {
  return c.kind != Kind::copy && c.in_place ? Pattern::in_place : Pattern::out_of_place;
}

/// The same-pattern roofline kernel of a case: q and k of the case's byte sizes (token-major, rows
/// rounded up to 16 bytes), every 8-byte word read once and written once, in place or into q_out
/// and k_out, XORed with a mask read from a View at run time (0: the data is unchanged, but the
/// compiler cannot drop the loads or the stores). No arithmetic, no cos/sin: the fastest this
/// access pattern runs on this execution space. Host spaces: RangePolicy over tokens, a loop in
/// 16-byte vectors over the token's q row then its k row (the order of the library's kernel);
/// device spaces: RangePolicy over the words of q then k (coalesced).
struct PatternInstance : Instance {
  Exec space;
  Pattern pattern;
  std::int64_t tokens, q_row, k_row;  ///< q_row, k_row: 8-byte words per token (even)
  Kokkos::View<std::uint64_t*, Mem> q, k, q_out, k_out, mask;
  bool borrowed = false;              ///< on a variant's tensors (else on buffers of its own)
  /// On buffers of its own, filled with known words.
  explicit PatternInstance(const Case& c);
  /// On the variant's tensors (only where lends_tensors(c)).
  PatternInstance(const Case& c, const TensorBuffers& tensors);
  void run() override;
  /// True when every output word holds its input word (own buffers: and the inputs are the filled
  /// values; borrowed: checksums around one more run).
  bool check();
  std::vector<double> result_q() override { return {}; }
  std::vector<double> result_k() override { return {}; }
};

/// GB/s of the copy kernel moving `tensor_bytes` (read) + `tensor_bytes` (written): taken from the
/// copy benchmark of the same shape when it ran earlier in this process, else measured here.
double copy_gbps(std::int64_t tensor_bytes);

/// True when the roofline kernel can run on the tensors of case `c`'s variant: their q and k rows
/// are whole 16-byte units, and Exec reaches them (ggml's host tensors are out of a device
/// space's reach).
bool lends_tensors(const Case& c);

/// GB/s of the same-pattern roofline of case `c` on buffers of its own, credited with
/// c.moved_bytes() (2 x (q + k) bytes, as the variant): for a variant that lends no tensors,
/// measured just before it runs. (Every variant of the CPU builds lends them: its roofline then
/// runs on its own q and k, alternating with it, in Suite.cpp.)
double roofline_gbps(const Case& c);

/// The median GB/s of `times` (seconds per run) for `bytes` per run.
double gbps_of(const std::vector<double>& times, std::int64_t bytes);

}  // namespace KokkosRopeBench

#endif
