// SPDX-License-Identifier: Apache-2.0
// .npy input and output. The header is written by xtensor's npy support (xtensor/xnpy.hpp) and
// read by parse_npy_header (NpyHeader.cpp, fuzzed by tests/fuzz). xtensor's public load_npy<T>
// needs the element type at compile time and has no float16 or bfloat16 type, so the tool picks
// the type from the descr at run time, checks the data size against the file before decoding
// it, and converts the 16-bit types itself (float16 is written with descr '<f2', bfloat16 as
// '<u2' bit patterns: NumPy has no bfloat16).
#include "Common.hpp"

#include <xtensor/xnpy.hpp>

#include <cerrno>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <unistd.h>

namespace KokkosRopeTool {

namespace fs = std::filesystem;

int mantissa_bits(DType dtype) {
  switch (dtype) {
    case DType::f32: return 24;
    case DType::f64: return 53;
    case DType::f16: return 11;
    case DType::bf16: return 8;
    default: return 0;
  }
}

std::int64_t HostArray::size() const {
  std::int64_t n = 1;
  for (auto e : shape) n *= e;
  return n;
}

std::string HostArray::shape_string() const {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

namespace {

// IEEE-style 16-bit formats: float16 (5 exponent, 10 mantissa bits), bfloat16 (8, 7).
struct Format16 {
  int exp_bits, man_bits;
};
constexpr Format16 half_format{5, 10};
constexpr Format16 bf16_format{8, 7};

std::uint16_t encode16(double x, Format16 f) {
  const int bias = (1 << (f.exp_bits - 1)) - 1;
  const std::uint16_t exp_all = static_cast<std::uint16_t>((1 << f.exp_bits) - 1);
  const std::uint16_t sign = std::signbit(x) ? static_cast<std::uint16_t>(1u << 15) : 0;
  if (std::isnan(x)) return static_cast<std::uint16_t>(sign | (exp_all << f.man_bits) | (1u << (f.man_bits - 1)));
  const double a = std::fabs(x);
  const std::uint16_t inf = static_cast<std::uint16_t>(sign | (exp_all << f.man_bits));
  if (std::isinf(a)) return inf;
  const int emin = 1 - bias;
  const double sub_ulp = std::ldexp(1.0, emin - f.man_bits);
  if (a < std::ldexp(1.0, emin)) {  // subnormal (or rounds up to the smallest normal)
    const double q = std::nearbyint(a / sub_ulp);  // ties to even in the default mode
    return static_cast<std::uint16_t>(sign | static_cast<std::uint16_t>(q));
  }
  int e2;
  std::frexp(a, &e2);
  int e = e2 - 1;  // a in [2^e, 2^(e+1))
  double q = std::nearbyint(std::ldexp(a, f.man_bits - e));  // in [2^m, 2^(m+1)]
  if (q >= std::ldexp(1.0, f.man_bits + 1)) {
    q /= 2;
    ++e;
  }
  if (e + bias >= exp_all) return inf;
  const auto man = static_cast<std::uint16_t>(static_cast<std::uint32_t>(q) - (1u << f.man_bits));
  return static_cast<std::uint16_t>(sign | (static_cast<std::uint16_t>(e + bias) << f.man_bits) | man);
}

double decode16(std::uint16_t bits, Format16 f) {
  const int bias = (1 << (f.exp_bits - 1)) - 1;
  const int exp_all = (1 << f.exp_bits) - 1;
  const double sign = (bits >> 15) ? -1.0 : 1.0;
  const int e = (bits >> f.man_bits) & exp_all;
  const int man = bits & ((1 << f.man_bits) - 1);
  if (e == exp_all) return man ? std::numeric_limits<double>::quiet_NaN() : sign * HUGE_VAL;
  if (e == 0) return sign * std::ldexp(static_cast<double>(man), 1 - bias - f.man_bits);
  return sign * std::ldexp(static_cast<double>(man + (1 << f.man_bits)), e - bias - f.man_bits);
}

std::string squote(const std::string& s) { return "'" + s + "'"; }

}  // namespace

double round_to(DType dtype, double value) {
  switch (dtype) {
    case DType::f16: return decode16(encode16(value, half_format), half_format);
    case DType::bf16: return decode16(encode16(value, bf16_format), bf16_format);
    case DType::f32: return static_cast<double>(static_cast<float>(value));
    default: return value;
  }
}

HostArray read_npy(const std::string& path, const std::string& what, bool bf16) {
  std::error_code ec;
  if (!fs::exists(path, ec)) throw Error(what + ": no such file " + squote(path));
  if (fs::is_directory(path, ec)) throw Error(what + ": " + squote(path) + " is a directory, not a .npy file");
  const auto file_size = static_cast<std::int64_t>(fs::file_size(path, ec));
  if (ec) throw Error(what + ": cannot read " + squote(path) + ": " + ec.message());
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error(what + ": cannot open " + squote(path) + ": " + std::strerror(errno));

  // The whole file in memory (its size is what the disk holds, not what a header claims); the
  // header and its consistency with the data size are checked by parse_npy_header.
  std::string bytes(static_cast<std::size_t>(file_size), '\0');
  in.read(bytes.data(), static_cast<std::streamsize>(file_size));
  if (in.gcount() != static_cast<std::streamsize>(file_size))
    throw Error(what + ": " + squote(path) + " is not a valid .npy file (read failed)");
  const NpyHeader header = parse_npy_header(bytes, what, path, bf16);

  HostArray array;
  array.dtype = header.dtype;
  array.shape = header.shape;
  const std::int64_t count = header.count;
  const char* p = bytes.data() + header.data_offset;
  auto load = [&](auto tag, std::int64_t i) {
    decltype(tag) v;
    std::memcpy(&v, p + i * static_cast<std::int64_t>(sizeof(v)), sizeof(v));
    return v;
  };
  if (array.dtype == DType::i64 || array.dtype == DType::i32) {
    array.ints.resize(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i)
      array.ints[i] = array.dtype == DType::i64 ? load(std::int64_t{}, i) : load(std::int32_t{}, i);
  } else {
    array.values.resize(static_cast<std::size_t>(count));
    for (std::int64_t i = 0; i < count; ++i) {
      switch (array.dtype) {
        case DType::f32: array.values[i] = load(float{}, i); break;
        case DType::f64: array.values[i] = load(double{}, i); break;
        case DType::f16: array.values[i] = decode16(load(std::uint16_t{}, i), half_format); break;
        default: array.values[i] = decode16(load(std::uint16_t{}, i), bf16_format); break;
      }
    }
  }
  return array;
}

PendingFile::PendingFile(std::string path) : m_path(std::move(path)) {
  const fs::path p(m_path);
  m_temp = (p.parent_path() / ("." + p.filename().string() + ".partial." + std::to_string(::getpid()))).string();
}

PendingFile::~PendingFile() {
  if (!m_committed) {
    std::error_code ec;
    fs::remove(m_temp, ec);
  }
}

void PendingFile::commit() {
  std::error_code ec;
  fs::rename(m_temp, m_path, ec);
  if (ec) throw Error("cannot write " + squote(m_path) + ": " + ec.message());
  m_committed = true;
}

void write_npy(PendingFile& file, const HostArray& array) {
  std::string descr;
  switch (array.dtype) {
    case DType::f32: descr = "<f4"; break;
    case DType::f64: descr = "<f8"; break;
    case DType::f16: descr = "<f2"; break;
    case DType::bf16: descr = "<u2"; break;
    case DType::i32: descr = "<i4"; break;
    case DType::i64: descr = "<i8"; break;
  }
  std::ofstream out(file.temp_path(), std::ios::binary | std::ios::trunc);
  if (!out) throw Error("cannot write " + squote(file.path()) + ": " + std::strerror(errno));
  std::vector<std::size_t> shape(array.shape.begin(), array.shape.end());
  xt::detail::write_header(out, descr, false, shape);
  const std::int64_t n = array.size();
  std::vector<char> raw;
  auto put = [&](auto v) {
    const char* b = reinterpret_cast<const char*>(&v);
    raw.insert(raw.end(), b, b + sizeof(v));
  };
  for (std::int64_t i = 0; i < n; ++i) {
    switch (array.dtype) {
      case DType::f32: put(static_cast<float>(array.values[i])); break;
      case DType::f64: put(array.values[i]); break;
      case DType::f16: put(encode16(array.values[i], half_format)); break;
      case DType::bf16: put(encode16(array.values[i], bf16_format)); break;
      case DType::i32: put(static_cast<std::int32_t>(array.ints[i])); break;
      case DType::i64: put(array.ints[i]); break;
    }
  }
  out.write(raw.data(), static_cast<std::streamsize>(raw.size()));
  out.close();
  if (!out) throw Error("cannot write " + squote(file.path()) + ": write failed (disk full?)");
}

void write_npy_u8(PendingFile& file, const std::vector<std::int64_t>& shape, const std::vector<std::uint8_t>& bytes) {
  std::ofstream out(file.temp_path(), std::ios::binary | std::ios::trunc);
  if (!out) throw Error("cannot write " + squote(file.path()) + ": " + std::strerror(errno));
  std::vector<std::size_t> dims(shape.begin(), shape.end());
  xt::detail::write_header(out, "|u1", false, dims);
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  out.close();
  if (!out) throw Error("cannot write " + squote(file.path()) + ": write failed (disk full?)");
}

}  // namespace KokkosRopeTool
