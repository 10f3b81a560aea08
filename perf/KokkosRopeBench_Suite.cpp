// SPDX-License-Identifier: Apache-2.0
// The suite of kokkos-rope-bench: the cases of each mode (full, quick, smoke), their names and
// labels, and the timed body every benchmark runs (verification first, then manual time around
// the instance's fence, counters bytes, GB/s, roofline_GB/s and roofline_frac against the
// same-pattern roofline, copy_GB/s and frac_of_copy against the plain copy).
#include "KokkosRopeBench_Context.hpp"
#include "KokkosRopeBench_Roofline.hpp"

#include <chrono>
#include <iostream>

namespace KokkosRopeBench {

// ---- the cases -------------------------------------------------------------------------------

std::string Case::variant() const {
  switch (kind) {
    case Kind::copy:
      return "copy";
    case Kind::seed:
      return std::string("seed_port") + (in_place ? "" : "_outofplace") +
             (dir == kr::Direction::backward ? "_backward" : "");
    case Kind::ggml:
      return std::string("ggml") + (in_place ? "" : "_outofplace");
    case Kind::fused:
      break;
  }
  std::string v = source == Src::table ? "fused_table" : "fused_otf";
  if (pair == kr::PairStyle::interleaved) v += "_interleaved";
  if (!in_place) v += "_outofplace";
  if (dir == kr::Direction::backward) v += "_backward";
  return v;
}
std::string Case::name() const {
  std::ostringstream s;
  s << (decode ? "decode/" : "prefill/") << model.name << '/' << KokkosRopeBench::name(dtype) << '/'
    << variant() << (decode ? "/batch:" : "/seq:") << (decode ? batch : seq);
  return s.str();
}
std::string Case::label() const {
  std::ostringstream s;
  s << "phase=" << (decode ? "decode" : "prefill") << " model=" << model.name
    << " dtype=" << KokkosRopeBench::name(dtype) << " variant=" << variant() << " batch=" << batch
    << " seq=" << seq;
  if (kind == Kind::fused)
    s << " source=" << (source == Src::table ? "table" : "otf")
      << " pair=" << (pair == kr::PairStyle::half_split ? "half_split" : "interleaved");
  if (kind != Kind::copy)
    s << " place=" << (in_place ? "in" : "out") << " dir=" << (dir == kr::Direction::forward ? "fwd" : "bwd");
  if (kind == Kind::ggml) s << " ggml_type=" << (dtype == DType::f32 ? "f32" : "f16");
  if (decode) s << " max_offset=" << max_offset;
  return s.str();
}

std::int64_t Case::memory_bytes() const {
  const std::int64_t t = tensor_bytes(), eb = static_cast<std::int64_t>(bytes_of(dtype));
  const std::int64_t half = model.head_dim / 2;
  std::int64_t m = 0;
  switch (kind) {
    case Kind::copy:
      m = 2 * t;
      break;
    case Kind::fused:
      m = (in_place ? 1 : 2) * t + (source == Src::table ? positions() * half * 2 * 4 : 0);
      break;
    case Kind::seed:
      m = (in_place ? 1 : 2) * t + 2 * q_elems() * eb + positions() * model.head_dim * 2 * eb;
      break;
    case Kind::ggml:
      m = (in_place ? 1 : 2) * t;
      break;
  }
  // The plain copy, measured before the variant's instance exists, holds 2 x t (as does a roofline
  // on buffers of its own); the same-pattern roofline borrows the variant's tensors.
  return std::max(m, 2 * t);
}

namespace {

// ---- the benchmark body ----------------------------------------------------------------------

void run_case(benchmark::State& state, const Case& c) {
  try {
    std::string message;
    if (!verify_once(c, message)) {
      state.SkipWithError(message);
      return;
    }
    const double copy = c.kind == Kind::copy ? 0.0 : copy_gbps(c.tensor_bytes());
    // The same-pattern roofline runs on the variant's own q and k, one run before each of the
    // variant's, so that both meet the same cache state and the same moment of a shared machine's
    // bandwidth. A variant that lends no tensors (ggml beyond the reach of a device space) gets
    // one measured on buffers of its own just before it (one working set at a time).
    const bool lends = lends_tensors(c);
    const double roofline_before = lends ? 0.0 : roofline_gbps(c);
    std::unique_ptr<Instance> inst;
    if (c.kind == Kind::copy)
      inst = std::make_unique<CopyInstance>(c.tensor_bytes(), c.q_elems() * static_cast<std::int64_t>(bytes_of(c.dtype)));
    else if (c.kind == Kind::ggml)
      inst = ggml_peer().value().make(c);
    else
      inst = make_kokkos_instance(c);
    std::unique_ptr<PatternInstance> roof;
    if (lends) roof = std::make_unique<PatternInstance>(c, inst->buffers());

    std::vector<double> times, roof_times;
    time_iterations(
        state, [&] { inst->run(); }, [&] { roof->run(); }, roof != nullptr, times, roof_times);
    if (roof && !roof->check())
      throw std::runtime_error("the " + std::string(name(roof->pattern)) + " roofline kernel changed the data of " +
                               c.name());
    const double roofline = roof ? gbps_of(roof_times, c.moved_bytes()) : roofline_before;
    // GB/s from the median iteration: robust to the other tenants of a shared machine (the mean is
    // Google Benchmark's own real_time column).
    const double t_median = median(times);
    const double gbps = gbps_of(times, c.moved_bytes());
    if (c.kind == Kind::copy) copy_gbps_by_bytes[c.tensor_bytes()] = gbps;
    state.counters["bytes"] = static_cast<double>(c.moved_bytes());
    state.counters["GB/s"] = gbps;
    // The headline: against the roofline of the variant's own access pattern (in place or out of
    // place), same bytes (2 x (q + k); the cos/sin table is not counted), same run.
    state.counters["roofline_GB/s"] = roofline;
    state.counters["roofline_frac"] = gbps / roofline;
    state.counters["roofline_in_place"] = pattern_of(c) == Pattern::in_place ? 1.0 : 0.0;
    // Against the plain copy (one flat buffer into another), kept for continuity with older results.
    state.counters["frac_of_copy"] = c.kind == Kind::copy ? 1.0 : gbps / copy;
    state.counters["copy_GB/s"] = c.kind == Kind::copy ? gbps : copy;
    state.counters["verified"] = 1.0;
    state.counters["verify_err"] = verified[c.verify_key()];
    state.counters["median_s"] = t_median;
    state.counters["threads"] = c.kind == Kind::ggml ? static_cast<double>(HostExec().concurrency())
                                                     : static_cast<double>(Exec().concurrency());
    state.counters["batch"] = static_cast<double>(c.batch);
    state.counters["seq"] = static_cast<double>(c.seq);
    state.SetLabel(c.label());
  } catch (const std::exception& e) {
    fail_case(state, c.name(), e);
  }
}

// ---- the suite --------------------------------------------------------------------------------

/// A case of one shape; the variant is the default one (library kernel, table, half-split, in place,
/// forward). Decode: one token per sequence (seq 1) at offsets below max_offset.
Case shape(const Model& model, DType dtype, bool decode, std::int64_t batch, std::int64_t seq,
           std::int64_t max_offset = 0) {
  return Case{decode, model, dtype, batch, seq, max_offset};  // Case's first fields, in order
}

std::vector<Case> suite(const std::string& mode, bool with_ggml) {
  const bool full = mode == "full", smoke = mode == "smoke";
  std::vector<Case> cases;
  const std::vector<DType> dtypes{DType::bf16, DType::f32};
  auto headline = [&](const Case& c) {  // copy, fused (table, on the fly), seed port, ggml
    const std::pair<Kind, Src> variants[] = {{Kind::copy, Src::table}, {Kind::fused, Src::table},
                                             {Kind::fused, Src::otf},  {Kind::seed, Src::table},
                                             {Kind::ggml, Src::table}};
    for (const auto& [kind, src] : variants) {
      if (kind == Kind::ggml && !with_ggml) continue;
      Case v = c;
      v.kind = kind;
      v.source = src;
      cases.push_back(v);
    }
  };
  // Prefill: batch 1, the three model sizes, sequence sweep.
  std::vector<std::pair<Model, std::vector<std::int64_t>>> prefill;
  if (full) {
    prefill = {{KokkosRopeTesting::llama31_8b, {1024, 4096, 16384, 65536, 131072}},
               {KokkosRopeTesting::llama31_70b, {1024, 4096, 16384, 65536, 131072}},
               {KokkosRopeTesting::llama31_405b, {1024, 4096, 16384, 65536}}};
  } else if (smoke) {
    prefill = {{KokkosRopeTesting::llama31_8b, {256}}};
  } else {
    prefill = {{KokkosRopeTesting::llama31_8b, {1024, 4096, 16384}}};
  }
  for (const auto& [model, seqs] : prefill)
    for (DType d : dtypes)
      for (std::int64_t s : seqs) headline(shape(model, d, false, 1, s));
  // Decode: one token per sequence at offsets up to 128K (the smoke test: up to 4K).
  const std::vector<std::int64_t> batches = full    ? std::vector<std::int64_t>{1, 4, 16, 64, 256}
                                            : smoke ? std::vector<std::int64_t>{4}
                                                    : std::vector<std::int64_t>{1, 64};
  for (DType d : dtypes)
    for (std::int64_t b : batches)
      headline(shape(KokkosRopeTesting::llama31_8b, d, true, b, 1, smoke ? 4096 : 131072));
  // The variant matrix on one shape: source x pair style x place x direction, plus the seed port's
  // out-of-place and backward forms.
  const std::int64_t matrix_seq = full ? 16384 : smoke ? 256 : 4096;
  auto add_unique = [&](const Case& c) {
    if (std::none_of(cases.begin(), cases.end(), [&](const Case& o) { return o.name() == c.name(); }))
      cases.push_back(c);
  };
  for (DType d : full ? dtypes : std::vector<DType>{DType::bf16}) {
    const Case m = shape(KokkosRopeTesting::llama31_8b, d, false, 1, matrix_seq);
    for (Src src : {Src::table, Src::otf})
      for (kr::PairStyle pair : {kr::PairStyle::half_split, kr::PairStyle::interleaved})
        for (bool in_place : {true, false})
          for (kr::Direction dir : {kr::Direction::forward, kr::Direction::backward}) {
            Case c = m;
            c.source = src;
            c.pair = pair;
            c.in_place = in_place;
            c.dir = dir;
            add_unique(c);
          }
    for (bool in_place : {true, false})
      for (kr::Direction dir : {kr::Direction::forward, kr::Direction::backward}) {
        Case c = m;
        c.kind = Kind::seed;
        c.in_place = in_place;
        c.dir = dir;
        add_unique(c);
      }
    if (with_ggml) {
      Case c = m;
      c.kind = Kind::ggml;
      c.in_place = false;
      cases.push_back(c);
    }
  }
  return cases;
}

}  // namespace

void register_suite(const std::string& mode, bool min_time_given) {
  benchmark::AddCustomContext(
      "roofline_frac",
      "GB/s over the GB/s of the same-pattern roofline (in place: q and k read and written; out of "
      "place: q and k read, q_out and k_out written; no arithmetic) on the variant's own tensors, one "
      "roofline run before each of the variant's, same bytes, same space");
  const double limit = settings.mem_limit_gb * 1e9;
  for (const Case& c : suite(mode, ggml_peer().has_value())) {
    if (static_cast<double>(c.memory_bytes()) > limit) {
      std::cerr << "skipped " << c.name() << ": needs " << c.memory_bytes() / 1e9
                << " GB > --mem-gb=" << settings.mem_limit_gb << std::endl;
      continue;
    }
    auto* b = benchmark::RegisterBenchmark(c.name(), [c](benchmark::State& st) { run_case(st, c); });
    b->UseManualTime()->Unit(benchmark::kMillisecond);
    if (!min_time_given) b->MinTime(settings.min_time);
  }
}

}  // namespace KokkosRopeBench
