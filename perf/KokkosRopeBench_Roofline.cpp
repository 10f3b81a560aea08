// SPDX-License-Identifier: Apache-2.0
// The rooflines of kokkos-rope-bench: the same-pattern kernels (in place, out of place) and the
// plain copy. Every kernel is a named functor: nvcc refuses an extended __host__ __device__ lambda
// in a constructor, and one in a member function would capture `this`.
#include "KokkosRopeBench_Roofline.hpp"

#include <chrono>
#include <tuple>
#include <stdexcept>
#include <string>

namespace KokkosRopeBench {

namespace {

using Words = Kokkos::View<std::uint64_t*, Mem>;
using ConstWords = Kokkos::View<const std::uint64_t*, Mem>;

/// Host spaces run the token-major row kernels, device spaces the flat ones.
constexpr bool host_kernels = Kokkos::SpaceAccessibility<Kokkos::HostSpace, Mem>::accessible;

// ---- setup and check --------------------------------------------------------------------------

/// x(i) = the hash of (i, seed): reproducible contents that no kernel output can match by chance.
struct FillWords {
  Words x;
  std::uint64_t seed;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t i) const {
    x(i) = KokkosRopeTesting::fill_bits(static_cast<std::uint64_t>(i), seed);
  }
};

struct ZeroWords {
  Words x;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t i) const { x(i) = 0; }
};

/// Counts the words of `x` that differ from `expect` (or, with `seed_check`, from fill_bits(i, seed)).
struct CountMismatches {
  ConstWords x, expect;
  std::uint64_t seed;
  bool seed_check;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t i, std::int64_t& bad) const {
    const std::uint64_t want =
        seed_check ? KokkosRopeTesting::fill_bits(static_cast<std::uint64_t>(i), seed) : expect(i);
    bad += x(i) != want ? 1 : 0;
  }
};

/// The sum of the words, modulo 2^64 (a checksum).
struct SumWords {
  ConstWords x;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t i, std::uint64_t& sum) const { sum += x(i); }
};

Words alloc_words(const Exec& space, const char* label, std::int64_t n) {
  return Words(
      Kokkos::view_alloc(space, Kokkos::WithoutInitializing, std::string("KokkosRope::bench::") + label), n);
}

std::int64_t mismatches(const Exec& space, const Words& x, const Words& expect, std::uint64_t seed) {
  std::int64_t bad = 0;
  Kokkos::parallel_reduce("KokkosRope::bench::roofline_check", Range(space, 0, x.extent(0)),
                          CountMismatches{x, expect, seed, expect.extent(0) == 0}, bad);
  return bad;  // the reduction into a host scalar waits for the result
}

// ---- the kernels ------------------------------------------------------------------------------

struct CopyKernel {
  ConstWords src;
  Words dst;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t i) const { dst(i) = src(i); }
};

// One row: y[i] = x[i] ^ m for n words (n even, x and y 16-byte aligned; x == y: in place). On
// the host, with GCC or Clang, in 16-byte vectors (one SSE / NEON register per access): on the
// AVX-512 CI VM (Zen 4) the loops the compiler vectorises itself use 64-byte accesses, which
// measured 0 to 20 % slower out of place (and no faster in place) than 16-byte ones, in
// interleaved A/B runs at 4K and 16K tokens. Elsewhere (device code, other compilers): a plain
// loop over the 8-byte words.
#if defined(__GNUC__) && !defined(__CUDA_ARCH__) && !defined(__HIP_DEVICE_COMPILE__) && \
    !defined(__SYCL_DEVICE_ONLY__)
#define KOKKOSROPE_BENCH_WORD16 1
#endif
KOKKOS_FORCEINLINE_FUNCTION void xor_row(std::uint64_t* KOKKOS_RESTRICT x, std::int64_t n, std::uint64_t m) {
#ifdef KOKKOSROPE_BENCH_WORD16
  typedef std::uint64_t word16 __attribute__((vector_size(16), __may_alias__));
  word16* KOKKOS_RESTRICT v = reinterpret_cast<word16*>(x);
  const word16 mm = {m, m};
  for (std::int64_t i = 0; i < n / 2; ++i) v[i] ^= mm;
#else
  for (std::int64_t i = 0; i < n; ++i) x[i] ^= m;
#endif
}
KOKKOS_FORCEINLINE_FUNCTION void xor_row(const std::uint64_t* KOKKOS_RESTRICT x,
                                         std::uint64_t* KOKKOS_RESTRICT y, std::int64_t n, std::uint64_t m) {
#ifdef KOKKOSROPE_BENCH_WORD16
  typedef std::uint64_t word16 __attribute__((vector_size(16), __may_alias__));
  const word16* KOKKOS_RESTRICT a = reinterpret_cast<const word16*>(x);
  word16* KOKKOS_RESTRICT b = reinterpret_cast<word16*>(y);
  const word16 mm = {m, m};
  for (std::int64_t i = 0; i < n / 2; ++i) b[i] = a[i] ^ mm;
#else
  for (std::int64_t i = 0; i < n; ++i) y[i] = x[i] ^ m;
#endif
}

/// Host, in place: token t's q words, then its k words (the library kernel's order).
struct InPlaceRows {
  std::uint64_t* q;
  std::uint64_t* k;
  ConstWords mask;
  std::int64_t q_row, k_row;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t t) const {
    const std::uint64_t m = mask(0);
    xor_row(q + t * q_row, q_row, m);
    xor_row(k + t * k_row, k_row, m);
  }
};

/// Host, out of place: token t's q words into q_out, then its k words into k_out.
struct OutOfPlaceRows {
  const std::uint64_t* q;
  const std::uint64_t* k;
  std::uint64_t* q_out;
  std::uint64_t* k_out;
  ConstWords mask;
  std::int64_t q_row, k_row;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t t) const {
    const std::uint64_t m = mask(0);
    xor_row(q + t * q_row, q_out + t * q_row, q_row, m);
    xor_row(k + t * k_row, k_out + t * k_row, k_row, m);
  }
};

/// Device, in place: one word per index, q's words then k's.
struct InPlaceFlat {
  Words q, k;
  ConstWords mask;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t i) const {
    const std::int64_t nq = static_cast<std::int64_t>(q.extent(0));
    if (i < nq)
      q(i) ^= mask(0);
    else
      k(i - nq) ^= mask(0);
  }
};

/// Device, out of place: one word per index, q's words then k's.
struct OutOfPlaceFlat {
  ConstWords q, k;
  Words q_out, k_out;
  ConstWords mask;
  KOKKOS_INLINE_FUNCTION void operator()(std::int64_t i) const {
    const std::int64_t nq = static_cast<std::int64_t>(q.extent(0));
    if (i < nq)
      q_out(i) = q(i) ^ mask(0);
    else
      k_out(i - nq) = k(i - nq) ^ mask(0);
  }
};

/// Median GB/s of `inst` credited with `bytes` per run: one warm-up run, then at least 10 runs and
/// settings.min_time seconds (the variants get Google Benchmark's min_time, the same setting; a
/// roofline serves every variant of its size, so it gets a few more runs than a variant's minimum).
double measure(Instance& inst, std::int64_t bytes) {
  inst.run();
  double total = 0;
  std::vector<double> times;
  while (times.size() < 10 || total < settings.min_time) {
    const auto t0 = std::chrono::steady_clock::now();
    inst.run();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    total += times.back();
  }
  return gbps_of(times, bytes);
}


}  // namespace

// ---- the plain copy ---------------------------------------------------------------------------

CopyInstance::CopyInstance(std::int64_t bytes, std::int64_t q_bytes_) : q_bytes(q_bytes_) {
  const std::int64_t n = (bytes + 7) / 8;
  src = alloc_words(space, "copy_src", n);
  dst = alloc_words(space, "copy_dst", n);
  Kokkos::parallel_for("KokkosRope::bench::fill", Range(space, 0, n), FillWords{src, 0});
  Kokkos::parallel_for("KokkosRope::bench::fill", Range(space, 0, n), ZeroWords{dst});
  space.fence("KokkosRope::bench::copy_setup");
}

void CopyInstance::run() {
  Kokkos::parallel_for("KokkosRope::bench::copy", Range(space, 0, src.extent(0)), CopyKernel{src, dst});
  space.fence("KokkosRope::bench::copy");
}

TensorBuffers CopyInstance::buffers() {
  if (q_bytes <= 0) return {};
  char* s = reinterpret_cast<char*>(src.data());
  char* d = reinterpret_cast<char*>(dst.data());
  return {s, s + q_bytes, d, d + q_bytes};
}

bool CopyInstance::check() {
  return mismatches(space, src, Words(), 0) == 0 && mismatches(space, dst, src, 0) == 0;
}

double copy_gbps(std::int64_t tensor_bytes) {
  auto it = copy_gbps_by_bytes.find(tensor_bytes);
  if (it != copy_gbps_by_bytes.end()) return it->second;
  CopyInstance c(tensor_bytes);
  const double g = measure(c, 2 * tensor_bytes);
  copy_gbps_by_bytes[tensor_bytes] = g;
  return g;
}

// ---- the same-pattern roofline ----------------------------------------------------------------

namespace {
/// Bytes of one token's q row and k row.
std::int64_t q_row_bytes(const Case& c) {
  return static_cast<std::int64_t>(c.model.q_heads) * c.model.head_dim * static_cast<std::int64_t>(bytes_of(c.dtype));
}
std::int64_t k_row_bytes(const Case& c) {
  return static_cast<std::int64_t>(c.model.kv_heads) * c.model.head_dim * static_cast<std::int64_t>(bytes_of(c.dtype));
}
/// The sum of every word of x modulo 2^64 (one reduction; the result waits for it).
std::uint64_t checksum(const Exec& space, const Words& x) {
  std::uint64_t sum = 0;
  Kokkos::parallel_reduce("KokkosRope::bench::roofline_checksum", Range(space, 0, x.extent(0)),
                          SumWords{x}, sum);
  return sum;
}
}  // namespace

bool lends_tensors(const Case& c) {
  if (c.kind == Kind::ggml && !Kokkos::SpaceAccessibility<Exec, Kokkos::HostSpace>::accessible) return false;
  return q_row_bytes(c) % 16 == 0 && k_row_bytes(c) % 16 == 0;
}

PatternInstance::PatternInstance(const Case& c, const TensorBuffers& tensors)
    : pattern(pattern_of(c)), tokens(c.tokens()), borrowed(true) {
  if (!lends_tensors(c) || !tensors || (pattern == Pattern::out_of_place && (!tensors.q_out || !tensors.k_out)))
    throw std::invalid_argument("roofline: the variant's tensors cannot hold the roofline kernel (" + c.name() + ")");
  q_row = q_row_bytes(c) / 8;
  k_row = k_row_bytes(c) / 8;
  q = Words(static_cast<std::uint64_t*>(tensors.q), tokens * q_row);
  k = Words(static_cast<std::uint64_t*>(tensors.k), tokens * k_row);
  if (pattern == Pattern::out_of_place) {
    q_out = Words(static_cast<std::uint64_t*>(tensors.q_out), tokens * q_row);
    k_out = Words(static_cast<std::uint64_t*>(tensors.k_out), tokens * k_row);
  }
  mask = alloc_words(space, "roofline_mask", 1);
  Kokkos::parallel_for("KokkosRope::bench::fill", Range(space, 0, 1), ZeroWords{mask});
  space.fence("KokkosRope::bench::roofline_setup");
}

PatternInstance::PatternInstance(const Case& c) : pattern(pattern_of(c)), tokens(c.tokens()) {
  // Rows of whole 16-byte units (2 words): the row kernels' vectors (Llama rows are multiples already).
  q_row = 2 * ((q_row_bytes(c) + 15) / 16);
  k_row = 2 * ((k_row_bytes(c) + 15) / 16);
  q = alloc_words(space, "roofline_q", tokens * q_row);
  k = alloc_words(space, "roofline_k", tokens * k_row);
  Kokkos::parallel_for("KokkosRope::bench::fill", Range(space, 0, q.extent(0)), FillWords{q, seed_q});
  Kokkos::parallel_for("KokkosRope::bench::fill", Range(space, 0, k.extent(0)), FillWords{k, seed_k});
  if (pattern == Pattern::out_of_place) {
    q_out = alloc_words(space, "roofline_q_out", tokens * q_row);
    k_out = alloc_words(space, "roofline_k_out", tokens * k_row);
    Kokkos::parallel_for("KokkosRope::bench::fill", Range(space, 0, q_out.extent(0)), ZeroWords{q_out});
    Kokkos::parallel_for("KokkosRope::bench::fill", Range(space, 0, k_out.extent(0)), ZeroWords{k_out});
  }
  mask = alloc_words(space, "roofline_mask", 1);
  Kokkos::parallel_for("KokkosRope::bench::fill", Range(space, 0, 1), ZeroWords{mask});
  space.fence("KokkosRope::bench::roofline_setup");
}

void PatternInstance::run() {
  const char* label = pattern == Pattern::in_place ? "KokkosRope::bench::roofline_in_place"
                                                   : "KokkosRope::bench::roofline_out_of_place";
  if (host_kernels) {  // both branches compiled (nvcc warns about unreferenced functors otherwise)
    if (pattern == Pattern::in_place)
      Kokkos::parallel_for(label, Range(space, 0, tokens),
                           InPlaceRows{q.data(), k.data(), mask, q_row, k_row});
    else
      Kokkos::parallel_for(
          label, Range(space, 0, tokens),
          OutOfPlaceRows{q.data(), k.data(), q_out.data(), k_out.data(), mask, q_row, k_row});
  } else {
    const std::int64_t n = tokens * (q_row + k_row);
    if (pattern == Pattern::in_place)
      Kokkos::parallel_for(label, Range(space, 0, n), InPlaceFlat{q, k, mask});
    else
      Kokkos::parallel_for(label, Range(space, 0, n), OutOfPlaceFlat{q, k, q_out, k_out, mask});
  }
  space.fence(label);
}

bool PatternInstance::check() {
  if (borrowed) {  // the variant changes its tensors: one more roofline run, checked by checksums
    const std::uint64_t q_sum = checksum(space, q), k_sum = checksum(space, k);
    run();
    const bool inputs = checksum(space, q) == q_sum && checksum(space, k) == k_sum;
    if (pattern == Pattern::in_place) return inputs;
    return inputs && checksum(space, q_out) == q_sum && checksum(space, k_out) == k_sum;
  }
  std::int64_t bad = mismatches(space, q, Words(), seed_q) + mismatches(space, k, Words(), seed_k);
  if (pattern == Pattern::out_of_place)
    bad += mismatches(space, q_out, q, 0) + mismatches(space, k_out, k, 0);
  return bad == 0;
}

double roofline_gbps(const Case& c) {
  PatternInstance inst(c);
  const double g = measure(inst, c.moved_bytes());
  if (!inst.check())
    throw std::runtime_error("the " + std::string(name(inst.pattern)) +
                             " roofline kernel changed its data (" + c.name() + ")");
  return g;
}

double gbps_of(const std::vector<double>& times, std::int64_t bytes) {
  return static_cast<double>(bytes) / median(times) / 1e9;
}

}  // namespace KokkosRopeBench
