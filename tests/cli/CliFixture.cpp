// SPDX-License-Identifier: Apache-2.0
// Helper of the kokkos-rope CLI tests:
//   cli_fixture gen DIR            write the input tensors (and bad inputs) the tests use
//   cli_fixture verify DIR CONFIG MROPE_CONFIG
//                                  recompute every `apply` variant of tests/cli/apply_flow.cmake
//                                  by calling the library from C++ (its natural API: implicit
//                                  positions, sequence_offsets, packed(cu_seqlens),
//                                  multimodal_positions with the M-RoPE config's section, ...) and
//                                  require the CLI's outputs to be bitwise identical
//   cli_fixture verify-cache DIR CONFIG
//                                  the paged caches of tests/cli/cache_flow.cmake (`apply
//                                  --k-cache-out/--v-cache-out`, KokkosRope::rotate_and_cache)
//                                  recomputed independently: rotate_copy of k, then a host scatter
//                                  of k and v into zeroed blocks by slot (fp8: the stored value is
//                                  value / scale); the files must be byte-identical
//   cli_fixture close A B ATOL     max |A - B| <= ATOL * max |B| (round trips)
//   cli_fixture table FILE CONFIG START STOP float32|float64 accurate|hf_compatible [LAYER_TYPE]
//                                  the `table` output equals KokkosRope::Table at those positions
//                                  (of that layer type's parameters)
#include "Common.hpp"

#include <KokkosRope/Fp8.hpp>
#include <KokkosRope/HfConfig.hpp>
#include <KokkosRope/ModelRope.hpp>
#include <KokkosRope/Rotate.hpp>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <random>

using namespace KokkosRopeTool;
using namespace KokkosRope;
namespace fs = std::filesystem;

namespace {

using Space = Kokkos::DefaultExecutionSpace;
using Mem = Space::memory_space;
using half = Kokkos::Experimental::half_t;
using bhalf = Kokkos::Experimental::bhalf_t;

std::mt19937_64 rng(12345);
double uniform() { return static_cast<double>(rng() >> 11) * 0x1.0p-53 * 2.0 - 1.0; }

void save(const std::string& path, DType dtype, std::vector<std::int64_t> shape, bool random = true) {
  HostArray a;
  a.dtype = dtype;
  a.shape = std::move(shape);
  const std::int64_t n = a.size();
  if (dtype == DType::i32 || dtype == DType::i64) a.ints.assign(n, 1);
  else
    for (std::int64_t i = 0; i < n; ++i) a.values.push_back(random ? round_to(dtype, uniform()) : 0.0);
  PendingFile f(path);
  write_npy(f, a);
  f.commit();
}

void save_ints(const std::string& path, std::vector<std::int64_t> shape, std::vector<std::int64_t> values) {
  HostArray a;
  a.dtype = DType::i64;
  a.shape = std::move(shape);
  a.ints = std::move(values);
  PendingFile f(path);
  write_npy(f, a);
  f.commit();
}

int gen(const std::string& dir) {
  fs::create_directories(dir);
  auto p = [&](const std::string& name) { return (fs::path(dir) / name).string(); };
  // Inputs of the apply variants (Llama 3.1 8B: head_dim 128).
  save(p("q_bshd_f32.npy"), DType::f32, {2, 5, 4, 128});
  save(p("k_bshd_f32.npy"), DType::f32, {2, 5, 2, 128});
  save(p("q_bhsd_f64.npy"), DType::f64, {2, 4, 5, 128});
  save(p("k_bhsd_f64.npy"), DType::f64, {2, 2, 5, 128});
  save(p("q_thd_f16.npy"), DType::f16, {10, 4, 128});
  save(p("k_thd_f16.npy"), DType::f16, {10, 2, 128});
  save_ints(p("cu.npy"), {3}, {0, 3, 10});
  save(p("q_bshd_bf16.npy"), DType::bf16, {2, 5, 4, 128});
  save(p("k_bshd_bf16.npy"), DType::bf16, {2, 5, 1, 128});
  std::vector<std::int64_t> pos;
  for (int i = 0; i < 10; ++i) pos.push_back(static_cast<std::int64_t>((uniform() + 1.0) * 65536.0));
  save_ints(p("pos_bs.npy"), {2, 5}, pos);
  save_ints(p("pos_t.npy"), {10}, pos);
  save(p("q_thd_f32.npy"), DType::f32, {10, 4, 128});
  // Multimodal positions [3][batch][seq] and [3][tokens]: distinct streams, and a text token
  // (three equal positions) at index 0.
  std::vector<std::int64_t> streams(30);
  for (int r = 0; r < 3; ++r)
    for (int i = 0; i < 10; ++i) streams[r * 10 + i] = i == 0 ? 7 : static_cast<std::int64_t>((uniform() + 1.0) * (r + 1) * 1000.0);
  save_ints(p("pos_mrope_bs.npy"), {3, 2, 5}, streams);
  save_ints(p("pos_mrope_t.npy"), {3, 10}, streams);
  // Bad inputs.
  save(p("q_i32.npy"), DType::i32, {2, 5, 4, 128});
  save(p("k_bad_shape.npy"), DType::f32, {2, 6, 2, 128});
  save(p("q_rank3.npy"), DType::f32, {10, 4, 128});
  save(p("q_head64.npy"), DType::f32, {2, 5, 4, 64});
  save_ints(p("pos_bad_shape.npy"), {3, 5}, std::vector<std::int64_t>(15, 1));
  save_ints(p("pos_negative.npy"), {2, 5}, {0, 1, 2, 3, -4, 0, 1, 2, 3, 4});
  save_ints(p("cu_bad.npy"), {3}, {0, 7, 3});
  {  // uint16 without --bf16: write the bf16 file's bytes under another name
    fs::copy_file(p("q_bshd_bf16.npy"), p("q_u16.npy"), fs::copy_options::overwrite_existing);
  }
  {
    std::ofstream f(p("not_npy.npy"));
    f << "this is not a .npy file\n";
  }
  {  // a valid header with half of the data missing
    const auto full = fs::file_size(p("q_bshd_f32.npy"));
    fs::copy_file(p("q_bshd_f32.npy"), p("truncated.npy"), fs::copy_options::overwrite_existing);
    fs::resize_file(p("truncated.npy"), full / 2);
  }
  {
    std::ofstream f(p("bad_config.json"));
    f << R"({"hidden_size": 4096, "num_attention_heads": 32, "max_position_embeddings": 131072,
             "rope_theta": 500000.0, "rope_scaling": {"rope_type": "llama3", "factor": 0.5,
             "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8192}})";
  }
  {
    std::ofstream f(p("broken.json"));
    f << "{\"rope_theta\": 10000,";
  }
  // Paged-cache inputs (cache_flow.cmake): v tensors (one with a head_dim of its own) and slots
  // (a padding token each; 24 slots = 6 blocks of 4 for slots_bs).
  save(p("v_bshd_f32.npy"), DType::f32, {2, 5, 2, 64});
  save(p("v_thd_f16.npy"), DType::f16, {10, 2, 128});
  save(p("v_bshd_bf16.npy"), DType::bf16, {2, 5, 1, 128});
  save_ints(p("slots_bs.npy"), {10}, {5, 0, 9, -1, 2, 17, 3, 8, 22, 1});
  {
    HostArray a;
    a.dtype = DType::i32;
    a.shape = {10};
    a.ints = {0, 1, 2, 3, 4, 5, 6, 12, 13, -1};
    PendingFile f(p("slots_t_i32.npy"));
    write_npy(f, a);
    f.commit();
  }
  save_ints(p("slots_grid.npy"), {2, 5}, {3, 2, 1, 0, -1, 7, 6, 5, 4, 11});
  save_ints(p("slots_dup.npy"), {10}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 0});
  std::cout << "wrote the CLI test inputs to " << dir << "\n";
  return 0;
}

template <class T, class View>
void upload(const View& v, const std::vector<double>& values) {
  auto h = Kokkos::create_mirror_view(v);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if constexpr (std::is_same_v<T, double>) h.data()[i] = values[i];
    else h.data()[i] = static_cast<T>(static_cast<float>(values[i]));
  }
  Kokkos::deep_copy(Space(), v, h);
  Space().fence();
}

template <class T, class View>
std::vector<double> download(const View& v, DType dtype) {
  auto h = Kokkos::create_mirror_view(v);
  Kokkos::deep_copy(Space(), h, v);
  Space().fence();
  std::vector<double> out(v.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    if constexpr (std::is_same_v<T, double>) out[i] = h.data()[i];
    else out[i] = round_to(dtype, static_cast<double>(static_cast<float>(h.data()[i])));
  }
  return out;
}

int failures = 0;

void expect_equal(const std::string& what, const std::vector<double>& lib, const std::string& cli_file, bool bf16 = false) {
  HostArray cli = read_npy(cli_file, "cli output", bf16);
  double max = 0.0;
  if (cli.values.size() != lib.size()) {
    std::cerr << what << ": size " << cli.values.size() << " vs " << lib.size() << "\n";
    ++failures;
    return;
  }
  for (std::size_t i = 0; i < lib.size(); ++i) max = std::max(max, std::fabs(lib[i] - cli.values[i]));
  std::printf("%-40s max |cli - library| = %g\n", what.c_str(), max);
  if (max != 0.0 || std::isnan(max)) ++failures;
}

template <class T>
using V4 = Kokkos::View<T****, Kokkos::LayoutRight, Mem>;
template <class T>
using V3 = Kokkos::View<T***, Kokkos::LayoutRight, Mem>;

template <class T, class V>
V make(const HostArray& a, const std::string& label) {
  V v;
  if constexpr (V::rank() == 4) v = V(label, a.shape[0], a.shape[1], a.shape[2], a.shape[3]);
  else v = V(label, a.shape[0], a.shape[1], a.shape[2]);
  upload<T>(v, a.values);
  return v;
}

template <class V>
V like(const V& v, const std::string& label) {
  if constexpr (V::rank() == 4) return V(label, v.extent(0), v.extent(1), v.extent(2), v.extent(3));
  else return V(label, v.extent(0), v.extent(1), v.extent(2));
}

Kokkos::View<std::int64_t*, Mem> ints1(const std::vector<std::int64_t>& values) {
  Kokkos::View<std::int64_t*, Mem> v("ints", values.size());
  auto h = Kokkos::create_mirror_view(v);
  for (std::size_t i = 0; i < values.size(); ++i) h(i) = values[i];
  Kokkos::deep_copy(v, h);
  return v;
}

/// An .npy file's integers in a row-major View of the given extents (their order as stored).
template <class V, class... Extents>
V ints_as(const HostArray& a, Extents... extents) {
  V v("ints", extents...);
  if (a.ints.size() != v.span()) throw std::runtime_error("ints_as: the array has " + std::to_string(a.ints.size()) +
                                                          " values, the view " + std::to_string(v.span()));
  auto h = Kokkos::create_mirror_view(v);
  for (std::size_t i = 0; i < h.span(); ++i) h.data()[i] = a.ints[i];
  Kokkos::deep_copy(v, h);
  return v;
}

int verify(const std::string& dir, const std::string& config, const std::string& mrope_config) {
  auto in = [&](const std::string& n) { return (fs::path(dir) / n).string(); };
  auto out = [&](const std::string& n) { return (fs::path(dir) / "out" / n).string(); };
  const Params params = load_hf_config(config).params;
  Space space;

  {  // V1: bshd float32, implicit positions, accurate
    auto q = make<float, V4<float>>(read_npy(in("q_bshd_f32.npy"), "q"), "q");
    auto k = make<float, V4<float>>(read_npy(in("k_bshd_f32.npy"), "k"), "k");
    auto qo = like(q, "qo"), ko = like(k, "ko");
    rotate_copy(space, bshd, q, k, qo, ko, OnTheFly<Mem>(space, params));
    expect_equal("v1 bshd f32 q", download<float>(qo, DType::f32), out("v1.q.npy"));
    expect_equal("v1 bshd f32 k", download<float>(ko, DType::f32), out("v1.k.npy"));
  }
  {  // V2: bhsd float64, offset 1000 (sequence_offsets), hf_compatible
    auto q = make<double, V4<double>>(read_npy(in("q_bhsd_f64.npy"), "q"), "q");
    auto k = make<double, V4<double>>(read_npy(in("k_bhsd_f64.npy"), "k"), "k");
    auto qo = like(q, "qo"), ko = like(k, "ko");
    rotate_copy(space, bhsd, q, k, qo, ko, OnTheFly<Mem>(space, params, Precision::hf_compatible),
                sequence_offsets(ints1({1000, 1000})));
    expect_equal("v2 bhsd f64 q", download<double>(qo, DType::f64), out("v2.q.npy"));
    expect_equal("v2 bhsd f64 k", download<double>(ko, DType::f64), out("v2.k.npy"));
  }
  {  // V3: thd float16 with cu_seqlens, implicit positions
    auto q = make<half, V3<half>>(read_npy(in("q_thd_f16.npy"), "q"), "q");
    auto k = make<half, V3<half>>(read_npy(in("k_thd_f16.npy"), "k"), "k");
    auto qo = like(q, "qo"), ko = like(k, "ko");
    rotate_copy(space, packed(ints1({0, 3, 10})), q, k, qo, ko, OnTheFly<Mem>(space, params));
    expect_equal("v3 thd f16 q", download<half>(qo, DType::f16), out("v3.q.npy"));
    expect_equal("v3 thd f16 k", download<half>(ko, DType::f16), out("v3.k.npy"));
  }
  {  // V4: bshd bfloat16, explicit positions, interleaved pairs, backward
    Params inter = params;
    inter.pair_style = PairStyle::interleaved;
    auto q = make<bhalf, V4<bhalf>>(read_npy(in("q_bshd_bf16.npy"), "q", true), "q");
    auto k = make<bhalf, V4<bhalf>>(read_npy(in("k_bshd_bf16.npy"), "k", true), "k");
    auto qo = like(q, "qo"), ko = like(k, "ko");
    const auto p = ints_as<Kokkos::View<std::int64_t**, Kokkos::LayoutRight, Mem>>(read_npy(in("pos_bs.npy"), "pos"), 2, 5);
    RotateOptions opt;
    opt.direction = Direction::backward;
    rotate_copy(space, bshd, q, k, qo, ko, OnTheFly<Mem>(space, inter), token_positions(p), opt);
    expect_equal("v4 bshd bf16 q", download<bhalf>(qo, DType::bf16), out("v4.q.npy"), true);
    expect_equal("v4 bshd bf16 k", download<bhalf>(ko, DType::bf16), out("v4.k.npy"), true);
  }
  {  // V5: thd float32, one sequence, explicit positions, q alone
    auto q = make<float, V3<float>>(read_npy(in("q_thd_f32.npy"), "q"), "q");
    auto qo = like(q, "qo");
    rotate_copy(space, packed(), q, qo, OnTheFly<Mem>(space, params), token_positions(ints1(read_npy(in("pos_t.npy"), "p").ints)));
    expect_equal("v5 thd f32 q-only", download<float>(qo, DType::f32), out("v5.q.npy"));
  }
  const HfConfig mm = load_hf_config(mrope_config);
  {  // V6: bshd float32, three position streams, the config's sectioned mrope_section
    auto q = make<float, V4<float>>(read_npy(in("q_bshd_f32.npy"), "q"), "q");
    auto k = make<float, V4<float>>(read_npy(in("k_bshd_f32.npy"), "k"), "k");
    auto qo = like(q, "qo"), ko = like(k, "ko");
    const auto p = ints_as<Kokkos::View<std::int64_t***, Kokkos::LayoutRight, Mem>>(read_npy(in("pos_mrope_bs.npy"), "streams"), 3, 2, 5);
    rotate_copy(space, bshd, q, k, qo, ko, OnTheFly<Mem>(space, mm.params), multimodal_positions(p, mrope_section_of(mm)));
    expect_equal("v6 bshd f32 mrope q", download<float>(qo, DType::f32), out("v6.q.npy"));
    expect_equal("v6 bshd f32 mrope k", download<float>(ko, DType::f32), out("v6.k.npy"));
  }
  {  // V7: thd float16 with cu_seqlens, three streams, interleaved (--mrope-interleaved), hf_compatible
    auto q = make<half, V3<half>>(read_npy(in("q_thd_f16.npy"), "q"), "q");
    auto k = make<half, V3<half>>(read_npy(in("k_thd_f16.npy"), "k"), "k");
    auto qo = like(q, "qo"), ko = like(k, "ko");
    const auto p = ints_as<Kokkos::View<std::int64_t**, Kokkos::LayoutRight, Mem>>(read_npy(in("pos_mrope_t.npy"), "streams"), 3, 10);
    MropeSection section = mrope_section_of(mm);
    section.layout = MropeLayout::interleaved;
    rotate_copy(space, packed(ints1({0, 3, 10})), q, k, qo, ko, OnTheFly<Mem>(space, mm.params, Precision::hf_compatible),
                multimodal_positions(p, section));
    expect_equal("v7 thd f16 mrope interleaved q", download<half>(qo, DType::f16), out("v7.q.npy"));
    expect_equal("v7 thd f16 mrope interleaved k", download<half>(ko, DType::f16), out("v7.k.npy"));
  }
  std::cout << (failures ? "FAILED: the CLI differs from the library\n" : "the CLI's outputs equal the library's\n");
  return failures ? 1 : 0;
}

// --- verify-cache ---------------------------------------------------------------------------

std::string file_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) throw std::runtime_error("cannot read '" + path + "'");
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

/// The expected file `expected` and the CLI's `cli` must be byte for byte the same.
void expect_same_file(const std::string& what, const std::string& expected, const std::string& cli) {
  const std::string a = file_bytes(expected), b = file_bytes(cli);
  std::size_t first = 0;
  while (first < a.size() && first < b.size() && a[first] == b[first]) ++first;
  if (a.size() == b.size() && first == a.size()) {
    std::printf("%-40s identical (%zu bytes)\n", what.c_str(), a.size());
    return;
  }
  std::printf("%-40s DIFFERS: %zu vs %zu bytes, first difference at byte %zu\n", what.c_str(), a.size(), b.size(),
              first);
  ++failures;
}

enum class Fp8 { none, e4m3, e5m2 };

/// One cache case: the rotated k (host, token-major [tokens][heads][dim] after `order_kv`), v
/// likewise, scattered by slot into zeroed [num_blocks, block_size, heads, dim] (NHD) or
/// [num_blocks, heads, block_size, dim] (HND) blocks, written as the CLI writes them.
struct CacheCase {
  std::string name;
  DType dtype;
  bool hnd;
  std::int64_t num_blocks, block_size;
  Fp8 fp8 = Fp8::none;
  float k_scale = 1, v_scale = 1;
};

/// A [tokens, heads, dim] copy of a bshd / bhsd / thd tensor's values (token = b * seq + s).
std::vector<double> token_major(const std::vector<double>& x, const std::vector<std::int64_t>& shape, bool bhsd) {
  if (!bhsd) return x;
  const std::int64_t B = shape[0], H = shape[1], S = shape[2], D = shape[3];
  std::vector<double> out(x.size());
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t h = 0; h < H; ++h)
      for (std::int64_t s = 0; s < S; ++s)
        for (std::int64_t d = 0; d < D; ++d) out[((b * S + s) * H + h) * D + d] = x[((b * H + h) * S + s) * D + d];
  return out;
}

void scatter_and_compare(const CacheCase& c, const std::string& which, const std::vector<double>& x, std::int64_t heads,
                         std::int64_t dim, const std::vector<std::int64_t>& slots, float scale, const std::string& expected,
                         const std::string& cli) {
  const std::vector<std::int64_t> shape = c.hnd ? std::vector<std::int64_t>{c.num_blocks, heads, c.block_size, dim}
                                                : std::vector<std::int64_t>{c.num_blocks, c.block_size, heads, dim};
  const std::int64_t n = c.num_blocks * c.block_size * heads * dim;
  std::vector<double> values(static_cast<std::size_t>(n), 0.0);
  std::vector<std::uint8_t> bits(static_cast<std::size_t>(n), 0);
  for (std::size_t t = 0; t < slots.size(); ++t) {
    if (slots[t] < 0) continue;
    const std::int64_t block = slots[t] / c.block_size, off = slots[t] % c.block_size;
    for (std::int64_t h = 0; h < heads; ++h)
      for (std::int64_t d = 0; d < dim; ++d) {
        const std::int64_t at = c.hnd ? ((block * heads + h) * c.block_size + off) * dim + d
                                      : ((block * c.block_size + off) * heads + h) * dim + d;
        const double value = x[(static_cast<std::int64_t>(t) * heads + h) * dim + d];
        values[at] = value;
        const float stored = static_cast<float>(value) / scale;
        if (c.fp8 == Fp8::e4m3) bits[at] = float8_e4m3(stored).bits;
        if (c.fp8 == Fp8::e5m2) bits[at] = float8_e5m2(stored).bits;
      }
  }
  PendingFile f(expected);
  if (c.fp8 == Fp8::none) {
    HostArray a;
    a.dtype = c.dtype;
    a.shape = shape;
    a.values = std::move(values);
    write_npy(f, a);
  } else {
    write_npy_u8(f, shape, bits);
  }
  f.commit();
  expect_same_file(c.name + " " + which + " cache", expected, cli);
}

int verify_cache(const std::string& dir, const std::string& config) {
  auto in = [&](const std::string& n) { return (fs::path(dir) / n).string(); };
  auto out = [&](const std::string& n) { return (fs::path(dir) / "out_cache" / n).string(); };
  const Params params = load_hf_config(config).params;
  Space space;
  // The rotated k through rotate_copy (q too: the CLI's q must match), then the host scatter.
  auto check = [&](const CacheCase& c, const HostArray& kin, const HostArray& vin, const std::vector<double>& qo,
                   const std::vector<double>& ko, bool bhsd, bool bf16, const std::string& slots_file) {
    expect_equal(c.name + " q", qo, out(c.name + ".q.npy"), bf16);
    const std::int64_t kh = bhsd ? kin.shape[1] : kin.shape[kin.shape.size() - 2];
    const std::vector<std::int64_t> slots = read_npy(in(slots_file), "slots").ints;
    scatter_and_compare(c, "k", token_major(ko, kin.shape, bhsd), kh, kin.shape.back(), slots, c.k_scale,
                        out(c.name + ".expected_k.npy"), out(c.name + ".k_cache.npy"));
    scatter_and_compare(c, "v", token_major(vin.values, vin.shape, bhsd), kh, vin.shape.back(), slots, c.v_scale,
                        out(c.name + ".expected_v.npy"), out(c.name + ".v_cache.npy"));
  };
  {  // C1: bshd float32, implicit positions, NHD float32 cache of 6 blocks of 4, v head_dim 64
    const HostArray qa = read_npy(in("q_bshd_f32.npy"), "q"), ka = read_npy(in("k_bshd_f32.npy"), "k");
    auto q = make<float, V4<float>>(qa, "q");
    auto k = make<float, V4<float>>(ka, "k");
    auto qo = like(q, "qo"), ko = like(k, "ko");
    rotate_copy(space, bshd, q, k, qo, ko, OnTheFly<Mem>(space, params));
    check({"c1", DType::f32, false, 6, 4}, ka, read_npy(in("v_bshd_f32.npy"), "v"), download<float>(qo, DType::f32),
          download<float>(ko, DType::f32), false, false, "slots_bs.npy");
  }
  {  // C2: thd float16 with cu_seqlens, HND float16 cache, int32 slots, 4 blocks of 4 (the default count)
    const HostArray qa = read_npy(in("q_thd_f16.npy"), "q"), ka = read_npy(in("k_thd_f16.npy"), "k");
    auto q = make<half, V3<half>>(qa, "q");
    auto k = make<half, V3<half>>(ka, "k");
    auto qo = like(q, "qo"), ko = like(k, "ko");
    rotate_copy(space, packed(ints1({0, 3, 10})), q, k, qo, ko, OnTheFly<Mem>(space, params));
    check({"c2", DType::f16, true, 4, 4}, ka, read_npy(in("v_thd_f16.npy"), "v"), download<half>(qo, DType::f16),
          download<half>(ko, DType::f16), false, false, "slots_t_i32.npy");
  }
  {  // C3: bshd float32, explicit positions, HND float8_e4m3 cache, k_scale 0.5, v_scale 2
    const HostArray qa = read_npy(in("q_bshd_f32.npy"), "q"), ka = read_npy(in("k_bshd_f32.npy"), "k");
    auto q = make<float, V4<float>>(qa, "q");
    auto k = make<float, V4<float>>(ka, "k");
    auto qo = like(q, "qo"), ko = like(k, "ko");
    const auto p = ints_as<Kokkos::View<std::int64_t**, Kokkos::LayoutRight, Mem>>(read_npy(in("pos_bs.npy"), "pos"), 2, 5);
    rotate_copy(space, bshd, q, k, qo, ko, OnTheFly<Mem>(space, params), token_positions(p));
    CacheCase c{"c3", DType::f32, true, 6, 4, Fp8::e4m3, 0.5f, 2.0f};
    check(c, ka, read_npy(in("v_bshd_f32.npy"), "v"), download<float>(qo, DType::f32), download<float>(ko, DType::f32),
          false, false, "slots_bs.npy");
  }
  {  // C4: bhsd float64, offset 1000, NHD float8_e5m2 cache, slots [batch, seq], 3 blocks of 4;
     // v is the k file (unrotated in the v cache)
    const HostArray qa = read_npy(in("q_bhsd_f64.npy"), "q"), ka = read_npy(in("k_bhsd_f64.npy"), "k");
    auto q = make<double, V4<double>>(qa, "q");
    auto k = make<double, V4<double>>(ka, "k");
    auto qo = like(q, "qo"), ko = like(k, "ko");
    rotate_copy(space, bhsd, q, k, qo, ko, OnTheFly<Mem>(space, params), sequence_offsets(ints1({1000, 1000})));
    CacheCase c{"c4", DType::f64, false, 3, 4, Fp8::e5m2};
    check(c, ka, ka, download<double>(qo, DType::f64), download<double>(ko, DType::f64), true, false,
          "slots_grid.npy");
  }
  {  // C5: bshd bfloat16 (uint16 bits), backward, NHD bfloat16 cache, 3 blocks of 4
    const HostArray qa = read_npy(in("q_bshd_bf16.npy"), "q", true), ka = read_npy(in("k_bshd_bf16.npy"), "k", true);
    auto q = make<bhalf, V4<bhalf>>(qa, "q");
    auto k = make<bhalf, V4<bhalf>>(ka, "k");
    auto qo = like(q, "qo"), ko = like(k, "ko");
    RotateOptions opt;
    opt.direction = Direction::backward;
    rotate_copy(space, bshd, q, k, qo, ko, OnTheFly<Mem>(space, params), ImplicitPositions{}, opt);
    check({"c5", DType::bf16, false, 3, 4}, ka, read_npy(in("v_bshd_bf16.npy"), "v", true),
          download<bhalf>(qo, DType::bf16), download<bhalf>(ko, DType::bf16), false, true, "slots_grid.npy");
  }
  std::cout << (failures ? "FAILED: the CLI's caches differ from rotate_copy + scatter\n"
                         : "the CLI's caches equal rotate_copy + scatter\n");
  return failures ? 1 : 0;
}

int close(const std::string& a_path, const std::string& b_path, double atol) {
  HostArray a = read_npy(a_path, "a", true), b = read_npy(b_path, "b", true);
  if (a.shape != b.shape || a.dtype != b.dtype) {
    std::cerr << "shape/dtype differ: " << a.shape_string() << " " << dtype_name(a.dtype) << " vs " << b.shape_string()
              << " " << dtype_name(b.dtype) << "\n";
    return 1;
  }
  double max_diff = 0.0, max_b = 0.0;
  for (std::size_t i = 0; i < a.values.size(); ++i) {
    max_diff = std::max(max_diff, std::fabs(a.values[i] - b.values[i]));
    max_b = std::max(max_b, std::fabs(b.values[i]));
  }
  std::printf("max |a - b| = %g, max |b| = %g, bound %g\n", max_diff, max_b, atol * max_b);
  return max_diff <= atol * max_b && !std::isnan(max_diff) ? 0 : 1;
}

int table(const std::string& file, const std::string& config, std::int64_t start, std::int64_t stop,
          const std::string& dtype, const std::string& precision, const std::string& layer_type) {
  const Params params = layer_type.empty() ? load_hf_config(config).params : load_model_rope(config).params(layer_type);
  const Precision prec = precision == "accurate" ? Precision::accurate : Precision::hf_compatible;
  HostArray a = read_npy(file, "table");
  const std::int64_t pairs = params.num_pairs();
  const std::vector<std::int64_t> want{stop - start, 2, pairs};
  if (a.shape != want || a.dtype != (dtype == "float32" ? DType::f32 : DType::f64)) {
    std::cerr << "table: shape " << a.shape_string() << " " << dtype_name(a.dtype) << " unexpected\n";
    return 1;
  }
  Space space;
  auto check = [&](auto tag) -> int {
    using Real = decltype(tag);
    Table<Mem, Real> t(space, params, stop, prec);
    auto c = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), t.cos());
    auto s = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace(), t.sin());
    double max = 0.0;
    for (std::int64_t p = start; p < stop; ++p)
      for (std::int64_t j = 0; j < pairs; ++j) {
        max = std::max(max, std::fabs(a.values[((p - start) * 2 + 0) * pairs + j] - c(p, j)));
        max = std::max(max, std::fabs(a.values[((p - start) * 2 + 1) * pairs + j] - s(p, j)));
      }
    std::printf("table %s: max |cli - Table| = %g\n", file.c_str(), max);
    return max == 0.0 ? 0 : 1;
  };
  return dtype == "float32" ? check(float{}) : check(double{});
}

}  // namespace

int main(int argc, char** argv) {
  Kokkos::ScopeGuard guard(argc, argv);
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 2 && args[0] == "gen") return gen(args[1]);
    if (args.size() == 4 && args[0] == "verify") return verify(args[1], args[2], args[3]);
    if (args.size() == 3 && args[0] == "verify-cache") return verify_cache(args[1], args[2]);
    if (args.size() == 4 && args[0] == "close") return close(args[1], args[2], std::stod(args[3]));
    if ((args.size() == 7 || args.size() == 8) && args[0] == "table")
      return table(args[1], args[2], std::stoll(args[3]), std::stoll(args[4]), args[5], args[6],
                   args.size() == 8 ? args[7] : "");
  } catch (const std::exception& e) {
    std::cerr << "cli_fixture: " << e.what() << "\n";
    return 1;
  }
  std::cerr << "usage: cli_fixture gen DIR | verify DIR CONFIG MROPE_CONFIG | verify-cache DIR CONFIG | close A B ATOL | table FILE CONFIG START "
               "STOP DTYPE PRECISION [LAYER_TYPE]\n";
  return 2;
}
