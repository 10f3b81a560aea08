// SPDX-License-Identifier: Apache-2.0
// Independent references for the tests, written from the published formulas in long double
// (frequencies) and double (rotations), deliberately plain: no code shared with the library.
#ifndef KOKKOSROPE_TEST_REFERENCE_HPP
#define KOKKOSROPE_TEST_REFERENCE_HPP

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace KokkosRopeTest {

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

}  // namespace KokkosRopeTest

#endif
