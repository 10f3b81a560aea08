// SPDX-License-Identifier: Apache-2.0
// `kokkos-rope apply`: the library's rotation on q/k tensors read from .npy files.
#include "Common.hpp"

#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>
#include <optional>
#include <tuple>

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

std::string cache_dtype_name(CacheDType c, DType tensors) {
  switch (c) {
    case CacheDType::f8e4m3: return "float8_e4m3 (uint8 bits)";
    case CacheDType::f8e5m2: return "float8_e5m2 (uint8 bits)";
    default: return dtype_name(tensors);
  }
}

/// The --v tensor, --slots and the cache geometry; throws Error naming the flag.
void check_cache_flags(const ApplyOptions& o, Layout layout, const HostArray& q, const HostArray& k, std::int64_t tokens,
                       std::int64_t batch, std::int64_t seq, CacheJob& cache, HostArray& v) {
  v = read_tensor(o.v, "--v", o.bf16, layout);
  if (v.dtype != q.dtype)
    throw Error("--v: dtype " + dtype_name(v.dtype) + " differs from --q's " + dtype_name(q.dtype));
  bool same = v.shape.size() == k.shape.size();
  for (std::size_t i = 0; same && i + 1 < k.shape.size(); ++i) same = v.shape[i] == k.shape[i];
  if (!same)
    throw Error("shape mismatch: --v " + v.shape_string() + " and --k " + k.shape_string() +
                " must agree on everything but head_dim " + axes(layout));
  const std::size_t heads_axis = layout == Layout::bhsd ? 1 : layout == Layout::bshd ? 2 : 1;
  cache.kv_heads = k.shape[heads_axis];
  cache.head_dim = k.shape.back();
  cache.v_head_dim = v.shape.back();
  cache.v_shape = v.shape;

  if (o.cache_layout.empty() || o.cache_layout == "nhd") cache.hnd = false;
  else if (o.cache_layout == "hnd") cache.hnd = true;
  else throw Error("--cache-layout: unknown value '" + o.cache_layout + "' (expected nhd or hnd)");

  const std::string& cd = o.cache_dtype;
  if (cd == "float8_e4m3" || cd == "f8e4m3") cache.dtype = CacheDType::f8e4m3;
  else if (cd == "float8_e5m2" || cd == "f8e5m2") cache.dtype = CacheDType::f8e5m2;
  else if (cd.empty()) cache.dtype = CacheDType::same;
  else {
    const std::string full = cd == "f32" ? "float32" : cd == "f64" ? "float64" : cd == "f16" ? "float16"
                             : cd == "bf16" ? "bfloat16" : cd;
    if (full != "float32" && full != "float64" && full != "float16" && full != "bfloat16")
      throw Error("--cache-dtype: unknown value '" + cd +
                  "' (expected float32, float64, float16, bfloat16, float8_e4m3 or float8_e5m2)");
    if (full != dtype_name(q.dtype))
      throw Error("--cache-dtype: " + full + " differs from the tensors' " + dtype_name(q.dtype) +
                  " (a cache holds the tensors' dtype, float8_e4m3 or float8_e5m2)");
    cache.dtype = CacheDType::same;
  }
  const bool fp8 = cache.dtype != CacheDType::same;
  for (const auto& [flag, value, out] :
       {std::tuple{"--k-scale", o.k_scale, &cache.k_scale}, std::tuple{"--v-scale", o.v_scale, &cache.v_scale}}) {
    if (!value) continue;
    if (!fp8)
      throw Error(std::string(flag) + " applies to fp8 caches only (--cache-dtype float8_e4m3 or float8_e5m2)");
    const auto f = static_cast<float>(*value);
    if (!(f > 0.0f) || !std::isfinite(f))
      throw Error(std::string(flag) + ": invalid value " + std::to_string(*value) + ": must be finite and > 0");
    *out = f;
  }

  HostArray s = read_npy(o.slots, "--slots");
  if (s.dtype != DType::i64 && s.dtype != DType::i32)
    throw Error("--slots: '" + o.slots + "' has dtype " + dtype_name(s.dtype) + "; expected int64 or int32");
  const bool flat = s.shape == std::vector<std::int64_t>{tokens};
  const bool grid = layout != Layout::thd && s.shape == std::vector<std::int64_t>{batch, seq};
  if (!flat && !grid) {
    HostArray w;
    w.shape = {tokens};
    std::string want = w.shape_string() + " [tokens]";
    if (layout != Layout::thd) {
      w.shape = {batch, seq};
      want += " or " + w.shape_string() + " [batch, seq]";
    }
    throw Error("shape mismatch: --slots '" + o.slots + "' has shape " + s.shape_string() + ", expected " + want);
  }
  cache.slots = s.ints;

  if (o.block_size && *o.block_size < 1)
    throw Error("--block-size: invalid value " + std::to_string(*o.block_size) + ": must be > 0");
  if (o.num_blocks && *o.num_blocks < 1)
    throw Error("--num-blocks: invalid value " + std::to_string(*o.num_blocks) + ": must be > 0");
  cache.block_size = o.block_size.value_or(16);
  std::int64_t max_slot = -1;
  for (auto slot : cache.slots) max_slot = std::max(max_slot, slot);
  cache.num_blocks = o.num_blocks.value_or(std::max<std::int64_t>(1, max_slot / cache.block_size + 1));
  const std::int64_t capacity = cache.num_blocks * cache.block_size;
  std::map<std::int64_t, std::int64_t> owner;
  for (std::size_t t = 0; t < cache.slots.size(); ++t) {
    const std::int64_t slot = cache.slots[t];
    if (slot < 0) continue;
    if (slot >= capacity)
      throw Error("--slots: '" + o.slots + "': token " + std::to_string(t) + " has slot " + std::to_string(slot) +
                  ", past the cache's " + std::to_string(capacity) + " slots (" + std::to_string(cache.num_blocks) +
                  " blocks of " + std::to_string(cache.block_size) + ")");
    const auto [it, fresh] = owner.emplace(slot, static_cast<std::int64_t>(t));
    if (!fresh)
      throw Error("--slots: '" + o.slots + "': tokens " + std::to_string(it->second) + " and " + std::to_string(t) +
                  " share slot " + std::to_string(slot) + " (their cache writes would race)");
  }
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
  // Paged KV cache output (rotate_and_cache): the flags that need it, and what it needs.
  const bool cache_mode = !o.k_cache_out.empty() || !o.v_cache_out.empty();
  if (cache_mode) {
    if (o.k_cache_out.empty() || o.v_cache_out.empty())
      throw Error("--k-cache-out and --v-cache-out go together (the paged cache's key and value blocks)");
    if (o.k.empty() || o.v.empty() || o.slots.empty())
      throw Error("--k-cache-out needs --k, --v and --slots (the tokens to cache and the slot of each)");
    if (!o.out_k.empty())
      throw Error("--out-k and --k-cache-out are mutually exclusive (the rotated k goes into the cache)");
  } else {
    const char* stray = !o.v.empty() ? "--v"
                        : !o.slots.empty() ? "--slots"
                        : !o.cache_layout.empty() ? "--cache-layout"
                        : !o.cache_dtype.empty() ? "--cache-dtype"
                        : o.block_size ? "--block-size"
                        : o.num_blocks ? "--num-blocks"
                        : o.k_scale ? "--k-scale"
                        : o.v_scale ? "--v-scale"
                                    : nullptr;
    if (stray) throw Error(std::string(stray) + " needs --k-cache-out and --v-cache-out (a paged cache output)");
  }
  if (!o.k.empty() && o.out_k.empty() && !cache_mode) throw Error("--out-k: an output path is required with --k");
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

  CacheJob cache;
  HostArray v;
  if (cache_mode) check_cache_flags(o, layout, q, k, tokens, batch, seq, cache, v);

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

  if (cache_mode) {
    PendingFile q_file(o.out_q), kc_file(o.k_cache_out), vc_file(o.v_cache_out);
    HostArray q_out;
    q_out.dtype = q.dtype;
    q_out.shape = q.shape;
    CacheResult result;
    ensure_kokkos();
    try {
      run_rotation_and_cache(space, job, cache, q.values, k.values, v.values, q_out.values, result);
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {
      throw Error(std::string("rotate_and_cache failed: ") + e.what());
    }
    write_npy(q_file, q_out);
    if (cache.dtype == CacheDType::same) {
      HostArray kc, vc;
      kc.dtype = vc.dtype = q.dtype;
      kc.shape = result.k_shape;
      vc.shape = result.v_shape;
      kc.values = std::move(result.k);
      vc.values = std::move(result.v);
      write_npy(kc_file, kc);
      write_npy(vc_file, vc);
    } else {
      write_npy_u8(kc_file, result.k_shape, result.k_bits);
      write_npy_u8(vc_file, result.v_shape, result.v_bits);
    }
    q_file.commit();
    kc_file.commit();
    vc_file.commit();
    std::int64_t cached = 0;
    for (auto s : cache.slots) cached += s >= 0;
    HostArray shown;
    shown.shape = result.k_shape;
    std::cout << "rotated " << (o.backward ? "backward" : "forward") << " on " << spaces[space] << ": " << o.out_q << " "
              << q_out.shape_string() << "; cached " << cached << " of " << cache.slots.size() << " tokens: "
              << o.k_cache_out << " " << shown.shape_string();
    shown.shape = result.v_shape;
    std::cout << ", " << o.v_cache_out << " " << shown.shape_string() << " ("
              << cache_dtype_name(cache.dtype, q.dtype) << ", " << (cache.hnd ? "hnd" : "nhd") << ", block size "
              << cache.block_size << ") (" << dtype_name(q.dtype) << ", " << layout_name(layout);
    if (model.layer_type.size()) std::cout << ", layer type " << model.layer_type;
    if (job.mrope) std::cout << ", multimodal positions";
    std::cout << ")\n";
    return 0;
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
