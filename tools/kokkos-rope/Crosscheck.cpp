// SPDX-License-Identifier: Apache-2.0
// `kokkos-rope crosscheck`: a fixed set of seeded random cases through every execution space of
// this build and through an independent long-double reference; `--dump DIR` writes the outputs,
// `--against DIR` compares with the outputs another build dumped.
//
// Error measure: |got - expected| in ulps of the working type at the magnitude of the rotated
// pair (sqrt(x_i^2 + x_j^2) of the expected output; |x| for the unrotated tail). A rotation's
// rounding error is bounded relative to the pair's norm, not to each (possibly tiny) component,
// so this measure has a fixed bound where per-element ulps would not. The working type is the
// tensor type, except float for float64 tensors with hf_compatible cos/sin (computed in float).
#include "Common.hpp"

#include <KokkosRope/Version.hpp>
#include <KokkosRopeTesting_Models.hpp>
#include <KokkosRopeTesting_Reference.hpp>
#include <Kokkos_Core.hpp>

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

namespace KokkosRopeTool {

using namespace KokkosRope;
namespace fs = std::filesystem;

namespace {

constexpr const char* dump_format = "kokkos-rope-crosscheck/1";

struct Case {
  std::string name;
  Params params;
  Precision precision = Precision::accurate;
  std::optional<std::int64_t> seq_len;
  Layout layout = Layout::bshd;
  DType dtype = DType::f32;
  bool backward = false;
  std::int64_t batch = 2, seq = 9, hq = 4, hk = 2;  // hk = 0: q alone
  enum { implicit, offset, random } pos = random;
  std::int64_t pos_arg = 131072;  // offset, or exclusive bound of random positions
  std::vector<std::int64_t> cu;   // thd: sequence boundaries (tokens = cu.back())

  // Setters that read as the case's name does (make_cases is a table of them).
  Case(std::string n, Params p) : name(std::move(n)), params(std::move(p)) {}
  Case& in(Layout l) { layout = l; return *this; }
  Case& packed(std::vector<std::int64_t> cu_seqlens) { layout = Layout::thd; cu = std::move(cu_seqlens); return *this; }
  Case& as(DType d) { dtype = d; return *this; }
  Case& hf() { precision = Precision::hf_compatible; return *this; }
  Case& inverse() { backward = true; return *this; }
  Case& heads(std::int64_t q, std::int64_t k) { hq = q, hk = k; return *this; }
  Case& at_offset(std::int64_t o) { pos = offset, pos_arg = o; return *this; }
  Case& implicit_positions() { pos = implicit; return *this; }
  Case& positions_below(std::int64_t bound) { pos = random, pos_arg = bound; return *this; }
  Case& for_seq_len(std::int64_t n) { seq_len = n; return *this; }
};

using KokkosRopeTesting::gpt_oss;
using KokkosRopeTesting::llama31;

Params plain(int head_dim, int rotary_dim, double theta, std::int64_t max_pos, Scaling scaling,
             PairStyle pair = PairStyle::half_split) {
  Params p;
  p.head_dim = head_dim;
  p.rotary_dim = rotary_dim;
  p.theta = theta;
  p.max_position_embeddings = max_pos;
  p.scaling = std::move(scaling);
  p.pair_style = pair;
  return p;
}

YarnScaling yarn(double factor, std::int64_t original) {
  YarnScaling y;
  y.factor = factor;
  y.original_max_position_embeddings = original;
  return y;
}

// Phi-3-like: 48 short and long factors over an original 4096 positions.
LongRopeScaling longrope() {
  LongRopeScaling lr;
  for (int i = 0; i < 48; ++i) {
    lr.short_factor.push_back(1.0 + 0.01 * i);
    lr.long_factor.push_back(1.0 + 0.5 * i);
  }
  lr.original_max_position_embeddings = 4096;
  return lr;
}

std::vector<Case> make_cases() {
  const auto interleaved = PairStyle::interleaved;
  return {
      Case("llama3-bshd-f32-accurate", llama31()),
      Case("llama3-bhsd-f32-hf-offset", llama31()).in(Layout::bhsd).hf().at_offset(131000),
      Case("llama3-thd-bf16-backward-mqa", llama31()).packed({0, 3, 11, 12}).as(DType::bf16).inverse().heads(4, 1)
          .implicit_positions(),
      Case("gptoss-yarn-bshd-f16-backward", gpt_oss()).as(DType::f16).inverse(),
      Case("qwen-yarn-thd-f32-hf-interleaved", plain(128, 128, 1e6, 32768, yarn(4.0, 32768), interleaved))
          .packed({0, 5, 5, 14}).hf(),
      Case("neox-partial-bshd-f64", plain(80, 20, 10000.0, 2048, NoScaling{})).as(DType::f64).positions_below(2048),
      Case("linear-bhsd-f64-hf-backward", plain(64, 64, 10000.0, 4096, LinearScaling{4.0})).in(Layout::bhsd)
          .as(DType::f64).hf().inverse().positions_below(16384),
      Case("ntk-bshd-f16-hf-offset", plain(128, 128, 10000.0, 4096, NtkScaling{8.0})).as(DType::f16).hf()
          .at_offset(30000),
      Case("dynamic-bshd-f32-seq8192", plain(64, 64, 10000.0, 2048, DynamicNtkScaling{4.0})).for_seq_len(8192)
          .positions_below(8192),
      Case("longrope-thd-f32-long", plain(96, 96, 10000.0, 131072, longrope())).for_seq_len(131072)
          .packed({0, 7, 16}).heads(3, 3),
      Case("gptj-interleaved-partial-bshd-f64", plain(256, 64, 10000.0, 2048, NoScaling{}, interleaved))
          .as(DType::f64).positions_below(2048).heads(2, 2),
      Case("llama3-bshd-bf16-hf-backward-gqa", llama31()).as(DType::bf16).hf().inverse().heads(8, 1),
      Case("gptoss-yarn-bhsd-f32-q-only", gpt_oss()).in(Layout::bhsd).heads(3, 0),
  };
}

std::vector<std::int64_t> shape_of(const Case& c, std::int64_t heads) {
  const std::int64_t d = c.params.head_dim;
  switch (c.layout) {
    case Layout::bshd: return {c.batch, c.seq, heads, d};
    case Layout::bhsd: return {c.batch, heads, c.seq, d};
    case Layout::thd: return {c.cu.back(), heads, d};
  }
  return {};
}

std::int64_t num_tokens(const Case& c) { return c.layout == Layout::thd ? c.cu.back() : c.batch * c.seq; }

// Flat index of (token, head, dim) in a C-ordered tensor of the case's layout.
std::int64_t flat(const Case& c, std::int64_t heads, std::int64_t t, std::int64_t h, std::int64_t d) {
  const std::int64_t D = c.params.head_dim;
  switch (c.layout) {
    case Layout::bshd: return (t * heads + h) * D + d;
    case Layout::bhsd: {
      const std::int64_t b = t / c.seq, s = t % c.seq;
      return ((b * heads + h) * c.seq + s) * D + d;
    }
    case Layout::thd: return (t * heads + h) * D + d;
  }
  return 0;
}

// Independent reference: the cos/sin of the angle each precision mode defines, in long double,
// and tests/common's reference rotation of each head row.
void reference(const Case& c, const std::vector<std::int64_t>& positions, std::int64_t heads,
               const std::vector<double>& in, std::vector<double>& out) {
  out = in;
  if (heads == 0) return;
  const int half = c.params.rotary_dim / 2;
  const Frequencies f = compute_frequencies(c.params, c.seq_len);
  const FrequenciesF32 f32 = compute_hf_frequencies(c.params, c.seq_len);
  const Direction direction = c.backward ? Direction::backward : Direction::forward;
  std::vector<long double> cs(half), sn(half);
  for (std::int64_t t = 0; t < num_tokens(c); ++t) {
    const std::int64_t p = positions[t];
    for (int i = 0; i < half; ++i) {
      if (c.precision == Precision::accurate) {
        // The exact angle for the double frequency, as the mode promises: formed and reduced in
        // __float128 (113 bits hold p * inv_freq exactly), then long-double trigonometry.
        const __float128 angle = static_cast<__float128>(p) * static_cast<__float128>(f.inv_freq[i]);
        const __float128 two_pi = static_cast<__float128>(6.283185307179586232) +
                                  static_cast<__float128>(2.4492935982947064e-16);
        const __float128 turns = static_cast<__float128>(
            std::llround(static_cast<long double>(angle / two_pi)));
        const long double reduced = static_cast<long double>(angle - turns * two_pi);
        cs[i] = std::cos(reduced) * f.attention_factor;
        sn[i] = std::sin(reduced) * f.attention_factor;
      } else {
        const float angle = static_cast<float>(p) * f32.inv_freq[i];  // the reference framework's float angle
        cs[i] = std::cos(static_cast<long double>(angle)) * f32.attention_factor;
        sn[i] = std::sin(static_cast<long double>(angle)) * f32.attention_factor;
      }
    }
    for (std::int64_t h = 0; h < heads; ++h) {
      const std::int64_t row = flat(c, heads, t, h, 0);  // a head row is contiguous in every layout
      KokkosRopeTesting::ref_rotate_row(&in[row], &out[row], c.params.head_dim, c.params.rotary_dim, cs.data(),
                                        sn.data(), c.params.pair_style, direction);
    }
  }
}

int working_bits(const Case& c) {
  if (c.dtype == DType::f64 && c.precision == Precision::hf_compatible) return 24;
  return mantissa_bits(c.dtype);
}

double tolerance_ulps(const Case& c) {
  switch (c.dtype) {
    case DType::f16:
    case DType::bf16: return 1.0;  // one rounding of a float result to 16 bits: <= 0.5 ulp
    default: return 4.0;
  }
}

double ulp_at(double magnitude, int bits, DType dtype) {
  const double min_normal = dtype == DType::f16 ? std::ldexp(1.0, -14)
                            : bits == 53          ? std::ldexp(1.0, -1022)
                                                  : std::ldexp(1.0, -126);
  int e;
  std::frexp(std::max(magnitude, min_normal), &e);
  return std::ldexp(1.0, e - 1 - (bits - 1));
}

// The magnitude each element's error is measured against (see the file comment).
std::vector<double> scales(const Case& c, std::int64_t heads, const std::vector<double>& expected) {
  std::vector<double> s(expected.size());
  const std::int64_t D = c.params.head_dim;
  const int half = c.params.rotary_dim / 2;
  const bool interleaved = c.params.pair_style == PairStyle::interleaved;
  for (std::size_t i = 0; i < expected.size(); ++i) {
    const std::int64_t d = static_cast<std::int64_t>(i) % D;
    if (d >= c.params.rotary_dim || heads == 0) {
      s[i] = std::fabs(expected[i]);
      continue;
    }
    const std::int64_t partner = interleaved ? (d ^ 1) : (d < half ? d + half : d - half);
    s[i] = std::hypot(expected[i], expected[i - d + partner]);
  }
  return s;
}

struct Diff {
  double max_abs = 0.0, max_ulp = 0.0;
};

Diff compare(const Case& c, const std::vector<double>& got, const std::vector<double>& want,
             const std::vector<double>& scale) {
  Diff d;
  const int bits = working_bits(c);
  for (std::size_t i = 0; i < got.size(); ++i) {
    const double err = std::fabs(got[i] - want[i]);
    if (std::isnan(err)) return {HUGE_VAL, HUGE_VAL};
    d.max_abs = std::max(d.max_abs, err);
    d.max_ulp = std::max(d.max_ulp, err / ulp_at(scale[i], bits, c.dtype));
  }
  return d;
}

struct Inputs {
  std::vector<double> q, k;
  std::vector<std::int64_t> positions;
};

Inputs generate(const Case& c, std::uint64_t seed, std::size_t index) {
  // Portable stream: mt19937_64 is fully specified; the conversions below are our own.
  std::mt19937_64 rng(seed ^ (0x9E3779B97F4A7C15ull * (index + 1)));
  auto uniform = [&]() { return static_cast<double>(rng() >> 11) * 0x1.0p-53; };  // [0, 1)
  Inputs in;
  auto fill = [&](std::vector<double>& v, std::int64_t heads) {
    std::int64_t n = 1;
    for (auto e : shape_of(c, heads)) n *= e;
    v.resize(static_cast<std::size_t>(n));
    for (auto& x : v) x = round_to(c.dtype, 2.0 * uniform() - 1.0);
  };
  fill(in.q, c.hq);
  if (c.hk > 0) fill(in.k, c.hk);
  const std::int64_t tokens = num_tokens(c);
  in.positions.resize(static_cast<std::size_t>(tokens));
  for (std::int64_t t = 0; t < tokens; ++t) {
    std::int64_t within = t;
    if (c.layout == Layout::thd) {
      std::size_t b = 0;
      while (c.cu[b + 1] <= t) ++b;
      within = t - c.cu[b];
    } else {
      within = t % c.seq;
    }
    if (c.pos == Case::implicit) in.positions[t] = within;
    else if (c.pos == Case::offset) in.positions[t] = c.pos_arg + within;
    else in.positions[t] = static_cast<std::int64_t>(uniform() * static_cast<double>(c.pos_arg));
  }
  return in;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string kokkos_version() {
  return std::to_string(KOKKOS_VERSION / 10000) + "." + std::to_string(KOKKOS_VERSION / 100 % 100) + "." +
         std::to_string(KOKKOS_VERSION % 100);
}

nlohmann::json shape_json(const std::vector<std::int64_t>& s) { return nlohmann::json(s); }

}  // namespace

int run_crosscheck(const CrosscheckOptions& o) {
  if (o.perturb_ulps != 0.0 && o.dump.empty()) throw Error("--perturb needs --dump (it perturbs the dumped outputs)");
  if (!(o.perturb_ulps >= 0.0)) throw Error("--perturb: must be >= 0 ulps");
  const std::vector<Case> cases = make_cases();
  ensure_kokkos();
  const auto spaces = enabled_spaces();

  // The other build's dump, validated before anything runs.
  nlohmann::json against;
  if (!o.against.empty()) {
    const fs::path manifest = fs::path(o.against) / "manifest.json";
    std::ifstream in(manifest);
    if (!in) throw Error("--against: '" + o.against + "' has no manifest.json (not a `crosscheck --dump` directory)");
    try {
      against = nlohmann::json::parse(in);
      if (against.at("format").get<std::string>() != dump_format)
        throw Error("--against: '" + manifest.string() + "' has format '" + against.at("format").get<std::string>() +
                    "', expected '" + dump_format + "'");
      if (against.at("seed").get<std::uint64_t>() != o.seed)
        throw Error("--against: the dump used seed " + std::to_string(against.at("seed").get<std::uint64_t>()) +
                    ", this run uses " + std::to_string(o.seed) + " (pass the same --seed)");
      (void)against.at("cases").size();
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error("--against: '" + manifest.string() + "' is not a valid crosscheck manifest (" + e.what() + ")");
    }
  }
  if (!o.dump.empty()) {
    std::error_code ec;
    fs::create_directories(o.dump, ec);
    if (ec || !fs::is_directory(o.dump)) throw Error("--dump: cannot create directory '" + o.dump + "': " + ec.message());
  }

  std::string space_list;
  for (const auto& s : spaces) space_list += (space_list.empty() ? "" : ", ") + s;
  std::cout << "kokkos-rope crosscheck: " << cases.size() << " cases, seed " << o.seed << ", Kokkos " << kokkos_version()
            << ", spaces: " << space_list << "\n";
  if (!o.against.empty())
    std::cout << "against: " << o.against << " (Kokkos " << against.value("kokkos_version", std::string("?"))
              << ", space " << against.value("space", std::string("?")) << ")\n";
  std::cout << "error: max |difference| and max ulps of the working type at the rotated pair's magnitude\n\n";
  std::printf("%-36s %-9s %-8s %-12s %11s %9s %5s  %s\n", "case", "dtype", "space", "vs", "max_abs", "max_ulp", "tol",
              "status");

  int comparisons = 0, failures = 0;
  std::string first_failure;
  nlohmann::json manifest_cases = nlohmann::json::array();

  for (std::size_t ci = 0; ci < cases.size(); ++ci) {
    const Case& c = cases[ci];
    const Inputs in = generate(c, o.seed, ci);
    RotationJob job;
    job.params = c.params;
    job.precision = c.precision;
    job.seq_len = c.seq_len;
    job.layout = c.layout;
    job.backward = c.backward;
    job.dtype = c.dtype;
    job.q_shape = shape_of(c, c.hq);
    if (c.hk > 0) job.k_shape = shape_of(c, c.hk);
    job.positions = in.positions;
    job.cu_seqlens = c.layout == Layout::thd ? c.cu : std::vector<std::int64_t>{};

    std::vector<double> ref_q, ref_k;
    reference(c, in.positions, c.hq, in.q, ref_q);
    reference(c, in.positions, c.hk, in.k, ref_k);
    const auto scale_q = scales(c, c.hq, ref_q), scale_k = scales(c, c.hk, ref_k);
    const double tol = tolerance_ulps(c);

    auto report = [&](const std::string& space, const std::string& vs, const Diff& dq, const Diff& dk) {
      const Diff d{std::max(dq.max_abs, dk.max_abs), std::max(dq.max_ulp, dk.max_ulp)};
      const bool ok = d.max_ulp <= tol;
      ++comparisons;
      if (!ok) {
        ++failures;
        if (first_failure.empty())
          first_failure = c.name + " (" + space + " vs " + vs + "): max ulp " + fmt("%.3g", d.max_ulp) + " > " +
                          fmt("%g", tol);
      }
      std::printf("%-36s %-9s %-8s %-12s %11.3e %9.3f %5g  %s\n", c.name.c_str(), dtype_name(c.dtype).c_str(),
                  space.c_str(), vs.c_str(), d.max_abs, d.max_ulp, tol, ok ? "ok" : "BEYOND TOLERANCE");
    };

    std::vector<std::vector<double>> outs_q(spaces.size()), outs_k(spaces.size());
    for (std::size_t s = 0; s < spaces.size(); ++s) {
      try {
        run_rotation(static_cast<int>(s), job, in.q, in.k, outs_q[s], outs_k[s]);
      } catch (const std::exception& e) {
        throw Error("case " + c.name + " on " + spaces[s] + ": " + e.what());
      }
      for (auto& v : outs_q[s]) v = round_to(c.dtype, v);
      for (auto& v : outs_k[s]) v = round_to(c.dtype, v);
      report(spaces[s], "reference", compare(c, outs_q[s], ref_q, scale_q), compare(c, outs_k[s], ref_k, scale_k));
      if (s > 0)
        report(spaces[s], spaces[0], compare(c, outs_q[s], outs_q[0], scale_q),
               compare(c, outs_k[s], outs_k[0], scale_k));
    }

    if (!o.against.empty()) {
      const nlohmann::json* entry = nullptr;
      for (const auto& e : against["cases"])
        if (e.value("name", std::string()) == c.name) entry = &e;
      if (!entry) throw Error("--against: the dump in '" + o.against + "' has no case '" + c.name + "'");
      auto load = [&](const char* which, const std::vector<std::int64_t>& shape) {
        const std::string path = (fs::path(o.against) / (c.name + "." + which + ".npy")).string();
        HostArray a = read_npy(path, "--against", c.dtype == DType::bf16);
        if (a.dtype != c.dtype || a.shape != shape) {
          HostArray w;
          w.shape = shape;
          throw Error("--against: '" + path + "' is " + dtype_name(a.dtype) + " " + a.shape_string() + ", expected " +
                      dtype_name(c.dtype) + " " + w.shape_string());
        }
        return a.values;
      };
      const auto dq = load("q", job.q_shape);
      const auto dk = c.hk > 0 ? load("k", job.k_shape) : std::vector<double>{};
      for (std::size_t s = 0; s < spaces.size(); ++s)
        report(spaces[s], "dump", compare(c, outs_q[s], dq, scale_q), compare(c, outs_k[s], dk, scale_k));
    }

    if (!o.dump.empty()) {
      auto write = [&](const char* which, std::vector<double> values, const std::vector<std::int64_t>& shape,
                       const std::vector<double>& scale) {
        if (o.perturb_ulps > 0.0 && !values.empty())
          values[0] = round_to(c.dtype, values[0] + o.perturb_ulps * ulp_at(scale[0], working_bits(c), c.dtype));
        HostArray a;
        a.dtype = c.dtype;
        a.shape = shape;
        a.values = std::move(values);
        PendingFile file((fs::path(o.dump) / (c.name + "." + which + ".npy")).string());
        write_npy(file, a);
        file.commit();
      };
      write("q", outs_q[0], job.q_shape, scale_q);
      if (c.hk > 0) write("k", outs_k[0], job.k_shape, scale_k);
      manifest_cases.push_back({{"name", c.name},
                                {"dtype", dtype_name(c.dtype)},
                                {"q_shape", shape_json(job.q_shape)},
                                {"k_shape", shape_json(job.k_shape)}});
    }
  }

  if (!o.dump.empty()) {
    nlohmann::json m;
    m["format"] = dump_format;
    m["kokkosrope_version"] = KOKKOSROPE_VERSION_STRING;
    m["kokkos_version"] = kokkos_version();
    m["space"] = spaces[0];
    m["seed"] = o.seed;
    m["perturb_ulps"] = o.perturb_ulps;
    m["cases"] = manifest_cases;
    PendingFile file((fs::path(o.dump) / "manifest.json").string());
    {
      std::ofstream out(file.temp_path());
      out << m.dump(2) << "\n";
      if (!out) throw Error("--dump: cannot write '" + file.temp_path() + "'");
    }
    file.commit();
    std::cout << "\ndumped " << cases.size() << " cases (" << spaces[0] << ") to " << o.dump
              << (o.perturb_ulps > 0.0 ? " [perturbed by " + fmt("%g", o.perturb_ulps) + " ulps]" : std::string())
              << "\n";
  }

  if (failures > 0) {
    std::cout << "\ncrosscheck: FAILED (" << failures << " of " << comparisons << " comparisons beyond tolerance)\n";
    std::cout.flush();
    std::cerr << "kokkos-rope: crosscheck failed: " << failures << " of " << comparisons
              << " comparisons beyond tolerance, first: " << first_failure << "\n";
    return 3;
  }
  std::cout << "\ncrosscheck: PASSED (" << comparisons << " comparisons within tolerance)\n";
  return 0;
}

}  // namespace KokkosRopeTool
