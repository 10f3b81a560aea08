// SPDX-License-Identifier: Apache-2.0
// The host-rows loops for bfloat16 with x86's AVX512-BF16 conversions, compiled when the build
// targets that ISA (-march=sapphirerapids, znver4, native on such a CPU; Kokkos_ARCH_SPR). The
// portable loops convert float to bf16 with integer arithmetic, several instructions per element,
// which bounds a bf16 rotation on a CPU by its conversions instead of by memory; VCVTNEPS2BF16
// rounds 16 floats in one instruction. That instruction flushes denormals and keeps NaN payloads,
// so those rare lanes are redone with the portable rounding: the results are bitwise those of
// KokkosRope::bfloat16(float) on every input. Define KOKKOSROPE_DISABLE_HOST_SIMD to opt out.
#ifndef KOKKOSROPE_IMPL_HOSTSIMD_HPP
#define KOKKOSROPE_IMPL_HOSTSIMD_HPP

#include <KokkosRope/BFloat16.hpp>
#include <KokkosRope/Params.hpp>

#include <cstddef>
#include <cstdint>

#if defined(__AVX512BF16__) && defined(__AVX512BW__) && defined(__AVX512DQ__) && defined(__AVX512VL__) && \
    !defined(KOKKOSROPE_DISABLE_HOST_SIMD) && !defined(__CUDACC__) && !defined(__HIPCC__) &&              \
    !defined(SYCL_LANGUAGE_VERSION)
#define KOKKOSROPE_IMPL_HOST_AVX512BF16 1
#include <immintrin.h>
#endif

namespace KokkosRope::Impl {

/// True when the bfloat16 host-rows loops use AVX512-BF16 (the tests and the benchmark report it).
inline constexpr bool host_avx512bf16_v =
#if defined(KOKKOSROPE_IMPL_HOST_AVX512BF16)
    true;
#else
    false;
#endif

#if defined(KOKKOSROPE_IMPL_HOST_AVX512BF16)
namespace HostSimd {

/// The first n (at most 32) of 32 lanes.
inline __mmask32 lanes(int n) {
  return n >= 32 ? ~__mmask32(0) : (__mmask32(1) << n) - 1;
}

/// 16 bf16 (as 16-bit lanes) widened exactly to floats.
inline __m512 widen(__m256i bits) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(bits), 16));
}

/// The first lanes of 16 (m) loaded, the others zero: 16 bf16 as 16-bit lanes, or 16 floats.
inline __m256i load16(const bfloat16* p, __mmask16 m) {
  return _mm256_maskz_loadu_epi16(m, p);
}
inline __m512 load16(const float* p, __mmask16 m) {
  return _mm512_maskz_loadu_ps(m, p);
}

/// lo and hi (16 floats each) rounded to 32 bf16 (lo first), bitwise as bfloat16(float). The
/// instruction flushes denormals to zero and keeps NaN payloads; its results with a zero or
/// all-ones exponent (one add and one test finds them) are redone with the portable rounding.
/// Only zeros and infinities take that detour needlessly.
inline __m512i narrow(__m512 lo, __m512 hi, __mmask32 valid) {
  __m512i bits = reinterpret_cast<__m512i>(_mm512_cvtne2ps_pbh(hi, lo));
  const __m512i exponent_plus_one = _mm512_add_epi16(bits, _mm512_set1_epi16(0x0080));
  const __mmask32 special = _mm512_testn_epi16_mask(exponent_plus_one, _mm512_set1_epi16(0x7f00)) & valid;
  if (special) [[unlikely]] {
    alignas(64) float f[32];
    alignas(64) std::uint16_t b[32];
    _mm512_store_ps(f, lo);
    _mm512_store_ps(f + 16, hi);
    _mm512_store_si512(b, bits);
    for (int i = 0; i < 32; ++i)
      if ((special >> i) & 1) b[i] = bfloat16(f[i]).bits;
    bits = _mm512_load_si512(b);
  }
  return bits;
}

// rotate_pair's arithmetic on 16 pairs: y1 = a c - b s, y2 = b c + a s, one fused multiply-add each.
inline __m512 first_of(__m512 a, __m512 b, __m512 c, __m512 s) {
  return _mm512_fmsub_ps(a, c, _mm512_mul_ps(b, s));
}
inline __m512 second_of(__m512 a, __m512 b, __m512 c, __m512 s) {
  return _mm512_fmadd_ps(b, c, _mm512_mul_ps(a, s));
}

/// cos and sin of 32 consecutive pairs, loaded once and applied to every head row of a token: in
/// order (lo: pairs 0-15, hi: 16-31), and for half-split rows also split into the even and the odd
/// pairs, the order in which a full half-split step widens its 32 elements.
struct CosSin32 {
  __m512 c_lo, c_hi, s_lo, s_hi;
  __m512 c_even, c_odd, s_even, s_odd;
};

template <PairStyle Style>
inline CosSin32 load_cos_sin(const float* c, const float* s, __mmask32 m) {
  const __mmask16 m_lo = static_cast<__mmask16>(m), m_hi = static_cast<__mmask16>(m >> 16);
  CosSin32 cs;
  cs.c_lo = load16(c, m_lo);
  cs.c_hi = load16(c + 16, m_hi);
  cs.s_lo = load16(s, m_lo);
  cs.s_hi = load16(s + 16, m_hi);
  if constexpr (Style == PairStyle::half_split) {
    const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4, 2, 0);
    const __m512i odd = _mm512_add_epi32(even, _mm512_set1_epi32(1));
    cs.c_even = _mm512_permutex2var_ps(cs.c_lo, even, cs.c_hi);
    cs.c_odd = _mm512_permutex2var_ps(cs.c_lo, odd, cs.c_hi);
    cs.s_even = _mm512_permutex2var_ps(cs.s_lo, even, cs.s_hi);
    cs.s_odd = _mm512_permutex2var_ps(cs.s_lo, odd, cs.s_hi);
  } else {
    cs.c_even = cs.c_odd = cs.s_even = cs.s_odd = _mm512_setzero_ps();  // not read by interleaved steps
  }
  return cs;
}

/// The 16-bit lane order that interleaves 32 results given as [16 firsts | 16 seconds].
inline __m512i interleave_halves() {
  return _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9, 24, 8, 23, 7, 22, 6, 21, 5,
                          20, 4, 19, 3, 18, 2, 17, 1, 16, 0);
}

/// 64 bytes stored at p: with a streaming (non-temporal) store when Streaming (p 64-byte aligned).
/// A serving step writes each KV-cache row once and never reads it back, so streaming its rows
/// spares the read of every cache line a store would first fetch.
template <bool Streaming>
inline void store64(void* p, __m512i v) {
  if constexpr (Streaming)
    _mm512_stream_si512(static_cast<__m512i*>(p), v);
  else
    _mm512_storeu_si512(p, v);
}

/// Whether rows at out + r step (bytes) may take streaming stores of 64-byte units: every row
/// and every `unit` bytes within it 64-byte aligned.
inline bool streamable(const void* out, std::int64_t step, std::int64_t unit) {
  return reinterpret_cast<std::uintptr_t>(out) % 64 == 0 && step % 64 == 0 && unit % 64 == 0;
}

/// Orders the streaming stores before every later store (they are weakly ordered), so whoever
/// synchronises with this thread afterwards sees them.
inline void streaming_fence() {
  _mm_sfence();
}

/// `rows` rows of `bytes` bytes (row r at in + r step_in, out + r step_out) copied with streaming
/// stores; streamable(out, step_out, bytes) must hold.
inline void stream_rows(const std::byte* in, std::int64_t step_in, std::byte* out, std::int64_t step_out,
                        int rows, std::int64_t bytes) {
  for (int r = 0; r < rows; ++r, in += step_in, out += step_out)
    for (std::int64_t b = 0; b < bytes; b += 64) store64<true>(out + b, _mm512_loadu_si512(in + b));
}

/// 32 bf16 widened exactly to floats: the even elements (shifted into the high half of their
/// 32-bit lane) and the odd ones (already there), two instructions for 32 elements.
inline __m512 widen_even(__m512i bits) {
  return _mm512_castsi512_ps(_mm512_slli_epi32(bits, 16));
}
inline __m512 widen_odd(__m512i bits) {
  return _mm512_castsi512_ps(_mm512_and_si512(bits, _mm512_set1_epi32(static_cast<int>(0xffff0000u))));
}

/// Half-split pairs [i, i + 32) of one row: x1 from a1, x2 from a2, into y1 and y2 (which may be a1
/// and a2); a full step's stores streaming when Streaming.
template <bool Masked, bool Streaming>
inline void split_step(const bfloat16* a1, const bfloat16* a2, bfloat16* y1, bfloat16* y2, const CosSin32& cs,
                       __mmask32 m) {
  if constexpr (!Masked) {
    // 32 elements per load, split into even and odd lanes; the permutation restores their order.
    const __m512i a = _mm512_loadu_si512(a1), b = _mm512_loadu_si512(a2);
    const __m512 a_even = widen_even(a), a_odd = widen_odd(a), b_even = widen_even(b), b_odd = widen_odd(b);
    const __m512i order = interleave_halves();
    const __m512i r1 = narrow(first_of(a_even, b_even, cs.c_even, cs.s_even),
                              first_of(a_odd, b_odd, cs.c_odd, cs.s_odd), m);
    const __m512i r2 = narrow(second_of(a_even, b_even, cs.c_even, cs.s_even),
                              second_of(a_odd, b_odd, cs.c_odd, cs.s_odd), m);
    store64<Streaming>(y1, _mm512_permutexvar_epi16(order, r1));
    store64<Streaming>(y2, _mm512_permutexvar_epi16(order, r2));
    return;
  }
  // A masked step (the last of a row) widens 16 elements per load, in order.
  const __mmask16 m_lo = static_cast<__mmask16>(m), m_hi = static_cast<__mmask16>(m >> 16);
  const __m512 a_lo = widen(load16(a1, m_lo)), a_hi = widen(load16(a1 + 16, m_hi));
  const __m512 b_lo = widen(load16(a2, m_lo)), b_hi = widen(load16(a2 + 16, m_hi));
  const __m512i r1 =
      narrow(first_of(a_lo, b_lo, cs.c_lo, cs.s_lo), first_of(a_hi, b_hi, cs.c_hi, cs.s_hi), m);
  const __m512i r2 =
      narrow(second_of(a_lo, b_lo, cs.c_lo, cs.s_lo), second_of(a_hi, b_hi, cs.c_hi, cs.s_hi), m);
  _mm512_mask_storeu_epi16(y1, m, r1);
  _mm512_mask_storeu_epi16(y2, m, r2);
}

/// Interleaved pairs [i, i + 16) of one row: a pair is one 32-bit lane, its first element in the
/// low half. (cs: the low 16 pairs of a CosSin32; a full step's store streaming when Streaming.)
template <bool Masked, bool Streaming>
inline void interleaved_step(const bfloat16* a, bfloat16* y, __m512 cv, __m512 sv, __mmask16 m) {
  const __m512i v = Masked ? _mm512_maskz_loadu_epi32(m, a) : _mm512_loadu_si512(a);
  const __m512 x1 = widen_even(v), x2 = widen_odd(v);
  // narrow() gives y1 of the 16 pairs, then their y2; the permutation interleaves them again.
  const __mmask32 valid = static_cast<__mmask32>(m) | (static_cast<__mmask32>(m) << 16);
  const __m512i r = narrow(first_of(x1, x2, cv, sv), second_of(x1, x2, cv, sv), valid);
  const __m512i out = _mm512_permutexvar_epi16(interleave_halves(), r);
  if constexpr (Masked)
    _mm512_mask_storeu_epi32(y, m, out);
  else
    store64<Streaming>(y, out);
}

/// Pairs [i, i + n) of one head row, n <= 32, with their cos/sin.
template <PairStyle Style, bool Streaming>
inline void row_chunk(const bfloat16* in, bfloat16* out, int half, int i, int n, const CosSin32& cs) {
  if constexpr (Style == PairStyle::half_split) {
    if (n == 32)
      split_step<false, Streaming>(in + i, in + half + i, out + i, out + half + i, cs, lanes(32));
    else
      split_step<true, false>(in + i, in + half + i, out + i, out + half + i, cs, lanes(n));
  } else {
    if (n == 32) {
      interleaved_step<false, Streaming>(in + 2 * i, out + 2 * i, cs.c_lo, cs.s_lo, 0xffff);
      interleaved_step<false, Streaming>(in + 2 * i + 32, out + 2 * i + 32, cs.c_hi, cs.s_hi, 0xffff);
    } else {
      const __mmask32 m = lanes(n);
      interleaved_step<true, false>(in + 2 * i, out + 2 * i, cs.c_lo, cs.s_lo, static_cast<__mmask16>(m));
      if (n > 16)
        interleaved_step<true, false>(in + 2 * i + 32, out + 2 * i + 32, cs.c_hi, cs.s_hi,
                                      static_cast<__mmask16>(m >> 16));
    }
  }
}

/// Pairs [0, count) of `heads` head rows (row h at in + h step_in and out + h step_out; in == out
/// in place); c and s point at pair 0's cos and sin, `half` is the rows' pair count. cos/sin of 64
/// pairs at a time stay in registers while every head row takes them, in memory order. Streaming:
/// the full steps' stores are streaming (streamable(out, 2 step_out, 2 half) must hold).
template <PairStyle Style, bool Streaming>
inline void rows(const bfloat16* in, bfloat16* out, std::int64_t step_in, std::int64_t step_out, int heads,
                 int half, const float* c, const float* s, int count) {
  for (int b = 0; b < count; b += 64) {
    const int n0 = count - b < 32 ? count - b : 32, n1 = count - b - 32 < 32 ? count - b - 32 : 32;
    const CosSin32 cs0 = load_cos_sin<Style>(c + b, s + b, lanes(n0));
    const CosSin32 cs1 = n1 > 0 ? load_cos_sin<Style>(c + b + 32, s + b + 32, lanes(n1)) : cs0;
    const bfloat16* row_in = in;
    bfloat16* row_out = out;
    for (int h = 0; h < heads; ++h, row_in += step_in, row_out += step_out) {
      row_chunk<Style, Streaming>(row_in, row_out, half, b, n0, cs0);
      if (n1 > 0) row_chunk<Style, Streaming>(row_in, row_out, half, b + 32, n1, cs1);
    }
  }
}

}  // namespace HostSimd
#endif

}  // namespace KokkosRope::Impl

#endif
