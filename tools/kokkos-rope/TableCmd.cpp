// SPDX-License-Identifier: Apache-2.0
// `kokkos-rope table`: the cos/sin table as a .npy [positions, 2, rotary_dim / 2].
#include "Common.hpp"

#include <KokkosRope/Sources.hpp>

#include <algorithm>
#include <iostream>

namespace KokkosRopeTool {

using namespace KokkosRope;

namespace {

std::int64_t parse_int(const std::string& text, const std::string& what) {
  std::size_t used = 0;
  long long v = 0;
  try {
    v = std::stoll(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size()) throw Error(what + ": '" + text + "' is not an integer");
  return v;
}

// `max_positions`: the largest table the library builds (2^40 entries / pairs), checked before
// anything is allocated.
std::vector<std::int64_t> parse_positions(const std::string& spec, std::int64_t max_positions) {
  const bool is_file = spec.size() > 4 && spec.compare(spec.size() - 4, 4, ".npy") == 0;
  if (!is_file) {
    const auto colon = spec.find(':');
    if (colon == std::string::npos)
      throw Error("--positions: '" + spec + "' is neither START:STOP nor a .npy file of int64 positions");
    const std::int64_t start = parse_int(spec.substr(0, colon), "--positions start");
    const std::int64_t stop = parse_int(spec.substr(colon + 1), "--positions stop");
    if (start < 0 || stop <= start)
      throw Error("--positions: invalid range " + spec + ": need 0 <= START < STOP");
    if (stop > max_positions)
      throw Error("--positions: invalid range " + spec + ": STOP must be <= " + std::to_string(max_positions) +
                  " (a table of at most 2^40 entries)");
    std::vector<std::int64_t> p(static_cast<std::size_t>(stop - start));
    for (std::int64_t i = 0; i < stop - start; ++i) p[i] = start + i;
    return p;
  }
  HostArray a = read_npy(spec, "--positions");
  if (a.dtype != DType::i64 && a.dtype != DType::i32)
    throw Error("--positions: '" + spec + "' has dtype " + dtype_name(a.dtype) + ", expected int64 or int32");
  if (a.shape.size() != 1)
    throw Error("--positions: '" + spec + "' has shape " + a.shape_string() + ", expected a 1-d array");
  if (a.ints.empty()) throw Error("--positions: '" + spec + "' is empty");
  for (auto p : a.ints)
    if (p < 0) throw Error("--positions: '" + spec + "' holds a negative position (" + std::to_string(p) + ")");
  return a.ints;
}

template <class Real>
void fill(const Params& params, const std::vector<std::int64_t>& positions, Precision precision,
          std::optional<std::int64_t> seq_len, HostArray& out, double& attention_factor) {
  const std::int64_t count = *std::max_element(positions.begin(), positions.end()) + 1;
  Kokkos::DefaultExecutionSpace space;
  Table<Kokkos::DefaultExecutionSpace::memory_space, Real> table(space, params, count, precision, seq_len);
  auto cos = Kokkos::create_mirror_view(Kokkos::WithoutInitializing, table.cos());
  auto sin = Kokkos::create_mirror_view(Kokkos::WithoutInitializing, table.sin());
  Kokkos::deep_copy(space, cos, table.cos());
  Kokkos::deep_copy(space, sin, table.sin());
  space.fence("kokkos-rope table: download");
  const std::int64_t pairs = params.num_pairs();
  out.values.resize(positions.size() * 2 * pairs);
  for (std::size_t i = 0; i < positions.size(); ++i)
    for (std::int64_t j = 0; j < pairs; ++j) {
      out.values[(i * 2 + 0) * pairs + j] = cos(positions[i], j);
      out.values[(i * 2 + 1) * pairs + j] = sin(positions[i], j);
    }
  out.shape = {static_cast<std::int64_t>(positions.size()), 2, pairs};
  attention_factor = table.attention_factor();
}

}  // namespace

int run_table(const ParamOptions& param_options, const TableOptions& options) {
  const ModelInfo model = resolve_params(param_options);
  const Precision precision = parse_precision(options.precision);
  DType dtype;
  if (options.dtype == "float32") dtype = DType::f32;
  else if (options.dtype == "float64") dtype = DType::f64;
  else throw Error("--dtype: unknown value '" + options.dtype + "' (expected float32 or float64)");
  if (options.out.empty()) throw Error("--out: an output .npy path is required");
  const std::vector<std::int64_t> positions =
      parse_positions(options.positions, (std::int64_t(1) << 40) / std::max(model.params.num_pairs(), 1));

  PendingFile file(options.out);
  HostArray out;
  out.dtype = dtype;
  double attention_factor = 1.0;
  ensure_kokkos();
  try {
    if (dtype == DType::f32) fill<float>(model.params, positions, precision, param_options.seq_len, out, attention_factor);
    else fill<double>(model.params, positions, precision, param_options.seq_len, out, attention_factor);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(std::string("cannot build the table: ") + e.what());
  }
  write_npy(file, out);
  file.commit();
  std::cout << "wrote " << options.out << ": " << out.shape_string() << " " << dtype_name(dtype)
            << " (cos, sin; attention factor " << attention_factor << " included"
            << (model.layer_type.empty() ? std::string() : "; layer type " + model.layer_type) << ")\n";
  return 0;
}

}  // namespace KokkosRopeTool
