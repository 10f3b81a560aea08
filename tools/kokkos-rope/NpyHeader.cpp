// SPDX-License-Identifier: Apache-2.0
// The .npy header of kokkos-rope's reader (see NpyHeader.hpp), after NumPy's format spec
// (numpy.lib.format): magic "\x93NUMPY", major and minor version, the header length (2 bytes
// little-endian in 1.0, 4 in 2.0 and 3.0), then a Python dict literal with 'descr',
// 'fortran_order' and 'shape' ending in '\n'. It used to be decoded by xtensor's detail
// functions (xtensor/xnpy.hpp), which fuzz_npy showed to be unsafe on untrusted input: they read
// the length bytes as signed char (a 1.0 header of 128..255 bytes, e.g. a rank-24 array, is read
// as 65k+ bytes; a 3.0 length byte >= 0x80 allocates 4 GiB), allocate the claimed length before
// looking at the file, and call std::string::back() on empty strings (header "\n", an empty
// shape value): undefined behaviour. tests/fuzz/regressions/npy holds those inputs.
#include "NpyHeader.hpp"

#include <cstring>
#include <limits>

namespace KokkosRopeTool {

std::string dtype_name(DType dtype) {
  switch (dtype) {
    case DType::f32: return "float32";
    case DType::f64: return "float64";
    case DType::f16: return "float16";
    case DType::bf16: return "bfloat16";
    case DType::i32: return "int32";
    case DType::i64: return "int64";
  }
  return "?";
}

namespace {

std::string squote(const std::string& s) { return "'" + s + "'"; }

// The header dict: a Python literal as NumPy writes it ({'descr': '<f4', 'fortran_order':
// False, 'shape': (2, 3), }), keys in any order, each once; anything else is an error.
class DictParser {
 public:
  explicit DictParser(std::string_view text) : m_s(text) {}

  void parse(std::string& descr, bool& fortran_order, std::vector<std::int64_t>& shape) {
    bool have_descr = false, have_fortran = false, have_shape = false;
    expect('{');
    while (!eat('}')) {
      const std::string key = string_literal();
      expect(':');
      if (key == "descr") {
        if (have_descr) fail("duplicate 'descr' key");
        descr = string_literal();
        have_descr = true;
      } else if (key == "fortran_order") {
        if (have_fortran) fail("duplicate 'fortran_order' key");
        if (word("True")) fortran_order = true;
        else if (word("False")) fortran_order = false;
        else fail("invalid fortran_order value");
        have_fortran = true;
      } else if (key == "shape") {
        if (have_shape) fail("duplicate 'shape' key");
        shape = tuple();
        have_shape = true;
      } else {
        fail("unknown key '" + key + "'");
      }
      if (!eat(',')) {
        expect('}');
        break;
      }
    }
    skip_space();
    if (m_i != m_s.size()) fail("text after the header dict");
    if (!have_descr) fail("missing 'descr' key");
    if (!have_fortran) fail("missing 'fortran_order' key");
    if (!have_shape) fail("missing 'shape' key");
  }

 private:
  [[noreturn]] static void fail(const std::string& why) { throw std::runtime_error(why); }
  void skip_space() {
    while (m_i < m_s.size() && (m_s[m_i] == ' ' || m_s[m_i] == '\t' || m_s[m_i] == '\n' || m_s[m_i] == '\r')) ++m_i;
  }
  bool eat(char c) {
    skip_space();
    if (m_i < m_s.size() && m_s[m_i] == c) {
      ++m_i;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) fail(std::string("expected '") + c + "' at byte " + std::to_string(m_i));
  }
  bool word(std::string_view w) {
    skip_space();
    if (m_s.substr(m_i, w.size()) != w) return false;
    m_i += w.size();
    return true;
  }
  std::string string_literal() {
    skip_space();
    if (m_i >= m_s.size() || (m_s[m_i] != '\'' && m_s[m_i] != '"'))
      fail("expected a string at byte " + std::to_string(m_i));
    const char quote = m_s[m_i++];
    const auto end = m_s.find(quote, m_i);
    if (end == std::string_view::npos) fail("unterminated string");
    std::string out(m_s.substr(m_i, end - m_i));
    m_i = end + 1;
    return out;
  }
  // (d0, d1, ...) of non-negative decimal integers; (), (n,) and (n) are accepted.
  std::vector<std::int64_t> tuple() {
    std::vector<std::int64_t> out;
    expect('(');
    while (!eat(')')) {
      skip_space();
      std::int64_t v = 0;
      std::size_t digits = 0;
      while (m_i < m_s.size() && m_s[m_i] >= '0' && m_s[m_i] <= '9') {
        if (v > (std::numeric_limits<std::int64_t>::max() / 8 - 9) / 10) fail("shape too large");
        v = v * 10 + (m_s[m_i++] - '0');
        ++digits;
      }
      if (digits == 0) fail("invalid shape");
      out.push_back(v);
      if (!eat(',')) {
        expect(')');
        break;
      }
    }
    return out;
  }

  std::string_view m_s;
  std::size_t m_i = 0;
};

std::uint32_t little_endian(const unsigned char* p, int n) {
  std::uint32_t v = 0;
  for (int i = n - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string shape_string(const std::vector<std::int64_t>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

NpyHeader parse_npy_header(std::string_view bytes, const std::string& what, const std::string& path, bool bf16) {
  const std::string bad = what + ": " + squote(path) + " is not a valid .npy file";
  std::string descr;
  bool fortran_order = false;
  std::vector<std::int64_t> shape;
  std::int64_t data_offset = 0;
  try {
    constexpr char magic[] = "\x93NUMPY";
    if (bytes.size() < 8 || std::memcmp(bytes.data(), magic, 6) != 0)
      throw std::runtime_error("no .npy magic string");
    const auto* u = reinterpret_cast<const unsigned char*>(bytes.data());
    const int major = u[6], minor = u[7];
    if (major != 1 && major != 2 && major != 3)
      throw Error(bad + " (unsupported format version " + std::to_string(major) + "." + std::to_string(minor) + ")");
    const int length_bytes = major == 1 ? 2 : 4;
    if (bytes.size() < static_cast<std::size_t>(8 + length_bytes)) throw Error(bad + " (truncated header)");
    const std::uint32_t header_length = little_endian(u + 8, length_bytes);
    data_offset = 8 + length_bytes + static_cast<std::int64_t>(header_length);
    if (header_length == 0 || data_offset > static_cast<std::int64_t>(bytes.size())) throw Error(bad + " (truncated header)");
    const std::string_view header = bytes.substr(static_cast<std::size_t>(8 + length_bytes), header_length);
    if (header.back() != '\n') throw std::runtime_error("invalid header");
    DictParser(header).parse(descr, fortran_order, shape);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(bad + " (" + e.what() + ")");
  }

  NpyHeader out;
  out.fortran_order = fortran_order;
  if (descr.size() < 3 || (descr[0] != '<' && descr[0] != '|' && descr[0] != '='))
    throw Error(what + ": " + squote(path) + " has dtype " + squote(descr) +
                "; only little-endian float32, float64, float16, uint16 (bfloat16) and integer arrays are supported");
  const std::string kind = descr.substr(1);
  if (kind == "f4") out.dtype = DType::f32, out.word = 4;
  else if (kind == "f8") out.dtype = DType::f64, out.word = 8;
  else if (kind == "f2") out.dtype = DType::f16, out.word = 2;
  else if (kind == "u2" && bf16) out.dtype = DType::bf16, out.word = 2;
  else if (kind == "u2")
    throw Error(what + ": " + squote(path) + " is a uint16 array; pass --bf16 if it holds bfloat16 bit patterns");
  else if (kind == "i8") out.dtype = DType::i64, out.word = 8;
  else if (kind == "i4") out.dtype = DType::i32, out.word = 4;
  else
    throw Error(what + ": " + squote(path) + " has unsupported dtype " + squote(descr) +
                " (supported: float32, float64, float16, uint16 with --bf16, int32, int64)");
  if (fortran_order && shape.size() > 1)
    throw Error(what + ": " + squote(path) +
                " is Fortran-ordered; save a C-ordered array (numpy.ascontiguousarray)");

  std::int64_t count = 1;
  for (auto e : shape) {
    if (e != 0 && count > std::numeric_limits<std::int64_t>::max() / 8 / e)
      throw Error(bad + " (shape too large)");
    count *= e;
  }
  out.shape = shape;
  out.count = count;
  out.data_offset = data_offset;
  const std::int64_t data_bytes = count * out.word;
  const std::int64_t remaining = static_cast<std::int64_t>(bytes.size()) - out.data_offset;
  if (remaining != data_bytes)
    throw Error(bad + " (shape " + shape_string(out.shape) + " of " + dtype_name(out.dtype) + " needs " +
                std::to_string(data_bytes) + " data bytes, the file has " + std::to_string(remaining) + ")");
  return out;
}

}  // namespace KokkosRopeTool
