// SPDX-License-Identifier: Apache-2.0
// Long-context analysis of Llama 3.1 8B's rotary embedding.
//
// One query at position m and keys at every position 0..m, rotated by KokkosRope, logits
// q_m . k_n for all n with one KokkosBlas::gemv, for five variants of the same model: plain RoPE
// (no scaling), linear interpolation, static NTK, YaRN (all factor 8 over the 8192-token
// pretraining context) and Llama 3's own scaling (the checkpoint's config). Two choices of q/k:
//  - constant: q = k = (1, ..., 1), as in the RoPE paper's long-term decay plot; the logit is then
//    a pure function of the relative distance r = m - n: (2 / d) * sum_i cos(r * theta_i) (times
//    the attention factor squared), normalised by d here so that r = 0 gives 1;
//  - random: q, k drawn once from N(0, 1) (std::mt19937_64, seed 2024, fixed), the same k at every
//    position, so again a function of r only, but with the phases a real head would have.
// Outputs (in --out): long_context_envelope.csv (max/min logit in logarithmic distance bins, the
// plot's data) and long_context_logits.csv (the logits at ~2000 sampled distances);
// plot_long_context.py turns the first into a PNG.
//
// It also checks with KokkosBlas::dot that RoPE logits depend on relative position only:
// logit(m, n) == logit(m + t, n + t), for the accurate precision mode within 1e-5 |q||k|
// (fails otherwise), and reports the same error for the hf_compatible mode, whose float32 angle
// p * inv_freq loses that property at large positions.
#include <KokkosRope/HfConfig.hpp>
#include <KokkosRope/Rotate.hpp>

#include <KokkosBlas1_dot.hpp>
#include <KokkosBlas2_gemv.hpp>
#include <Kokkos_Core.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

namespace kr = KokkosRope;
using Space = Kokkos::DefaultExecutionSpace;
using Mem = Space::memory_space;
using Matrix = Kokkos::View<float**, Kokkos::LayoutRight, Mem>;   // [positions][head_dim]
using Tensor = Kokkos::View<float****, Kokkos::LayoutRight, Mem>;  // [1][positions][1][head_dim]
using Vector = Kokkos::View<float*, Mem>;

namespace {

struct Variant {
  std::string name;
  kr::Params params;
};

std::vector<Variant> variants(const kr::Params& llama3) {
  const std::int64_t original = 8192;
  std::vector<Variant> v;
  kr::Params p = llama3;
  p.scaling = kr::NoScaling{};
  v.push_back({"none", p});
  p.scaling = kr::LinearScaling{8.0};
  v.push_back({"linear", p});
  p.scaling = kr::NtkScaling{8.0};
  v.push_back({"ntk", p});
  kr::YarnScaling yarn;
  yarn.factor = 8.0;
  yarn.original_max_position_embeddings = original;
  p.scaling = yarn;
  v.push_back({"yarn", p});
  v.push_back({"llama3", llama3});
  return v;
}

// Views of one vector per position: the [positions][d] matrix gemv reads, seen by the rotation
// as a bshd tensor [1][positions][1][d] (same memory).
Tensor as_bshd(const Matrix& m) { return Tensor(m.data(), 1, m.extent(0), 1, m.extent(1)); }

Matrix broadcast(const std::vector<float>& v, std::int64_t rows, const std::string& label) {
  Matrix m(Kokkos::view_alloc(Kokkos::WithoutInitializing, label), rows, v.size());
  auto h = Kokkos::create_mirror_view(Kokkos::WithoutInitializing, m);
  for (std::int64_t r = 0; r < rows; ++r)
    for (std::size_t j = 0; j < v.size(); ++j) h(r, j) = v[j];
  Kokkos::deep_copy(Space(), m, h);
  Space().fence("long_context::broadcast");  // h dies at return
  return m;
}

// Rotates a single vector to `position`.
Matrix rotated(const Space& space, const std::vector<float>& v, std::int64_t position, const kr::Params& params,
               kr::Precision precision) {
  Matrix m = broadcast(v, 1, "long_context::vector");
  Kokkos::View<std::int64_t*, Mem> offset("long_context::offset", 1);
  Kokkos::deep_copy(space, offset, position);
  kr::rotate(space, kr::bshd, as_bshd(m), kr::OnTheFly<Mem>(space, params, precision), kr::sequence_offsets(offset));
  return m;
}

Vector row(const Matrix& m) { return Kokkos::subview(m, 0, Kokkos::ALL); }

}  // namespace

int main(int argc, char* argv[]) {
  Kokkos::ScopeGuard guard(argc, argv);
  std::string config = KOKKOSROPE_LLAMA31_CONFIG, out_dir = ".";
  std::int64_t m = 131072;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--config" && i + 1 < argc) config = argv[++i];
    else if (a == "--out" && i + 1 < argc) out_dir = argv[++i];
    else if (a == "--m" && i + 1 < argc) m = std::stoll(argv[++i]);
    else if (a.rfind("--kokkos", 0) == 0) continue;
    else {
      std::cerr << "usage: long_context [--config llama3.1-8b.json] [--out DIR] [--m 131072]\n";
      return 2;
    }
  }
  const auto t0 = std::chrono::steady_clock::now();
  const kr::Params llama3 = kr::load_hf_config(config).params;
  const int d = llama3.head_dim;
  std::filesystem::create_directories(out_dir);
  Space space;

  std::vector<float> ones(d, 1.0f), q_rand(d), k_rand(d);
  std::mt19937_64 rng(2024);
  std::normal_distribution<double> normal;  // libstdc++'s; the seed fixes the values per toolchain
  for (int j = 0; j < d; ++j) q_rand[j] = static_cast<float>(normal(rng));
  for (int j = 0; j < d; ++j) k_rand[j] = static_cast<float>(normal(rng));

  std::ofstream envelope(out_dir + "/long_context_envelope.csv"), sampled(out_dir + "/long_context_logits.csv");
  envelope << "variant,vectors,distance_lo,distance_hi,max_logit,min_logit\n";
  sampled << "variant,distance,logit_constant,logit_random\n";
  // Sampled distances: every r < 1024, then ~1000 logarithmically spaced ones up to m.
  std::vector<std::int64_t> sample;
  for (std::int64_t r = 0; r <= m; ++r)
    if (r < 1024 || std::floor(std::log(r) * 1000 / std::log(m)) != std::floor(std::log(r - 1) * 1000 / std::log(m)))
      sample.push_back(r);

  const std::int64_t n_keys = m + 1;
  std::printf("Llama 3.1 8B (%s): head_dim %d, query at m = %lld, keys at 0..m; logits / head_dim\n",
              std::filesystem::path(config).filename().c_str(), d, static_cast<long long>(m));
  std::printf("%-8s %-9s %12s %12s %12s %12s\n", "variant", "vectors", "r<=8192 max", "r>8192 max", "r>8192 min",
              "logit(m)");
  for (const Variant& v : variants(llama3)) {
    std::vector<std::vector<float>> logits_by_kind;
    for (int kind = 0; kind < 2; ++kind) {
      const auto& qv = kind == 0 ? ones : q_rand;
      const auto& kv = kind == 0 ? ones : k_rand;
      // Keys: the same vector at every position 0..m, rotated in one call (implicit positions).
      Matrix keys = broadcast(kv, n_keys, "long_context::keys");
      kr::rotate(space, kr::bshd, as_bshd(keys), kr::OnTheFly<Mem>(space, v.params));
      Matrix query = rotated(space, qv, m, v.params, kr::Precision::accurate);
      Vector logits(Kokkos::view_alloc(Kokkos::WithoutInitializing, "long_context::logits"), n_keys);
      KokkosBlas::gemv(space, "N", 1.0f / static_cast<float>(d), keys, row(query), 0.0f, logits);
      auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), logits);
      std::vector<float> by_distance(n_keys);
      for (std::int64_t n = 0; n < n_keys; ++n) by_distance[m - n] = h(n);
      logits_by_kind.push_back(by_distance);

      // Envelope in logarithmic bins [e_j, e_j+1), e_j = round(2^(j/4)) (r = 0 alone).
      std::vector<std::int64_t> edges{0, 1};
      for (int j = 1; edges.back() <= m; ++j) {
        const auto e = std::min<std::int64_t>(std::llround(std::pow(2.0, j / 4.0)), m + 1);
        if (e > edges.back()) edges.push_back(e);
      }
      for (std::size_t b = 0; b + 1 < edges.size(); ++b) {
        float mx = -1e30f, mn = 1e30f;
        for (std::int64_t r = edges[b]; r < edges[b + 1]; ++r) mx = std::max(mx, by_distance[r]), mn = std::min(mn, by_distance[r]);
        envelope << v.name << "," << (kind == 0 ? "constant" : "random") << "," << edges[b] << "," << edges[b + 1] - 1
                 << "," << mx << "," << mn << "\n";
      }
      double in_max = -1e30, out_max = -1e30, out_min = 1e30;
      for (std::int64_t r = 0; r <= m; ++r) {
        if (r <= 8192) in_max = std::max<double>(in_max, by_distance[r]);
        else out_max = std::max<double>(out_max, by_distance[r]), out_min = std::min<double>(out_min, by_distance[r]);
      }
      std::printf("%-8s %-9s %12.4f %12.4f %12.4f %12.4f\n", v.name.c_str(), kind == 0 ? "constant" : "random",
                  in_max, out_max, out_min, by_distance[m]);
    }
    for (auto r : sample)
      sampled << v.name << "," << r << "," << logits_by_kind[0][r] << "," << logits_by_kind[1][r] << "\n";
  }

  // Translation invariance: logit(m, n) == logit(m + t, n + t), with KokkosBlas::dot.
  struct Shift {
    std::int64_t m, n, t;
  };
  const Shift shifts[] = {{100, 37, 1000}, {8191, 0, 100000}, {4096, 4000, 126000}, {131072, 65536, 0}, {17, 16, 131000}};
  double qn = 0, kn = 0;
  for (int j = 0; j < d; ++j) qn += q_rand[j] * q_rand[j], kn += k_rand[j] * k_rand[j];
  const double scale = std::sqrt(qn * kn);
  const double tol = 1e-5;
  double worst[2] = {0, 0};
  for (const Variant& v : variants(llama3)) {
    for (int prec = 0; prec < 2; ++prec) {
      const auto precision = prec == 0 ? kr::Precision::accurate : kr::Precision::hf_compatible;
      for (const Shift& s : shifts) {
        auto logit = [&](std::int64_t pm, std::int64_t pn) {
          const Matrix q = rotated(space, q_rand, pm, v.params, precision);
          const Matrix k = rotated(space, k_rand, pn, v.params, precision);
          return static_cast<double>(KokkosBlas::dot(space, row(q), row(k)));
        };
        const double a = logit(s.m, s.n), b = logit(s.m + s.t, s.n + s.t);
        worst[prec] = std::max(worst[prec], std::fabs(a - b) / scale);
      }
    }
  }
  std::printf("\ntranslation invariance, max |logit(m,n) - logit(m+t,n+t)| / (|q||k|) over 5 variants x %zu shifts:\n",
              std::size(shifts));
  std::printf("  accurate       %.3e (tolerance %.0e)\n  hf_compatible  %.3e (float32 angle p * inv_freq; reported, not checked)\n",
              worst[0], tol, worst[1]);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("\nwrote %s/long_context_envelope.csv and long_context_logits.csv in %.1f s on %s\n", out_dir.c_str(), seconds,
              Space::name());
  if (!(worst[0] <= tol)) {
    std::fprintf(stderr, "long_context: translation invariance violated: %.3e > %.0e\n", worst[0], tol);
    return 1;
  }
  return 0;
}
