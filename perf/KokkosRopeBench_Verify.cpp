// SPDX-License-Identifier: Apache-2.0
// Verification of kokkos-rope-bench: every variant is checked once, on a small version of its
// case, against the reference rotation of tests/common (long double, from the published formula)
// before it is timed.
#include "KokkosRopeBench_Context.hpp"
#include "KokkosRopeBench_Roofline.hpp"

#include <KokkosRopeTesting_Reference.hpp>

#include <cmath>
#include <iostream>
#include <stdexcept>

namespace KokkosRopeBench {

namespace {

/// Largest |y - ref| / (abs_tol + rel_tol * (|x1| + |x2|)) over every pair of q and k: <= 1 passes.
/// `rel_per_position`: added to rel_tol per unit of position (ggml forms angles in float).
/// `raw` receives the largest |y - ref| / (|x1| + |x2|).
double scaled_error(const Case& c, const Instance& inst, const std::vector<double>& yq,
                    const std::vector<double>& yk, double rel_tol, double abs_tol, double rel_per_position,
                    double& raw) {
  const kr::Frequencies f = kr::compute_frequencies(KokkosRopeTesting::llama31());
  const int D = c.model.head_dim;
  // Only the library's fused variants pair interleaved; the others are half-split by construction.
  const kr::PairStyle pair = c.kind == Kind::fused ? c.pair : kr::PairStyle::half_split;
  double worst = 0;
  raw = 0;
  std::vector<KokkosRopeTesting::ld> cos, sin;
  std::vector<double> ref(D);
  auto check = [&](const std::vector<double>& x, const std::vector<double>& y, int heads) {
    if (x.size() != y.size() || static_cast<std::int64_t>(x.size()) != c.tokens() * heads * D)
      throw std::runtime_error("verification: result has the wrong size");
    for (std::int64_t t = 0; t < c.tokens(); ++t) {
      const std::int64_t p = c.position(t / c.seq, t % c.seq);
      KokkosRopeTesting::ref_cos_sin_row(p, f.inv_freq, f.attention_factor, cos, sin);
      for (int h = 0; h < heads; ++h) {
        const std::size_t base = static_cast<std::size_t>((t * heads + h) * D);
        KokkosRopeTesting::ref_rotate_row(&x[base], ref.data(), D, D, cos.data(), sin.data(), pair, c.dir);
        for (int i = 0; i < D / 2; ++i) {
          const auto [i1, i2] = KokkosRopeTesting::pair_elements(i, D, pair);
          const double mag = std::abs(x[base + i1]) + std::abs(x[base + i2]);
          const double tol = abs_tol + (rel_tol + rel_per_position * static_cast<double>(p)) * mag;
          const double diff = std::max(std::abs(y[base + i1] - ref[i1]), std::abs(y[base + i2] - ref[i2]));
          const double e = diff / tol;
          if (mag > 0 && diff / mag > raw) raw = diff / mag;
          if (!(e <= worst)) worst = std::isnan(e) ? INFINITY : std::max(worst, e);
        }
      }
    }
  };
  check(inst.in_q, yq, c.model.q_heads);
  check(inst.in_k, yk, c.model.kv_heads);
  return worst;
}

/// Tolerances: fused f32 (accurate cos/sin, float products): 4e-6 relative; bf16 output: one
/// rounding (2^-8 relative to |x1|+|x2|); the seed port rounds every intermediate (and its tables)
/// to bf16: 2^-6; ggml computes the angle in float by a running product: 1e-3 (f32), plus f16
/// rounding (2^-8), plus 16 float ulps of the angle per unit of position (16 p 2^-24: 0.125 at
/// p = 128K -- ggml's angles at long positions are that far off; the JSON's verify_err shows it).
std::pair<double, double> tolerance(const Case& c) {
  const bool f32 = c.dtype == DType::f32;
  switch (c.kind) {
    case Kind::ggml:
      return {f32 ? 1e-3 : 1e-3 + 0.00390625, 1e-6};
    case Kind::seed:
      return {f32 ? 4e-6 : 0.015625, 1e-6};
    default:
      return {f32 ? 4e-6 : 0.00390625, 1e-6};
  }
}

}  // namespace

bool verify_once(const Case& c, std::string& message) {
  const std::string key = c.verify_key();
  if (verified.count(key)) return true;
  Case small = c;
  if (c.decode)
    small.batch = std::min<std::int64_t>(c.batch, 8);
  else
    small.seq = std::min<std::int64_t>(c.seq, 64);
  double err = 0, raw = 0;
  if (c.kind == Kind::copy) {
    CopyInstance inst(small.tensor_bytes());
    inst.run();
    err = inst.check() ? 0.0 : INFINITY;
  } else {
    const std::unique_ptr<Instance> inst =
        c.kind == Kind::ggml ? ggml_peer().value().make(small) : make_kokkos_instance(small);
    inst->capture_inputs();
    inst->run();
    const auto [rel, abs] = tolerance(small);
    err = scaled_error(small, *inst, inst->result_q(), inst->result_k(), rel, abs,
                       small.kind == Kind::ggml ? 16.0 / 16777216.0 : 0.0, raw);
  }
  if (!(err <= 1.0)) {
    std::ostringstream s;
    s << "VERIFICATION FAILED: " << key << ": worst error is " << err << " x the tolerance";
    message = s.str();
    std::cerr << message << std::endl;
    any_failure = true;
    return false;
  }
  verified[key] = raw;
  std::cerr << "verified " << key << " (worst error " << err << " x tolerance, " << raw << " relative)"
            << std::endl;
  return true;
}

}  // namespace KokkosRopeBench
