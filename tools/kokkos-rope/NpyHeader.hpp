// SPDX-License-Identifier: Apache-2.0
/// \file NpyHeader.hpp
/// The part of kokkos-rope's .npy reader that trusts nothing: the header of a file's bytes
/// checked and decoded, without Kokkos, so that tests/fuzz can feed it arbitrary bytes.
#ifndef KOKKOSROPE_TOOLS_NPYHEADER_HPP
#define KOKKOSROPE_TOOLS_NPYHEADER_HPP

#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace KokkosRopeTool {

/// A user-facing error: printed as one line on stderr, exit status 1.
struct Error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

/// Element types of the tensors the tool reads and writes.
enum class DType { f32, f64, f16, bf16, i32, i64 };
std::string dtype_name(DType dtype);

/// What a .npy header says, checked against the bytes that follow it.
struct NpyHeader {
  DType dtype = DType::f32;
  std::vector<std::int64_t> shape;
  bool fortran_order = false;  ///< only for rank <= 1 (a Fortran-ordered matrix is rejected)
  std::int64_t data_offset = 0;  ///< where the data starts in the file
  std::int64_t count = 0;        ///< elements
  std::int64_t word = 0;         ///< bytes per element
};

/// Parses the header of a .npy file whose complete contents are `bytes` (magic, version 1.0 /
/// 2.0 / 3.0, header length, the Python-dict header), and checks that the data that follows has
/// exactly count * word bytes. Throws Error (never anything else) naming `what` (the flag,
/// "--q") and `path` for every malformed, unsupported or inconsistent input. `bf16`: accept
/// uint16 as bfloat16 bit patterns.
NpyHeader parse_npy_header(std::string_view bytes, const std::string& what, const std::string& path,
                           bool bf16);

}  // namespace KokkosRopeTool

#endif
