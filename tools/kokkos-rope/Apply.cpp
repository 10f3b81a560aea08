// SPDX-License-Identifier: Apache-2.0
// `kokkos-rope apply`: the library's rotation on q/k tensors read from .npy files.
#include "Common.hpp"

#include <iostream>
#include <optional>

namespace KokkosRopeTool {

namespace {

bool is_float(DType d) { return d == DType::f32 || d == DType::f64 || d == DType::f16 || d == DType::bf16; }

std::string axes(Layout layout) {
  switch (layout) {
    case Layout::bshd: return "[batch, seq, heads, head_dim]";
    case Layout::bhsd: return "[batch, heads, seq, head_dim]";
    case Layout::thd: return "[tokens, heads, head_dim]";
  }
  return "";
}

HostArray read_tensor(const std::string& path, const char* flag, bool bf16, Layout layout) {
  HostArray a = read_npy(path, flag, bf16);
  if (!is_float(a.dtype))
    throw Error(std::string(flag) + ": '" + path + "' has dtype " + dtype_name(a.dtype) +
                "; expected float32, float64, float16 or bfloat16 (uint16 with --bf16)");
  if (bf16 && a.dtype != DType::bf16)
    throw Error(std::string(flag) + ": '" + path + "' is " + dtype_name(a.dtype) +
                ", but --bf16 says the tensors are bfloat16 stored as uint16");
  const std::size_t rank = layout == Layout::thd ? 3 : 4;
  if (a.shape.size() != rank)
    throw Error(std::string(flag) + ": '" + path + "' has shape " + a.shape_string() + "; layout " +
                layout_name(layout) + " needs rank " + std::to_string(rank) + " " + axes(layout));
  return a;
}

std::vector<std::int64_t> read_ints(const std::string& path, const char* flag) {
  HostArray a = read_npy(path, flag);
  if (a.dtype != DType::i64 && a.dtype != DType::i32)
    throw Error(std::string(flag) + ": '" + path + "' has dtype " + dtype_name(a.dtype) + "; expected int64 or int32");
  return a.ints;
}

}  // namespace

int run_apply(const ParamOptions& param_options, const ApplyOptions& o) {
  const std::string& space_name = o.space;
  const ModelInfo model = resolve_params(param_options);
  const Layout layout = parse_layout(o.layout);
  RotationJob job;
  job.params = model.params;
  job.precision = parse_precision(o.precision);
  job.seq_len = param_options.seq_len;
  job.layout = layout;
  job.backward = o.backward;
  if (o.out_q.empty()) throw Error("--out-q: an output path is required");
  if (!o.k.empty() && o.out_k.empty()) throw Error("--out-k: an output path is required with --k");
  if (o.k.empty() && !o.out_k.empty()) throw Error("--out-k given without --k");
  if (!o.positions.empty() && o.offset) throw Error("--positions and --offset are mutually exclusive");
  if (o.offset && *o.offset < 0) throw Error("--offset: invalid value " + std::to_string(*o.offset) + ": must be >= 0");
  if (!o.cu_seqlens.empty() && layout != Layout::thd) throw Error("--cu-seqlens needs --layout thd");

  const HostArray q = read_tensor(o.q, "--q", o.bf16, layout);
  HostArray k;
  if (!o.k.empty()) {
    k = read_tensor(o.k, "--k", o.bf16, layout);
    if (k.dtype != q.dtype)
      throw Error("--k: dtype " + dtype_name(k.dtype) + " differs from --q's " + dtype_name(q.dtype));
    const bool same = layout == Layout::thd
                          ? (k.shape[0] == q.shape[0] && k.shape[2] == q.shape[2])
                          : (k.shape[0] == q.shape[0] && k.shape[3] == q.shape[3] &&
                             (layout == Layout::bshd ? k.shape[1] == q.shape[1] : k.shape[2] == q.shape[2]));
    if (!same)
      throw Error("shape mismatch: --k " + k.shape_string() + " and --q " + q.shape_string() +
                  " must agree on everything but heads " + axes(layout));
  }
  job.dtype = q.dtype;
  job.q_shape = q.shape;
  job.k_shape = k.shape;
  const std::int64_t head_dim = q.shape.back();
  if (head_dim != model.params.head_dim)
    throw Error("shape mismatch: --q head_dim (last axis) is " + std::to_string(head_dim) + ", the RoPE config's head_dim is " +
                std::to_string(model.params.head_dim));

  // Sequences and their token ranges in token order.
  std::int64_t batch = 0, seq = 0, tokens = 0;
  if (layout == Layout::thd) {
    tokens = q.shape[0];
    if (!o.cu_seqlens.empty()) {
      job.cu_seqlens = read_ints(o.cu_seqlens, "--cu-seqlens");
      const auto& cu = job.cu_seqlens;
      if (cu.size() < 2 || cu.front() != 0 || cu.back() != tokens)
        throw Error("--cu-seqlens: '" + o.cu_seqlens + "' must hold batch + 1 >= 2 offsets from 0 to the token count " +
                    std::to_string(tokens));
      for (std::size_t b = 0; b + 1 < cu.size(); ++b)
        if (cu[b + 1] < cu[b]) throw Error("--cu-seqlens: '" + o.cu_seqlens + "' decreases at entry " + std::to_string(b + 1));
    } else {
      job.cu_seqlens = {0, tokens};
    }
  } else {
    batch = q.shape[0];
    seq = layout == Layout::bshd ? q.shape[1] : q.shape[2];
    tokens = batch * seq;
  }

  if (!o.positions.empty()) {
    HostArray p = read_npy(o.positions, "--positions");
    if (p.dtype != DType::i64 && p.dtype != DType::i32)
      throw Error("--positions: '" + o.positions + "' has dtype " + dtype_name(p.dtype) + "; expected int64 or int32");
    std::vector<std::int64_t> want = layout == Layout::thd ? std::vector<std::int64_t>{tokens}
                                                           : std::vector<std::int64_t>{batch, seq};
    std::vector<std::int64_t> want3 = want;
    want3.insert(want3.begin(), 3);
    if (p.shape == want3) {
      if (!model.mrope)
        throw Error("--positions: '" + o.positions + "' has three streams " + p.shape_string() +
                    " (multimodal RoPE), but no mrope_section is known: give a config with one, or --mrope-section");
      job.mrope = model.mrope;
    } else if (p.shape != want) {
      HostArray w, w3;
      w.shape = want;
      w3.shape = want3;
      throw Error("shape mismatch: --positions '" + o.positions + "' has shape " + p.shape_string() + ", expected " +
                  w.shape_string() + (layout == Layout::thd ? " [tokens]" : " [batch, seq]") + " or, multimodal, " +
                  w3.shape_string());
    }
    for (auto v : p.ints)
      if (v < 0) throw Error("--positions: '" + o.positions + "' holds a negative position (" + std::to_string(v) + ")");
    job.positions = p.ints;
  } else {
    const std::int64_t offset = o.offset.value_or(0);
    job.positions.resize(static_cast<std::size_t>(tokens));
    if (layout == Layout::thd) {
      for (std::size_t b = 0; b + 1 < job.cu_seqlens.size(); ++b)
        for (std::int64_t t = job.cu_seqlens[b]; t < job.cu_seqlens[b + 1]; ++t)
          job.positions[t] = offset + (t - job.cu_seqlens[b]);
    } else {
      for (std::int64_t b = 0; b < batch; ++b)
        for (std::int64_t s = 0; s < seq; ++s) job.positions[b * seq + s] = offset + s;
    }
  }

  const auto spaces = enabled_spaces();
  int space = 0;
  if (!space_name.empty()) {
    space = -1;
    for (std::size_t i = 0; i < spaces.size(); ++i)
      if (spaces[i] == space_name) space = static_cast<int>(i);
    if (space < 0) {
      std::string list;
      for (const auto& s : spaces) list += (list.empty() ? "" : ", ") + s;
      throw Error("--space: '" + space_name + "' is not enabled in this build (enabled: " + list + ")");
    }
  }

  PendingFile q_file(o.out_q);
  std::optional<PendingFile> k_file;
  if (!o.k.empty()) k_file.emplace(o.out_k);
  HostArray q_out, k_out;
  q_out.dtype = k_out.dtype = q.dtype;
  q_out.shape = q.shape;
  k_out.shape = k.shape;
  ensure_kokkos();
  try {
    run_rotation(space, job, q.values, k.values, q_out.values, k_out.values);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Error(std::string("rotation failed: ") + e.what());
  }
  write_npy(q_file, q_out);
  if (k_file) write_npy(*k_file, k_out);
  q_file.commit();
  if (k_file) k_file->commit();
  std::cout << "rotated " << (o.backward ? "backward" : "forward") << " on " << spaces[space] << ": " << o.out_q << " "
            << q_out.shape_string();
  if (k_file) std::cout << ", " << o.out_k << " " << k_out.shape_string();
  std::cout << " (" << dtype_name(q.dtype) << ", " << layout_name(layout);
  if (model.layer_type.size()) std::cout << ", layer type " << model.layer_type;
  if (job.mrope) std::cout << ", multimodal positions";
  std::cout << ")\n";
  return 0;
}

}  // namespace KokkosRopeTool
