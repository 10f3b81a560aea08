// SPDX-License-Identifier: Apache-2.0
// Multimodal RoPE (three position streams per token):
//  - against the reference framework's multimodal apply functions (tests/data/golden/mrope, made
//    by scripts/golden/make_mrope_golden.py: Qwen2-VL and Qwen2.5-VL sectioned, Qwen3-VL and
//    Qwen3.5 interleaved, fp32 and bf16, distinct and equal streams), from the config's own
//    mrope_section as the loader reads it and the reference's float32 inv_freq (the loader's are
//    checked to 1 ulp of them);
//  - text tokens (three equal positions) give exactly the one-position result, bit for bit, on
//    every layout, dtype, cos/sin source, kernel path and direction.
// (The long-double product of TestRotate_<type> covers every layout and dtype with distinct
// streams; DevicePath.* runs the team paths with them.)
#include "TestCategory.hpp"

#include <KokkosRope.hpp>
#include <nlohmann/json.hpp>

#include <KokkosRopeTesting_Fill.hpp>
#include <KokkosRopeTesting_Reference.hpp>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <tuple>
#include <type_traits>
#include <vector>

using namespace KokkosRope;
using json = nlohmann::json;

namespace {

const char* const golden_files[] = {
    "qwen2_vl-hd16",  "qwen2_vl-hd128",           "qwen2_5_vl-hd16",  "qwen2_5_vl-hd128",  "qwen3_vl-hd16",
    "qwen3_vl-hd128", "qwen3_vl-hd128_s16_24_24", "qwen3_5-hd32_p05", "qwen3_5-hd256_p025"};

json load_golden(const std::string& name) {
  std::ifstream in(std::string(KOKKOSROPE_TEST_DATA_DIR) + "/golden/mrope/" + name + ".json");
  EXPECT_TRUE(in.good()) << "missing golden file " << name;
  return json::parse(in);
}

// q or k [B][H][S][D] of the golden file through the library, back as doubles.
template <class T, class Space, class Source, class Positions>
std::pair<std::vector<double>, std::vector<double>> rotate_golden(const Space& space, const json& c, int B,
                                                                  int H, int S, int D, const Source& source,
                                                                  const Positions& positions) {
  using Memory = typename Space::memory_space;
  using View = Kokkos::View<T****, Kokkos::LayoutRight, Memory>;
  const auto q_in = c["q"].get<std::vector<double>>(), k_in = c["k"].get<std::vector<double>>();
  const int Hk = static_cast<int>(k_in.size() / (std::size_t(B) * S * D));
  View q("q", B, H, S, D), k("k", B, Hk, S, D);
  auto hq = Kokkos::create_mirror(q);
  auto hk = Kokkos::create_mirror(k);
  for (std::size_t i = 0; i < q_in.size(); ++i) hq.data()[i] = static_cast<T>(static_cast<float>(q_in[i]));
  for (std::size_t i = 0; i < k_in.size(); ++i) hk.data()[i] = static_cast<T>(static_cast<float>(k_in[i]));
  Kokkos::deep_copy(space, q, hq);
  Kokkos::deep_copy(space, k, hk);
  rotate(space, bhsd, q, k, source, positions);
  Kokkos::deep_copy(space, hq, q);
  Kokkos::deep_copy(space, hk, k);
  space.fence();
  std::vector<double> rq(q_in.size()), rk(k_in.size());
  for (std::size_t i = 0; i < rq.size(); ++i) rq[i] = static_cast<double>(static_cast<float>(hq.data()[i]));
  for (std::size_t i = 0; i < rk.size(); ++i) rk[i] = static_cast<double>(static_cast<float>(hk.data()[i]));
  return {rq, rk};
}

}  // namespace

template <class Space>
class Mrope : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(Mrope);

// The reference computes cos/sin in float32 and, for bf16 inputs, rounds them to bf16 and
// multiplies and adds in bf16 (three roundings); the library keeps float cos/sin and rounds
// once. Bounds per head row of magnitude m = max |x|: fp32 2e-6 m (cos/sin within a few float
// ulps), bf16 2^-6 m (three bf16 roundings). A pair that reads the wrong stream is off by
// about m: the distinct-stream cases put t < 40, h < 4000 and w < 70000 apart.
TYPED_TEST(Mrope, MatchesTheReference) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  const Space space;
  for (const char* name : golden_files) {
    const json golden = load_golden(name);
    const HfConfig config = parse_hf_config(golden["config"].dump(), name);
    const MropeSection section = mrope_section_of(config);
    const auto want_section = golden["mrope_section"].get<std::vector<int>>();
    ASSERT_EQ(want_section.size(), 3u) << name;
    EXPECT_EQ(section.temporal, want_section[0]) << name;
    EXPECT_EQ(section.height, want_section[1]) << name;
    EXPECT_EQ(section.width, want_section[2]) << name;
    EXPECT_EQ(section.layout == MropeLayout::interleaved, golden["layout"] == "interleaved") << name;
    EXPECT_EQ(config.params.rotary_dim, golden["rotary_dim"].get<int>()) << name;
    EXPECT_EQ(config.params.pair_style, PairStyle::half_split) << name;
    // The loader's frequencies are the reference's to 1 float ulp (torch's pow is not correctly
    // rounded for every pair); the rotation runs on the reference's own float32 inv_freq, so that a
    // 1-ulp frequency at position 70000 does not hide in the bound.
    FrequenciesF32 theirs;
    for (double f : golden["inv_freq"].get<std::vector<double>>())
      theirs.inv_freq.push_back(static_cast<float>(f));
    theirs.attention_factor = static_cast<float>(golden["attention_scaling"].get<double>());
    const FrequenciesF32 ours = compute_hf_frequencies(config.params);
    ASSERT_EQ(ours.inv_freq.size(), theirs.inv_freq.size()) << name;
    for (std::size_t i = 0; i < ours.inv_freq.size(); ++i)
      EXPECT_LE(KokkosRopeTesting::ulp_distance(ours.inv_freq[i], theirs.inv_freq[i]), 1)
          << name << " pair " << i;
    EXPECT_EQ(ours.attention_factor, theirs.attention_factor) << name;
    const OnTheFly<Memory> source(space, theirs, config.params.pair_style);
    const json& shape = golden["shape"];
    const int B = shape["batch"].get<int>(), H = shape["heads"].get<int>(), S = shape["seq"].get<int>(),
              D = shape["head_dim"].get<int>();
    for (const json& c : golden["cases"]) {
      const auto ids = c["position_ids"].get<std::vector<std::vector<std::vector<std::int64_t>>>>();
      Kokkos::View<std::int64_t***, Memory> pos("pos", 3, B, S);
      auto hpos = Kokkos::create_mirror_view(pos);
      for (int r = 0; r < 3; ++r)
        for (int b = 0; b < B; ++b)
          for (int s = 0; s < S; ++s) hpos(r, b, s) = ids[r][b][s];
      Kokkos::deep_copy(space, pos, hpos);
      const bool bf16 = c["dtype"] == "bfloat16";
      const auto positions = multimodal_positions(pos, section);
      const auto [q, k] = bf16 ? rotate_golden<bfloat16>(space, c, B, H, S, D, source, positions)
                               : rotate_golden<float>(space, c, B, H, S, D, source, positions);
      const std::string what = std::string(name) + " " + c["positions_kind"].get<std::string>() + " " +
                               c["dtype"].get<std::string>();
      for (const auto& [got, in, want, tensor] :
           {std::tuple{&q, c["q"].get<std::vector<double>>(), c["q_embed"].get<std::vector<double>>(), "q"},
            std::tuple{&k, c["k"].get<std::vector<double>>(), c["k_embed"].get<std::vector<double>>(),
                       "k"}}) {
        ASSERT_EQ(got->size(), want.size()) << what;
        int bad = 0;
        for (std::size_t row = 0; row < want.size(); row += D) {
          double m = 0;
          for (int d = 0; d < D; ++d) m = std::max(m, std::fabs(in[row + d]));
          const double bound = (bf16 ? 0x1p-6 : 2e-6) * m;
          for (int d = 0; d < D; ++d)
            if (!(std::fabs((*got)[row + d] - want[row + d]) <= bound) && bad++ < 5)
              ADD_FAILURE() << what << " " << tensor << "[" << row / D << "][" << d
                            << "] = " << (*got)[row + d] << ", reference " << want[row + d] << " (bound "
                            << bound << ")";
        }
        EXPECT_EQ(bad, 0) << what << " " << tensor;
      }
      // The test can fail: with distinct streams the reference's result is beyond the bound from
      // what one stream alone (the temporal positions through 1-D RoPE) gives.
      if (c["positions_kind"] == "mm") {
        const auto one_d = c["one_d"]["q_embed"].get<std::vector<double>>();
        const auto mm = c["q_embed"].get<std::vector<double>>();
        int apart = 0;
        for (std::size_t i = 0; i < mm.size(); ++i) apart += std::fabs(mm[i] - one_d[i]) > 1e-2;
        EXPECT_GT(apart, static_cast<int>(mm.size() / 16)) << what;
        // And the library's result is the multimodal one, not the temporal stream's alone (a
        // kernel that read one stream for every pair).
        int ours_apart = 0;
        for (std::size_t i = 0; i < mm.size(); ++i) ours_apart += std::fabs(q[i] - one_d[i]) > 1e-2;
        EXPECT_GT(ours_apart, static_cast<int>(mm.size() / 16)) << what;
      }
    }
  }
}

// Text tokens: multimodal positions with three equal streams against token_positions with the
// same positions, bitwise, for each dtype, layout, source, kernel path and direction.
namespace {

template <class Space, class T, class Layout, class Source>
void expect_text_bitwise(const Space& space, const Layout& layout, const Source& source, int rotary_dim,
                         const std::string& what) {
  using Memory = typename Space::memory_space;
  const int B = 2, S = 5, Hq = 3, Hk = 2, D = 64;
  const std::int64_t T_ = std::int64_t(B) * S;
  std::mt19937_64 rng(rotary_dim);
  std::uniform_int_distribution<std::int64_t> any(0, 255);
  std::vector<std::int64_t> p(T_);
  for (auto& x : p) x = any(rng);
  const MropeSection section{rotary_dim / 2 - 2 * (rotary_dim * 3 / 16), rotary_dim * 3 / 16,
                             rotary_dim * 3 / 16, MropeLayout::interleaved};
  const MropeSection sectioned{section.temporal, section.height, section.width, MropeLayout::sectioned};
  for (auto path : {KernelPath::automatic, KernelPath::host_rows, KernelPath::lanes, KernelPath::vector})
    for (auto direction : {Direction::forward, Direction::backward})
      for (const auto& sec : {section, sectioned}) {
        if (path == KernelPath::host_rows && !Impl::is_host_execution_space_v<Space>) continue;
        RotateOptions options;
        options.kernel_path = path;
        options.direction = direction;
        const auto run = [&](auto q, auto k, const auto& positions_1d, const auto& positions_3d) {
          auto q3 = decltype(q)("q3", q.layout()), k3 = decltype(k)("k3", k.layout());
          KokkosRopeTesting::fill(space, q, 7);
          KokkosRopeTesting::fill(space, k, 8);
          Kokkos::deep_copy(space, q3, q);
          Kokkos::deep_copy(space, k3, k);
          rotate(space, layout, q, k, source, positions_1d, options);
          rotate(space, layout, q3, k3, source, positions_3d, options);
          auto h1 = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, q);
          auto h3 = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, q3);
          auto g1 = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, k);
          auto g3 = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, k3);
          EXPECT_EQ(std::memcmp(h1.data(), h3.data(), h1.span() * sizeof(T)), 0)
              << what << " q path " << static_cast<int>(path) << " dir " << static_cast<int>(direction);
          EXPECT_EQ(std::memcmp(g1.data(), g3.data(), g1.span() * sizeof(T)), 0)
              << what << " k path " << static_cast<int>(path) << " dir " << static_cast<int>(direction);
        };
        if constexpr (Layout::rank == 3) {
          Kokkos::View<T***, Kokkos::LayoutRight, Memory> q("q", T_, Hq, D), k("k", T_, Hk, D);
          Kokkos::View<std::int64_t*, Memory> p1("p1", T_);
          Kokkos::View<std::int64_t**, Memory> p3("p3", 3, T_);
          auto h1 = Kokkos::create_mirror_view(p1);
          auto h3 = Kokkos::create_mirror_view(p3);
          for (std::int64_t t = 0; t < T_; ++t) {
            h1(t) = p[t];
            for (int r = 0; r < 3; ++r) h3(r, t) = p[t];
          }
          Kokkos::deep_copy(space, p1, h1);
          Kokkos::deep_copy(space, p3, h3);
          run(q, k, token_positions(p1), multimodal_positions(p3, sec));
        } else {
          const bool heads_first = std::is_same_v<Layout, BHSD>;
          Kokkos::View<T****, Kokkos::LayoutRight, Memory> q("q", B, heads_first ? Hq : S,
                                                             heads_first ? S : Hq, D),
              k("k", B, heads_first ? Hk : S, heads_first ? S : Hk, D);
          Kokkos::View<std::int64_t**, Memory> p1("p1", B, S);
          Kokkos::View<std::int64_t***, Memory> p3("p3", 3, B, S);
          auto h1 = Kokkos::create_mirror_view(p1);
          auto h3 = Kokkos::create_mirror_view(p3);
          for (int b = 0; b < B; ++b)
            for (int s = 0; s < S; ++s) {
              h1(b, s) = p[b * S + s];
              for (int r = 0; r < 3; ++r) h3(r, b, s) = p[b * S + s];
            }
          Kokkos::deep_copy(space, p1, h1);
          Kokkos::deep_copy(space, p3, h3);
          run(q, k, token_positions(p1), multimodal_positions(p3, sec));
        }
      }
}

template <class Space, class T>
void text_tokens_bitwise() {
  using Memory = typename Space::memory_space;
  using Acc = Impl::compute_t<T>;
  const Space space;
  for (auto pair : {PairStyle::half_split, PairStyle::interleaved})
    for (int rotary : {64, 32}) {
      Params params;
      params.head_dim = 64;
      params.rotary_dim = rotary;
      params.theta = 500000.0;
      params.pair_style = pair;
      YarnScaling yarn;  // a non-trivial attention factor
      yarn.factor = 8.0;
      yarn.original_max_position_embeddings = 64;
      params.scaling = yarn;
      const std::string what = std::string(pair == PairStyle::half_split ? "half_split" : "interleaved") +
                               " rot" + std::to_string(rotary);
      const Table<Memory, Acc> table(space, params, 256);
      const OnTheFly<Memory> accurate(space, params, Precision::accurate);
      const OnTheFly<Memory> hf(space, params, Precision::hf_compatible);
      const CosSinViews<Kokkos::View<const Acc**, Kokkos::LayoutRight, Memory>> views(table.cos(),
                                                                                      table.sin(), pair);
      expect_text_bitwise<Space, T>(space, bshd, table, rotary, "bshd table " + what);
      expect_text_bitwise<Space, T>(space, bhsd, table, rotary, "bhsd table " + what);
      expect_text_bitwise<Space, T>(space, packed(), table, rotary, "packed table " + what);
      expect_text_bitwise<Space, T>(space, bshd, accurate, rotary, "bshd accurate " + what);
      expect_text_bitwise<Space, T>(space, packed(), hf, rotary, "packed hf_compatible " + what);
      expect_text_bitwise<Space, T>(space, bshd, views, rotary, "bshd views " + what);
    }
}

}  // namespace

TYPED_TEST(Mrope, TextTokensBitwiseEqualOnePositionFloat) {
  text_tokens_bitwise<TypeParam, float>();
}
TYPED_TEST(Mrope, TextTokensBitwiseEqualOnePositionBfloat16) {
  text_tokens_bitwise<TypeParam, bfloat16>();
}
TYPED_TEST(Mrope, TextTokensBitwiseEqualOnePositionDouble) {
  text_tokens_bitwise<TypeParam, double>();
}
TYPED_TEST(Mrope, TextTokensBitwiseEqualOnePositionHalf) {
  text_tokens_bitwise<TypeParam, Kokkos::Experimental::half_t>();
}
