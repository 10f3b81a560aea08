// SPDX-License-Identifier: Apache-2.0
// Fuzz target: the .npy header parser of kokkos-rope (parse_npy_header, the code read_npy runs on
// a file's bytes). The only acceptable failure is KokkosRopeTool::Error; whatever it accepts must
// describe exactly the bytes that follow the header.
#include "NpyHeader.hpp"

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  for (const bool bf16 : {false, true}) {
    try {
      const auto h = KokkosRopeTool::parse_npy_header(bytes, "--q", "fuzz.npy", bf16);
      std::int64_t count = 1;
      for (auto e : h.shape) {
        if (e < 0) __builtin_trap();
        count *= e;
      }
      if (count != h.count || h.word <= 0 || h.data_offset < 10 ||
          h.data_offset + h.count * h.word != static_cast<std::int64_t>(size))
        __builtin_trap();
      if (h.fortran_order && h.shape.size() > 1) __builtin_trap();
    } catch (const KokkosRopeTool::Error&) {
    }
  }
  return 0;
}
