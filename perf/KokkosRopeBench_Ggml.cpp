// SPDX-License-Identifier: Apache-2.0
// ggml's CPU rope, measured side by side with the Kokkos variants (NeoX mode, Llama 3 frequency
// factors, one graph with q and k). Compiled only when CMake finds ggml; registers itself as the
// suite's peer (ggml_peer()) at static initialisation.
#include "KokkosRopeBench_Context.hpp"

#include <ggml-alloc.h>
#include <ggml-backend.h>
#include <ggml-cpu.h>
#include <ggml.h>

#include <cstring>
#include <stdexcept>

namespace KokkosRopeBench {

namespace {

struct GgmlRuntime {
  ggml_backend_t backend = nullptr;
  int threads = 1;
  std::string name;
};
GgmlRuntime& ggml_runtime() {
  static GgmlRuntime rt = [] {
    GgmlRuntime r;
    ggml_backend_load_all();
    r.backend = ggml_backend_init_by_type(GGML_BACKEND_DEVICE_TYPE_CPU, nullptr);
    if (r.backend == nullptr) throw std::runtime_error("ggml: no CPU backend could be loaded");
    r.threads = HostExec().concurrency();
    ggml_backend_reg_t reg = ggml_backend_dev_backend_reg(ggml_backend_get_device(r.backend));
    auto set_threads = reinterpret_cast<ggml_backend_set_n_threads_t>(
        ggml_backend_reg_get_proc_address(reg, "ggml_backend_set_n_threads"));
    if (set_threads == nullptr)
      throw std::runtime_error("ggml: the CPU backend has no ggml_backend_set_n_threads");
    set_threads(r.backend, r.threads);
    r.name = std::string(ggml_backend_name(r.backend)) + " (" +
             ggml_backend_dev_description(ggml_backend_get_device(r.backend)) + ")";
    return r;
  }();
  return rt;
}
void ggml_shutdown() {
  auto& rt = ggml_runtime();
  if (rt.backend) ggml_backend_free(rt.backend);
  rt.backend = nullptr;
}

/// Llama 3 as ggml applies it: theta_i = p * base^(-2i/d) / freq_factors[i]; the factors are the
/// ratio of unscaled to scaled inverse frequencies (what llama.cpp's converter writes to rope_freqs).
std::vector<float> llama3_freq_factors() {
  kr::Params plain = KokkosRopeTesting::llama31();
  plain.scaling = kr::NoScaling{};
  const auto base = kr::compute_frequencies(plain).inv_freq;
  const auto scaled = kr::compute_frequencies(KokkosRopeTesting::llama31()).inv_freq;
  std::vector<float> ff(base.size());
  for (std::size_t i = 0; i < ff.size(); ++i) ff[i] = static_cast<float>(base[i] / scaled[i]);
  return ff;
}

struct GgmlInstance : Instance {
  Case c;
  ggml_context* ctx = nullptr;
  ggml_backend_buffer_t buffer = nullptr;
  ggml_cgraph* graph = nullptr;
  ggml_tensor *q = nullptr, *k = nullptr, *rq = nullptr, *rk = nullptr;

  explicit GgmlInstance(const Case& cs) : c(cs) {
    auto& rt = ggml_runtime();
    ggml_init_params ip{ggml_tensor_overhead() * 16 + ggml_graph_overhead() + 4096, nullptr, true};
    ctx = ggml_init(ip);
    const ggml_type type = c.dtype == DType::f32 ? GGML_TYPE_F32 : GGML_TYPE_F16;
    const int D = c.model.head_dim;
    const std::int64_t T = c.tokens();  // decode: one token per sequence, its own position
    q = ggml_new_tensor_3d(ctx, type, D, c.model.q_heads, T);
    k = ggml_new_tensor_3d(ctx, type, D, c.model.kv_heads, T);
    ggml_tensor* pos = ggml_new_tensor_1d(ctx, GGML_TYPE_I32, T);
    ggml_tensor* ff = ggml_new_tensor_1d(ctx, GGML_TYPE_F32, D / 2);
    auto rope = c.in_place ? ggml_rope_ext_inplace : ggml_rope_ext;
    if (c.dir == kr::Direction::backward) throw std::invalid_argument("ggml variant: forward only");
    const kr::Params llama = KokkosRopeTesting::llama31();
    const int n_ctx = static_cast<int>(llama.max_position_embeddings);
    const float base = static_cast<float>(llama.theta);
    rq = rope(ctx, q, pos, ff, D, GGML_ROPE_TYPE_NEOX, n_ctx, base, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f);
    rk = rope(ctx, k, pos, ff, D, GGML_ROPE_TYPE_NEOX, n_ctx, base, 1.0f, 0.0f, 1.0f, 0.0f, 0.0f);
    graph = ggml_new_graph(ctx);
    ggml_build_forward_expand(graph, rq);
    ggml_build_forward_expand(graph, rk);
    buffer = ggml_backend_alloc_ctx_tensors(ctx, rt.backend);
    if (buffer == nullptr) throw std::runtime_error("ggml: tensor allocation failed");
    fill_tensor(q, seed_q);
    fill_tensor(k, seed_k);
    auto* p = static_cast<std::int32_t*>(pos->data);
    for (std::int64_t t = 0; t < T; ++t) p[t] = static_cast<std::int32_t>(c.position(t / c.seq, t % c.seq));
    const auto factors = llama3_freq_factors();
    std::memcpy(ff->data, factors.data(), factors.size() * sizeof(float));
  }
  ~GgmlInstance() override {
    if (buffer) ggml_backend_buffer_free(buffer);
    if (ctx) ggml_free(ctx);
  }
  void fill_tensor(ggml_tensor* t, std::uint64_t seed) {
    const std::int64_t n = ggml_nelements(t);
    const bool f16 = t->type == GGML_TYPE_F16;
    void* data = t->data;
    const std::int64_t chunk = 4096;
    Kokkos::parallel_for(
        "KokkosRope::bench::ggml_fill",
        Kokkos::RangePolicy<HostExec, Kokkos::IndexType<std::int64_t>>(0, (n + chunk - 1) / chunk),
        [=](std::int64_t ci) {
          float buf[4096];
          const std::int64_t first = ci * chunk, len = std::min(chunk, n - first);
          for (std::int64_t j = 0; j < len; ++j) buf[j] = KokkosRopeTesting::fill_value(first + j, seed);
          if (f16)
            ggml_fp32_to_fp16_row(buf, static_cast<ggml_fp16_t*>(data) + first, len);
          else
            std::memcpy(static_cast<float*>(data) + first, buf, len * sizeof(float));
        });
    HostExec().fence("KokkosRope::bench::ggml_fill");
  }
  static std::vector<double> read(const ggml_tensor* t) {
    const std::int64_t n = ggml_nelements(t);
    std::vector<float> f(n);
    if (t->type == GGML_TYPE_F16)
      ggml_fp16_to_fp32_row(static_cast<const ggml_fp16_t*>(t->data), f.data(), n);
    else
      std::memcpy(f.data(), t->data, n * sizeof(float));
    return std::vector<double>(f.begin(), f.end());
  }
  void run() override {
    if (ggml_backend_graph_compute(ggml_runtime().backend, graph) != GGML_STATUS_SUCCESS)
      throw std::runtime_error("ggml: graph compute failed");
  }
  TensorBuffers buffers() override {
    // Host memory: asked for only where Exec reaches it (lends_tensors).
    if (c.in_place) return {q->data, k->data};
    return {q->data, k->data, rq->data, rk->data};
  }
  std::vector<double> result_q() override { return read(rq); }
  std::vector<double> result_k() override { return read(rk); }
  void capture_inputs() override {
    in_q = read(q);
    in_k = read(k);
  }
};
}  // namespace

// Registration: the suite measures ggml when this file is part of the build.
[[maybe_unused]] const bool ggml_registered = [] {
  ggml_peer() =
      Peer{[](const Case& c) -> std::unique_ptr<Instance> { return std::make_unique<GgmlInstance>(c); },
           [] {
             // The ggml library loaded at run time, which may differ from the one CMake found.
             benchmark::AddCustomContext("ggml_version", std::string(ggml_version()) + " (" + ggml_commit() + ")");
             benchmark::AddCustomContext("ggml_backend", ggml_runtime().name);
             benchmark::AddCustomContext("ggml_threads", std::to_string(ggml_runtime().threads));
           },
           [] { ggml_shutdown(); }};
  return true;
}();

}  // namespace KokkosRopeBench
