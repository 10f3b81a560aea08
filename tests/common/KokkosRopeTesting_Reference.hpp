// SPDX-License-Identifier: Apache-2.0
/// \file KokkosRopeTesting_Reference.hpp
/// Independent references for the tests, the tool's cross-check and the benchmark, written from
/// the published formulas in long double, deliberately plain: no code shared with the library
/// (its enums name the cases, nothing else). The frequencies of every scaling kind, exact cos/sin
/// of an angle, and the one host rotation of a head row that every check of a rotation calls.
#ifndef KOKKOSROPE_TESTS_COMMON_KOKKOSROPETESTING_REFERENCE_HPP
#define KOKKOSROPE_TESTS_COMMON_KOKKOSROPETESTING_REFERENCE_HPP

#include <KokkosRope.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

namespace KokkosRopeTesting {


using ld = long double;
inline constexpr ld pi_l = 3.141592653589793238462643383279502884L;

// inv_freq_i = base^(-2i/dim), i = 0..dim/2-1.
inline std::vector<ld> ref_plain(ld base, int dim) {
  std::vector<ld> f(dim / 2);
  for (int i = 0; i < dim / 2; ++i) f[i] = 1.0L / std::pow(base, ld(2 * i) / ld(dim));
  return f;
}

inline std::vector<ld> ref_linear(ld base, int dim, ld factor) {
  auto f = ref_plain(base, dim);
  for (auto& x : f) x /= factor;
  return f;
}

inline std::vector<ld> ref_ntk(ld base, int dim, ld factor) {
  return ref_plain(base * std::pow(factor, ld(dim) / ld(dim - 2)), dim);
}

inline std::vector<ld> ref_dynamic(ld base, int dim, ld factor, std::int64_t max_pos, std::int64_t seq_len) {
  const ld L = ld(std::max(seq_len, max_pos));
  return ref_plain(base * std::pow(factor * L / ld(max_pos) - (factor - 1), ld(dim) / ld(dim - 2)), dim);
}

// Llama 3.1 (Meta's reference implementation in llama/model.py, apply_scaling).
inline std::vector<ld> ref_llama3(ld base, int dim, ld factor, ld low, ld high, ld original) {
  auto f = ref_plain(base, dim);
  const ld low_wl = original / low, high_wl = original / high;
  for (auto& x : f) {
    const ld wl = 2 * pi_l / x;
    if (wl < high_wl) continue;
    if (wl > low_wl) { x /= factor; continue; }
    const ld smooth = (original / wl - low) / (high - low);
    x = (1 - smooth) * x / factor + smooth * x;
  }
  return f;
}

// YaRN (Peng et al. 2023, as in the reference framework: correction dims floored/ceiled when
// truncating, clamped to [0, dim - 1], linear ramp over pair indices).
struct YarnRef {
  std::vector<ld> inv_freq;
  ld low, high, attention;
};
inline YarnRef ref_yarn(ld base, int dim, ld factor, ld original, ld beta_fast, ld beta_slow, bool truncate) {
  auto corr = [&](ld rot) { return ld(dim) * std::log(original / (rot * 2 * pi_l)) / (2 * std::log(base)); };
  ld low = corr(beta_fast), high = corr(beta_slow);
  if (truncate) { low = std::floor(low); high = std::ceil(high); }
  low = std::max(low, ld(0));
  high = std::min(high, ld(dim - 1));
  YarnRef out{{}, low, high, factor <= 1 ? 1.0L : 0.1L * std::log(factor) + 1.0L};
  if (high == low) high += 0.001L;
  const auto ext = ref_plain(base, dim);
  for (int i = 0; i < dim / 2; ++i) {
    const ld ramp = std::clamp((ld(i) - low) / (high - low), ld(0), ld(1));
    out.inv_freq.push_back(ext[i] / factor * ramp + ext[i] * (1 - ramp));
  }
  return out;
}

inline std::vector<ld> ref_longrope(ld base, int dim, const std::vector<double>& ext) {
  auto f = ref_plain(base, dim);
  for (int i = 0; i < dim / 2; ++i) f[i] /= ld(ext[i]);
  return f;
}

// Exact cos/sin of pos * inv_freq (long double angle, reduced in long double).
inline void ref_cos_sin(std::int64_t pos, ld inv_freq, ld& c, ld& s) {
  ld a = ld(pos) * inv_freq;
  a = std::fmod(a, 2 * pi_l);
  c = std::cos(a);
  s = std::sin(a);
}

/// Element indices (in a head row) of rotated pair i: (i, i + rotary_dim/2) half-split
/// (GPT-NeoX, HF `rotate_half`), (2i, 2i + 1) interleaved (GPT-J).
inline std::pair<int, int> pair_elements(int i, int rotary_dim, KokkosRope::PairStyle pair) {
  if (pair == KokkosRope::PairStyle::interleaved) return {2 * i, 2 * i + 1};
  return {i, i + rotary_dim / 2};
}

/// cos and sin of every pair's angle at `pos` (exact, ref_cos_sin), times `attention`: the
/// inputs of ref_rotate_row. `inv_freq` holds one frequency per pair (double or long double).
template <class Freq>
void ref_cos_sin_row(std::int64_t pos, const std::vector<Freq>& inv_freq, ld attention, std::vector<ld>& cos,
                     std::vector<ld>& sin) {
  cos.resize(inv_freq.size());
  sin.resize(inv_freq.size());
  for (std::size_t i = 0; i < inv_freq.size(); ++i) {
    ref_cos_sin(pos, ld(inv_freq[i]), cos[i], sin[i]);
    cos[i] *= attention;
    sin[i] *= attention;
  }
}

/// The reference rotation of one head row: y = x with each of the rotary_dim / 2 pairs (x1, x2)
/// turned to (x1 cos - x2 sin, x2 cos + x1 sin) in long double, sin negated for the backward
/// direction (RoPE^-1 = RoPE^T); the tail past rotary_dim copied. `cos[i]`, `sin[i]`: pair i's
/// values, attention factor included. x and y may not overlap.
inline void ref_rotate_row(const double* x, double* y, int head_dim, int rotary_dim, const ld* cos, const ld* sin,
                           KokkosRope::PairStyle pair, KokkosRope::Direction direction) {
  const ld sign = direction == KokkosRope::Direction::backward ? -1.0L : 1.0L;
  for (int d = rotary_dim; d < head_dim; ++d) y[d] = x[d];
  for (int i = 0; i < rotary_dim / 2; ++i) {
    const auto [i1, i2] = pair_elements(i, rotary_dim, pair);
    const ld x1 = x[i1], x2 = x[i2], s = sign * sin[i];
    y[i1] = static_cast<double>(x1 * cos[i] - x2 * s);
    y[i2] = static_cast<double>(x2 * cos[i] + x1 * s);
  }
}

/// Distance in units in the last place between two floats (the maximum for opposite signs
/// unless both are zeros).
inline std::int64_t ulp_distance(float a, float b) {
  std::int32_t ia, ib;
  std::memcpy(&ia, &a, 4);
  std::memcpy(&ib, &b, 4);
  if ((ia < 0) != (ib < 0)) return a == b ? 0 : std::numeric_limits<std::int64_t>::max();
  return std::llabs(std::int64_t(ia) - std::int64_t(ib));
}

}  // namespace KokkosRopeTesting

#endif
