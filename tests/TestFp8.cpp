// SPDX-License-Identifier: Apache-2.0
// KokkosRope::float8_e4m3 and float8_e5m2 (the fp8 KV-cache storage types):
//  - decoding: all 256 codes of each format against PyTorch's own table (tests/data/golden/fp8,
//    made by scripts/golden/make_fp8_golden.py in the reference sysroot) and against a
//    long-double formula written here;
//  - encoding: PyTorch's float -> fp8 codes for in-range samples (PyTorch does not saturate), and
//    an exhaustive-search model (the nearest of the finite codes of the input's sign, ties to the
//    even code, saturation, NaN to sign | 0x7f) over every fp8 value, every midpoint and its
//    float neighbours, the specials and a million seeded random floats per format;
//  - a kernel on every execution space gives the host's results bit for bit.
#include "TestCategory.hpp"

#include <KokkosRope/Fp8.hpp>
#include <nlohmann/json.hpp>

#include <cfloat>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

using json = nlohmann::json;

namespace {

float from_bits32(std::uint32_t u) {
  float f;
  std::memcpy(&f, &u, sizeof f);
  return f;
}

std::uint32_t to_bits32(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  return u;
}

// The two formats as the model sees them: field widths, bias, which codes are special.
struct E4M3 {
  using type = KokkosRope::float8_e4m3;
  static constexpr int man_bits = 3;
  static constexpr int bias = 7;
  static constexpr bool has_inf = false;
  static constexpr std::uint8_t max_code = 0x7e;
  static constexpr double max_value = 448.0;
  static constexpr const char* golden_name = "e4m3fn";
};
struct E5M2 {
  using type = KokkosRope::float8_e5m2;
  static constexpr int man_bits = 2;
  static constexpr int bias = 15;
  static constexpr bool has_inf = true;
  static constexpr std::uint8_t max_code = 0x7b;
  static constexpr double max_value = 57344.0;
  static constexpr const char* golden_name = "e5m2";
};

// The value of a code from the OCP definition, in long double (independent of the header).
template <class F>
long double model_value(std::uint32_t code) {
  const int exp_bits = 7 - F::man_bits;
  const std::uint32_t e = (code >> F::man_bits) & ((1u << exp_bits) - 1u);
  const std::uint32_t m = code & ((1u << F::man_bits) - 1u);
  const long double sign = (code & 0x80u) ? -1.0L : 1.0L;
  const std::uint32_t e_max = (1u << exp_bits) - 1u;
  if (F::has_inf && e == e_max)
    return m == 0 ? sign * std::numeric_limits<long double>::infinity()
                  : std::numeric_limits<long double>::quiet_NaN();
  if (!F::has_inf && e == e_max && m == (1u << F::man_bits) - 1u)
    return std::numeric_limits<long double>::quiet_NaN();
  if (e == 0) return sign * std::ldexp(static_cast<long double>(m), 1 - F::bias - F::man_bits);
  return sign * std::ldexp(static_cast<long double>((1u << F::man_bits) + m),
                           static_cast<int>(e) - F::bias - F::man_bits);
}

// The slow reference encoder: exhaustive search for the nearest finite code of the input's sign,
// a tie going to the even code (mantissa bit 0 clear); saturation; NaN to sign | 0x7f.
template <class F>
std::uint8_t reference_encode(float f) {
  const std::uint8_t sign = std::signbit(f) ? 0x80 : 0x00;
  if (std::isnan(f)) return static_cast<std::uint8_t>(sign | 0x7f);
  const long double x = std::fabs(static_cast<long double>(f));
  if (x >= F::max_value) return static_cast<std::uint8_t>(sign | F::max_code);  // infinity too
  static const std::vector<long double> values = [] {
    std::vector<long double> v;
    for (std::uint32_t c = 0; c <= F::max_code; ++c) v.push_back(model_value<F>(c));
    return v;
  }();
  std::uint32_t best = 0;
  long double best_d = std::numeric_limits<long double>::infinity();
  for (std::uint32_t c = 0; c <= F::max_code; ++c) {
    const long double d = std::fabs(values[c] - x);
    if (d < best_d || (d == best_d && (c & 1u) == 0u)) {
      best = c;
      best_d = d;
    }
  }
  return static_cast<std::uint8_t>(sign | best);
}

// Every finite value of the format, both signs.
template <class F>
std::vector<float> format_values() {
  std::vector<float> v;
  for (std::uint32_t c = 0; c < 256; ++c) {
    const long double x = model_value<F>(c);
    if (std::isfinite(x)) v.push_back(static_cast<float>(x));
  }
  return v;
}

// The encode inputs: every value, every midpoint (including the one above the largest finite
// value) and its float neighbours, specials, and seeded random floats (random bit patterns over
// the whole float range, and random values over the format's own exponent range).
template <class F>
std::vector<float> encode_inputs(std::size_t random_count, unsigned seed) {
  std::vector<float> in;
  const float inf = std::numeric_limits<float>::infinity();
  for (std::uint32_t c = 0; c <= F::max_code; ++c) {
    const long double lo = model_value<F>(c);
    const long double hi =
        c < F::max_code ? model_value<F>(c + 1) : lo + (lo - model_value<F>(c - 1));  // the next value
    const auto mid = static_cast<float>((lo + hi) / 2);
    if (static_cast<long double>(mid) != (lo + hi) / 2) ADD_FAILURE() << "midpoint not exact: code " << c;
    for (const float x :
         {static_cast<float>(lo), mid, std::nextafter(mid, -inf), std::nextafter(mid, inf),
          std::nextafter(static_cast<float>(lo), -inf), std::nextafter(static_cast<float>(lo), inf)}) {
      in.push_back(x);
      in.push_back(-x);
    }
  }
  const auto max = static_cast<float>(F::max_value);
  for (const float x : {0.0f, inf, 1e30f, FLT_MAX, 1e-30f, 1e-40f, FLT_MIN, FLT_TRUE_MIN, 2 * FLT_TRUE_MIN,
                        std::nextafter(FLT_MIN, 0.0f), max, std::nextafter(max, inf),
                        std::nextafter(max, 0.0f), max * 1.01f, max * 2.0f, max * 0.999f}) {
    in.push_back(x);
    in.push_back(-x);
  }
  for (const std::uint32_t nan : {0x7fc00000u, 0x7f800001u, 0x7fffffffu, 0x7fc12345u, 0x7fa00000u,
                                  0xffc00000u, 0xff800001u, 0xffffffffu})
    in.push_back(from_bits32(nan));
  std::mt19937 rng(seed);
  std::uniform_int_distribution<std::uint32_t> exponent(
      static_cast<std::uint32_t>(127 - F::bias - F::man_bits - 3),
      static_cast<std::uint32_t>(127 + F::bias + 2));
  for (std::size_t i = 0; i < random_count; ++i) {
    const auto r = static_cast<std::uint32_t>(rng());
    if (i % 2 == 0) {
      in.push_back(from_bits32(r));  // the whole float range, NaNs and infinities included
    } else {
      const std::uint32_t e = exponent(rng) & 0xffu;
      in.push_back(from_bits32((r & 0x807fffffu) | (e << 23)));  // around the format's range
    }
  }
  return in;
}

json load_golden() {
  std::ifstream in(std::string(KOKKOSROPE_TEST_DATA_DIR) + "/golden/fp8/decode.json");
  if (!in) ADD_FAILURE() << "cannot open tests/data/golden/fp8/decode.json";
  return json::parse(in);
}

// A golden decode entry: a number, or "nan" / "inf" / "-inf".
float golden_float(const json& v) {
  if (v.is_string()) {
    const std::string s = v.get<std::string>();
    if (s == "nan") return std::numeric_limits<float>::quiet_NaN();
    if (s == "inf") return std::numeric_limits<float>::infinity();
    if (s == "-inf") return -std::numeric_limits<float>::infinity();
    ADD_FAILURE() << "unexpected golden entry " << s;
  }
  return static_cast<float>(v.get<double>());
}

// Same float, bit for bit, or both NaN.
bool same_float(float a, float b) {
  return (std::isnan(a) && std::isnan(b)) || to_bits32(a) == to_bits32(b);
}

template <class F>
void check_decode_against_torch(const json& golden) {
  const json& table = golden.at("formats").at(F::golden_name).at("decode");
  ASSERT_EQ(table.size(), 256u);
  int wrong = 0, nans = 0;
  for (std::uint32_t c = 0; c < 256; ++c) {
    const float want = golden_float(table[c]);
    const float got = static_cast<float>(F::type::from_bits(static_cast<std::uint8_t>(c)));
    nans += std::isnan(want) ? 1 : 0;
    if (!same_float(got, want) && ++wrong <= 5)
      ADD_FAILURE() << F::golden_name << " code 0x" << std::hex << c << ": got " << got << ", torch " << want;
  }
  EXPECT_EQ(wrong, 0) << F::golden_name;
  EXPECT_EQ(nans, F::has_inf ? 6 : 2) << F::golden_name;
}

template <class F>
void check_decode_against_formula() {
  int wrong = 0;
  for (std::uint32_t c = 0; c < 256; ++c) {
    const float got = static_cast<float>(F::type::from_bits(static_cast<std::uint8_t>(c)));
    const long double want = model_value<F>(c);
    const bool ok = std::isnan(want)
                        ? (std::isnan(got) && std::signbit(got) == ((c & 0x80u) != 0))
                        : (static_cast<long double>(got) == want && std::signbit(got) == std::signbit(want));
    if (!ok && ++wrong <= 5)
      ADD_FAILURE() << F::golden_name << " code 0x" << std::hex << c << ": got " << got << ", want "
                    << double(want);
  }
  EXPECT_EQ(wrong, 0) << F::golden_name;
}

template <class F>
void check_encode_against_torch(const json& golden) {
  const json& fmt = golden.at("formats").at(F::golden_name);
  const json& inputs = fmt.at("encode_inputs");
  const json& codes = fmt.at("encode_codes");
  ASSERT_EQ(inputs.size(), codes.size());
  EXPECT_GT(inputs.size(), 4000u);
  int wrong = 0;
  for (std::size_t i = 0; i < inputs.size(); ++i) {
    const auto x = static_cast<float>(inputs[i].get<double>());
    const auto want = codes[i].get<unsigned>();
    const unsigned got = typename F::type(x).bits;
    if (got != want && ++wrong <= 5)
      ADD_FAILURE() << F::golden_name << " " << x << ": got 0x" << std::hex << got << ", torch 0x" << want;
  }
  EXPECT_EQ(wrong, 0) << F::golden_name;
}

template <class F>
void check_encode_against_model(std::size_t random_count, unsigned seed) {
  const std::vector<float> in = encode_inputs<F>(random_count, seed);
  std::int64_t wrong = 0, ties = 0;
  for (const float x : in) {
    const std::uint8_t want = reference_encode<F>(x);
    const std::uint8_t got = typename F::type(x).bits;
    if (got != want && ++wrong <= 5)
      ADD_FAILURE() << F::golden_name << " float bits 0x" << std::hex << to_bits32(x) << " (" << x
                    << "): got 0x" << unsigned(got) << ", want 0x" << unsigned(want);
    // An exact midpoint of two finite codes below the largest value: the tie rule is exercised.
    if (std::isfinite(x) && std::fabs(x) < F::max_value) {
      const long double v = model_value<F>(want & 0x7fu), ax = std::fabs(static_cast<long double>(x));
      const long double other =
          ax > v ? model_value<F>((want & 0x7fu) + 1u) : model_value<F>((want & 0x7fu) - 1u);
      if (ax != v && std::fabs(ax - v) == std::fabs(other - ax)) ++ties;
    }
  }
  EXPECT_EQ(wrong, 0) << F::golden_name << " (" << in.size() << " inputs)";
  EXPECT_GT(ties, 2 * F::max_code - 2) << F::golden_name;  // every midpoint, both signs
}

template <class F>
std::vector<float> values_of_all_codes() {
  std::vector<float> v;
  for (std::uint32_t c = 0; c < 256; ++c)
    v.push_back(static_cast<float>(F::type::from_bits(static_cast<std::uint8_t>(c))));
  return v;
}

template <class Memory>
struct Convert {
  Kokkos::View<const float*, Memory> in;
  Kokkos::View<const std::uint8_t*, Memory> codes;
  Kokkos::View<KokkosRope::float8_e4m3*, Memory> e4m3;
  Kokkos::View<KokkosRope::float8_e5m2*, Memory> e5m2;
  Kokkos::View<float*, Memory> e4m3_back, e5m2_back, e4m3_decoded, e5m2_decoded;
  KOKKOS_INLINE_FUNCTION void operator()(const std::int64_t i) const {
    e4m3(i) = KokkosRope::float8_e4m3(in(i));
    e5m2(i) = KokkosRope::float8_e5m2(in(i));
    e4m3_back(i) = static_cast<float>(e4m3(i));
    e5m2_back(i) = static_cast<float>(e5m2(i));
    if (i < static_cast<std::int64_t>(codes.extent(0))) {
      e4m3_decoded(i) = static_cast<float>(KokkosRope::float8_e4m3::from_bits(codes(i)));
      e5m2_decoded(i) = static_cast<float>(KokkosRope::float8_e5m2::from_bits(codes(i)));
    }
  }
};

}  // namespace

TEST(Fp8Host, DecodesEveryCodeLikeTorch) {
  const json golden = load_golden();
  EXPECT_FALSE(golden.at("torch_version").get<std::string>().empty());
  check_decode_against_torch<E4M3>(golden);
  check_decode_against_torch<E5M2>(golden);
}

TEST(Fp8Host, DecodesEveryCodeLikeTheFormula) {
  check_decode_against_formula<E4M3>();
  check_decode_against_formula<E5M2>();
}

TEST(Fp8Host, EncodesInRangeValuesLikeTorch) {
  const json golden = load_golden();
  check_encode_against_torch<E4M3>(golden);
  check_encode_against_torch<E5M2>(golden);
}

TEST(Fp8Host, EncodesLikeTheExhaustiveNearestEvenModel) {
  check_encode_against_model<E4M3>(1000000, 11);
  check_encode_against_model<E5M2>(1000000, 12);
}

TEST(Fp8Host, SaturatesKeepsNaNAndSignedZero) {
  using KokkosRope::float8_e4m3;
  using KokkosRope::float8_e5m2;
  static_assert(sizeof(float8_e4m3) == 1 && sizeof(float8_e5m2) == 1);
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  EXPECT_EQ(float8_e4m3(1.0f).bits, 0x38u);
  EXPECT_EQ(float8_e5m2(1.0f).bits, 0x3cu);
  EXPECT_EQ(float8_e4m3(-2.0f).bits, 0xc0u);
  // Saturation: the largest finite value, the tie above it, far beyond, infinity.
  EXPECT_EQ(float8_e4m3(448.0f).bits, 0x7eu);
  EXPECT_EQ(float8_e4m3(464.0f).bits, 0x7eu);
  EXPECT_EQ(float8_e4m3(500.0f).bits, 0x7eu);
  EXPECT_EQ(float8_e4m3(1e30f).bits, 0x7eu);
  EXPECT_EQ(float8_e4m3(inf).bits, 0x7eu);
  EXPECT_EQ(float8_e4m3(-inf).bits, 0xfeu);
  EXPECT_EQ(float8_e5m2(57344.0f).bits, 0x7bu);
  EXPECT_EQ(float8_e5m2(61440.0f).bits, 0x7bu);  // would round to infinity without saturation
  EXPECT_EQ(float8_e5m2(1e30f).bits, 0x7bu);
  EXPECT_EQ(float8_e5m2(inf).bits, 0x7bu);  // chosen: infinity saturates too (CUDA satfinite)
  EXPECT_EQ(float8_e5m2(-inf).bits, 0xfbu);
  // NaN: sign | 0x7f, payload dropped.
  EXPECT_EQ(float8_e4m3(nan).bits, 0x7fu);
  EXPECT_EQ(float8_e4m3(-nan).bits, 0xffu);
  EXPECT_EQ(float8_e5m2(nan).bits, 0x7fu);
  EXPECT_EQ(float8_e5m2(from_bits32(0xff800001u)).bits, 0xffu);
  // Subnormals: ties at the subnormal spacing, rounding up into the smallest normal, signed zero.
  EXPECT_EQ(float8_e4m3(std::ldexp(1.0f, -10)).bits, 0x00u);  // half the smallest subnormal: tie to 0
  EXPECT_EQ(float8_e4m3(std::nextafter(std::ldexp(1.0f, -10), 1.0f)).bits, 0x01u);
  EXPECT_EQ(float8_e4m3(3 * std::ldexp(1.0f, -10)).bits, 0x02u);                   // 1.5 units: tie to 2
  EXPECT_EQ(float8_e4m3(std::nextafter(std::ldexp(1.0f, -6), 0.0f)).bits, 0x08u);  // up to 2^-6
  EXPECT_EQ(float8_e5m2(std::ldexp(1.0f, -17)).bits, 0x00u);
  EXPECT_EQ(float8_e5m2(-std::ldexp(3.0f, -17)).bits, 0x82u);
  EXPECT_EQ(float8_e4m3(-1e-30f).bits, 0x80u);
  EXPECT_EQ(float8_e5m2(-FLT_TRUE_MIN).bits, 0x80u);
  EXPECT_EQ(float8_e4m3(-0.0f).bits, 0x80u);
  EXPECT_EQ(float8_e5m2(0.0f).bits, 0x00u);
  // Decoding: NaN keeps its sign, e5m2 infinities are infinities.
  EXPECT_TRUE(std::isnan(static_cast<float>(float8_e4m3::from_bits(0xff))));
  EXPECT_TRUE(std::signbit(static_cast<float>(float8_e4m3::from_bits(0xff))));
  EXPECT_EQ(static_cast<float>(float8_e5m2::from_bits(0xfc)), -inf);
  EXPECT_EQ(static_cast<float>(float8_e4m3::from_bits(0x7e)), 448.0f);
  EXPECT_EQ(static_cast<float>(float8_e4m3::from_bits(0x01)), std::ldexp(1.0f, -9));
  EXPECT_EQ(static_cast<float>(float8_e5m2::from_bits(0x01)), std::ldexp(1.0f, -16));
  // Bitwise comparison.
  EXPECT_TRUE(float8_e4m3::from_bits(0x7f) == float8_e4m3::from_bits(0x7f));
  EXPECT_TRUE(float8_e4m3(0.0f) != float8_e4m3(-0.0f));
  EXPECT_TRUE(float8_e5m2(2.0f) == float8_e5m2::from_bits(0x40));
}

TEST(Fp8Host, RoundTripsEveryCode) {
  int mismatches = 0;
  for (std::uint32_t c = 0; c < 256; ++c) {
    const auto b = static_cast<std::uint8_t>(c);
    const auto s = static_cast<std::uint8_t>(c & 0x80u);
    // e4m3: every code comes back, NaN as sign | 0x7f (the only NaN codes anyway).
    if (KokkosRope::float8_e4m3(static_cast<float>(KokkosRope::float8_e4m3::from_bits(b))).bits != b)
      ++mismatches;
    // e5m2: finite codes come back; infinity saturates; NaNs become sign | 0x7f.
    const std::uint8_t e5 =
        KokkosRope::float8_e5m2(static_cast<float>(KokkosRope::float8_e5m2::from_bits(b))).bits;
    const std::uint32_t mag = c & 0x7fu;
    const std::uint8_t want = mag < 0x7cu    ? b
                              : mag == 0x7cu ? static_cast<std::uint8_t>(s | 0x7bu)
                                             : static_cast<std::uint8_t>(s | 0x7fu);
    if (e5 != want) ++mismatches;
  }
  EXPECT_EQ(mismatches, 0);
}

template <class Space>
class Fp8 : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(Fp8);

TYPED_TEST(Fp8, ConvertsOnTheDeviceLikeTheHost) {
  using Memory = typename TypeParam::memory_space;
  // The values of all 256 codes of both formats, the encode inputs of both, random floats.
  std::vector<float> inputs = values_of_all_codes<E4M3>();
  for (const float x : values_of_all_codes<E5M2>()) inputs.push_back(x);
  for (const float x : encode_inputs<E4M3>(100000, 21)) inputs.push_back(x);
  for (const float x : encode_inputs<E5M2>(100000, 22)) inputs.push_back(x);
  std::vector<std::uint8_t> codes(256);
  for (std::uint32_t c = 0; c < 256; ++c) codes[c] = static_cast<std::uint8_t>(c);
  const auto n = static_cast<std::int64_t>(inputs.size());

  Kokkos::View<float*, Memory> in("in", n);
  Kokkos::View<std::uint8_t*, Memory> d_codes("codes", 256);
  Kokkos::deep_copy(in,
                    Kokkos::View<const float*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(inputs.data(), n));
  Kokkos::deep_copy(d_codes, Kokkos::View<const std::uint8_t*, Kokkos::HostSpace, Kokkos::MemoryUnmanaged>(
                                 codes.data(), 256));
  Convert<Memory> f{in,
                    d_codes,
                    Kokkos::View<KokkosRope::float8_e4m3*, Memory>("e4m3", n),
                    Kokkos::View<KokkosRope::float8_e5m2*, Memory>("e5m2", n),
                    Kokkos::View<float*, Memory>("e4m3_back", n),
                    Kokkos::View<float*, Memory>("e5m2_back", n),
                    Kokkos::View<float*, Memory>("e4m3_decoded", 256),
                    Kokkos::View<float*, Memory>("e5m2_decoded", 256)};
  const TypeParam space;
  Kokkos::parallel_for(Kokkos::RangePolicy<TypeParam, Kokkos::IndexType<std::int64_t>>(space, 0, n), f);
  space.fence();
  auto h_e4m3 = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, f.e4m3);
  auto h_e5m2 = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, f.e5m2);
  auto h_e4m3_back = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, f.e4m3_back);
  auto h_e5m2_back = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, f.e5m2_back);
  auto h_e4m3_dec = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, f.e4m3_decoded);
  auto h_e5m2_dec = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, f.e5m2_decoded);

  std::int64_t wrong = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const KokkosRope::float8_e4m3 a(inputs[i]);
    const KokkosRope::float8_e5m2 b(inputs[i]);
    const bool ok = h_e4m3(i) == a && h_e5m2(i) == b &&
                    to_bits32(h_e4m3_back(i)) == to_bits32(static_cast<float>(a)) &&
                    to_bits32(h_e5m2_back(i)) == to_bits32(static_cast<float>(b));
    if (!ok && ++wrong <= 5)
      ADD_FAILURE() << "float bits 0x" << std::hex << to_bits32(inputs[i]) << ": device e4m3 0x"
                    << unsigned(h_e4m3(i).bits) << " e5m2 0x" << unsigned(h_e5m2(i).bits) << ", host 0x"
                    << unsigned(a.bits) << " 0x" << unsigned(b.bits);
  }
  for (std::uint32_t c = 0; c < 256; ++c) {
    const auto b = static_cast<std::uint8_t>(c);
    if (to_bits32(h_e4m3_dec(c)) != to_bits32(static_cast<float>(KokkosRope::float8_e4m3::from_bits(b))) ||
        to_bits32(h_e5m2_dec(c)) != to_bits32(static_cast<float>(KokkosRope::float8_e5m2::from_bits(b)))) {
      if (++wrong <= 10) ADD_FAILURE() << "decoding code 0x" << std::hex << c << " differs on the device";
    }
  }
  EXPECT_EQ(wrong, 0) << n << " floats, 256 codes";
}
