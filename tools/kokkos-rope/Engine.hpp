// SPDX-License-Identifier: Apache-2.0
// The rotation engine: host arrays -> Views in an execution space's memory -> rotate_copy ->
// host arrays. Included by one translation unit per element type (Engine_<type>.cpp).
#ifndef KOKKOSROPE_TOOLS_ENGINE_HPP
#define KOKKOSROPE_TOOLS_ENGINE_HPP

#include "Common.hpp"

#include <KokkosRope/Fp8.hpp>
#include <KokkosRope/Rotate.hpp>
#include <KokkosRope/RotateAndCache.hpp>

#include <type_traits>

namespace KokkosRopeTool {

/// The type of an execution space, passed where an instance may not exist yet (before
/// Kokkos::initialize).
template <class Space>
struct SpaceType {
  using type = Space;
};

/// Calls f(SpaceType<S>{}) for each execution space S of this build, in a fixed order, until f
/// returns true. The one list of spaces: enabled_spaces() and with_space() both walk it.
template <class F>
void for_each_space(F&& f) {
#ifdef KOKKOS_ENABLE_CUDA
  if (f(SpaceType<Kokkos::Cuda>{})) return;
#endif
#ifdef KOKKOS_ENABLE_HIP
  if (f(SpaceType<Kokkos::HIP>{})) return;
#endif
#ifdef KOKKOS_ENABLE_SYCL
  if (f(SpaceType<Kokkos::SYCL>{})) return;
#endif
#ifdef KOKKOS_ENABLE_OPENMP
  if (f(SpaceType<Kokkos::OpenMP>{})) return;
#endif
#ifdef KOKKOS_ENABLE_THREADS
  if (f(SpaceType<Kokkos::Threads>{})) return;
#endif
#ifdef KOKKOS_ENABLE_SERIAL
  if (f(SpaceType<Kokkos::Serial>{})) return;
#endif
}

/// Calls f with an instance of the execution space number `index` of for_each_space's order.
template <class F>
void with_space(int index, F&& f) {
  int i = 0;
  bool found = false;
  for_each_space([&](auto tag) {
    if (i++ != index) return false;
    f(typename decltype(tag)::type{});
    found = true;
    return true;
  });
  if (!found) throw Error("internal: no execution space with index " + std::to_string(index));
}

// Device value <-> double (16-bit types go through float, exactly as a framework would cast).
template <class T>
KOKKOS_INLINE_FUNCTION T from_double(double v) {
  if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) return static_cast<T>(v);
  else return static_cast<T>(static_cast<float>(v));
}
template <class T>
double to_double(T v) {
  if constexpr (std::is_same_v<T, double> || std::is_same_v<T, float>) return static_cast<double>(v);
  else return static_cast<double>(static_cast<float>(v));
}

template <class T, class Space, class View>
void upload_values(const Space& space, const View& view, const std::vector<double>& values) {
  auto host = Kokkos::create_mirror_view(Kokkos::WithoutInitializing, view);
  T* data = host.data();
  for (std::size_t i = 0; i < values.size(); ++i) data[i] = from_double<T>(values[i]);
  Kokkos::deep_copy(space, view, host);
  space.fence("kokkos-rope: upload");  // the host mirror dies at return
}

/// Indices (positions, cu_seqlens, slots) in a View of the space's memory; `host` outlives the
/// copy (the callers' jobs hold it until their fence).
template <class Space>
Kokkos::View<std::int64_t*, typename Space::memory_space> upload_indices(const Space& space, const std::string& label,
                                                                         const std::vector<std::int64_t>& host) {
  Kokkos::View<std::int64_t*, typename Space::memory_space> view(
      Kokkos::view_alloc(space, Kokkos::WithoutInitializing, label), host.size());
  Kokkos::deep_copy(space, view, Kokkos::View<const std::int64_t*, Kokkos::HostSpace>(host.data(), host.size()));
  return view;
}

template <class T, class Space, class View>
void download_values(const Space& space, const View& view, std::vector<double>& values) {
  auto host = Kokkos::create_mirror_view(Kokkos::WithoutInitializing, view);
  Kokkos::deep_copy(space, host, view);
  space.fence("kokkos-rope: download");
  values.resize(view.size());
  const T* data = host.data();
  for (std::size_t i = 0; i < values.size(); ++i) values[i] = to_double<T>(data[i]);
}

template <class Space, class T>
void run_in_space(const Space& space, const RotationJob& job, const std::vector<double>& q,
                  const std::vector<double>& k, std::vector<double>& q_out, std::vector<double>& k_out) {
  using Mem = typename Space::memory_space;
  using namespace KokkosRope;
  const bool has_k = !job.k_shape.empty();
  RotateOptions options;
  options.direction = job.backward ? Direction::backward : Direction::forward;
  OnTheFly<Mem> source(space, job.params, job.precision, job.seq_len);
  auto ext = [](const std::vector<std::int64_t>& s, std::size_t i) { return static_cast<std::size_t>(s[i]); };
  // The positions in the job's order (one block, or three for multimodal RoPE), alive until the
  // fence after the rotation; each call views them with the rank it needs.
  const auto positions = upload_indices(space, "kokkos-rope::positions", job.positions);
  using Unmanaged = Kokkos::MemoryTraits<Kokkos::Unmanaged>;

  if (job.layout == Layout::thd) {
    using V = Kokkos::View<T***, Kokkos::LayoutRight, Mem>;
    const auto& qs = job.q_shape;
    std::vector<std::int64_t> ks = has_k ? job.k_shape : std::vector<std::int64_t>{qs[0], 0, qs[2]};
    V qv(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "kokkos-rope::q"), ext(qs, 0), ext(qs, 1), ext(qs, 2));
    V kv(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "kokkos-rope::k"), ext(ks, 0), ext(ks, 1), ext(ks, 2));
    V qo(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "kokkos-rope::q_out"), ext(qs, 0), ext(qs, 1), ext(qs, 2));
    V ko(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "kokkos-rope::k_out"), ext(ks, 0), ext(ks, 1), ext(ks, 2));
    const auto cu = upload_indices(space, "kokkos-rope::cu_seqlens", job.cu_seqlens);
    upload_values<T>(space, qv, q);
    if (has_k) upload_values<T>(space, kv, k);
    if (job.mrope)
      rotate_copy(space, packed(cu), qv, kv, qo, ko, source,
                  multimodal_positions(Kokkos::View<std::int64_t**, Kokkos::LayoutRight, Mem, Unmanaged>(
                                           positions.data(), 3, positions.size() / 3),
                                       *job.mrope),
                  options);
    else
      rotate_copy(space, packed(cu), qv, kv, qo, ko, source, token_positions(positions), options);
    space.fence("kokkos-rope: rotate_copy");
    download_values<T>(space, qo, q_out);
    if (has_k) download_values<T>(space, ko, k_out);
    return;
  }
  using V = Kokkos::View<T****, Kokkos::LayoutRight, Mem>;
  const auto& qs = job.q_shape;
  std::vector<std::int64_t> ks = job.k_shape;
  if (!has_k) ks = job.layout == Layout::bshd ? std::vector<std::int64_t>{qs[0], qs[1], 0, qs[3]}
                                              : std::vector<std::int64_t>{qs[0], 0, qs[2], qs[3]};
  auto make = [&](const std::string& label, const std::vector<std::int64_t>& s) {
    return V(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, label), ext(s, 0), ext(s, 1), ext(s, 2), ext(s, 3));
  };
  V qv = make("kokkos-rope::q", qs), kv = make("kokkos-rope::k", ks);
  V qo = make("kokkos-rope::q_out", qs), ko = make("kokkos-rope::k_out", ks);
  const std::size_t batch = ext(qs, 0), seq = job.layout == Layout::bshd ? ext(qs, 1) : ext(qs, 2);
  upload_values<T>(space, qv, q);
  if (has_k) upload_values<T>(space, kv, k);
  const auto rotate_grid = [&](const auto& positions) {
    if (job.layout == Layout::bshd)
      rotate_copy(space, bshd, qv, kv, qo, ko, source, positions, options);
    else
      rotate_copy(space, bhsd, qv, kv, qo, ko, source, positions, options);
  };
  if (job.mrope)
    rotate_grid(multimodal_positions(
        Kokkos::View<std::int64_t***, Kokkos::LayoutRight, Mem, Unmanaged>(positions.data(), 3, batch, seq),
        *job.mrope));
  else
    rotate_grid(token_positions(
        Kokkos::View<std::int64_t**, Kokkos::LayoutRight, Mem, Unmanaged>(positions.data(), batch, seq)));
  space.fence("kokkos-rope: rotate_copy");
  download_values<T>(space, qo, q_out);
  if (has_k) download_values<T>(space, ko, k_out);
}

template <class T>
void run_typed(int space, const RotationJob& job, const std::vector<double>& q,
               const std::vector<double>& k, std::vector<double>& q_out, std::vector<double>& k_out) {
  with_space(space, [&](const auto& instance) { run_in_space<std::decay_t<decltype(instance)>, T>(instance, job, q, k, q_out, k_out); });
}

// --- rotate_and_cache: q rotated in place, rotated k and v into a paged cache -----------------

template <class C>
C cache_zero() {
  if constexpr (KokkosRope::Impl::is_float8_v<C>) return C(0.0f);
  else return from_double<C>(0.0);
}

/// A cache View's values (the tensors' dtype, as double) or fp8 bit patterns, to the host.
template <class C, class Space, class View>
void download_cache(const Space& space, const View& view, std::vector<double>& values, std::vector<std::uint8_t>& bits) {
  auto host = Kokkos::create_mirror_view(Kokkos::WithoutInitializing, view);
  Kokkos::deep_copy(space, host, view);
  space.fence("kokkos-rope: download cache");
  const C* data = host.data();
  if constexpr (KokkosRope::Impl::is_float8_v<C>) {
    bits.resize(view.size());
    for (std::size_t i = 0; i < bits.size(); ++i) bits[i] = data[i].bits;
  } else {
    values.resize(view.size());
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = to_double<C>(data[i]);
  }
}

template <class Space, class T, class C>
void run_cache_in_space(const Space& space, const RotationJob& job, const CacheJob& cj, const std::vector<double>& q,
                        const std::vector<double>& k, const std::vector<double>& v, std::vector<double>& q_out,
                        CacheResult& result) {
  using Mem = typename Space::memory_space;
  using namespace KokkosRope;
  RotateOptions options;
  options.direction = job.backward ? Direction::backward : Direction::forward;
  OnTheFly<Mem> source(space, job.params, job.precision, job.seq_len);
  auto ext = [](const std::vector<std::int64_t>& s, std::size_t i) { return static_cast<std::size_t>(s[i]); };
  const auto positions = upload_indices(space, "kokkos-rope::positions", job.positions);
  const auto slots = upload_indices(space, "kokkos-rope::slots", cj.slots);
  using Unmanaged = Kokkos::MemoryTraits<Kokkos::Unmanaged>;

  // The cache, zero-initialised: [num_blocks, block_size, heads, dim] (NHD) or [.., heads, block_size, ..].
  using CV = Kokkos::View<C****, Kokkos::LayoutRight, Mem>;
  const auto nb = static_cast<std::size_t>(cj.num_blocks), bs = static_cast<std::size_t>(cj.block_size),
             h = static_cast<std::size_t>(cj.kv_heads);
  result.k_shape = cj.hnd ? std::vector<std::int64_t>{cj.num_blocks, cj.kv_heads, cj.block_size, cj.head_dim}
                          : std::vector<std::int64_t>{cj.num_blocks, cj.block_size, cj.kv_heads, cj.head_dim};
  result.v_shape = result.k_shape;
  result.v_shape[3] = cj.v_head_dim;
  CV kc(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "kokkos-rope::k_cache"), nb, cj.hnd ? h : bs,
        cj.hnd ? bs : h, static_cast<std::size_t>(cj.head_dim));
  CV vc(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "kokkos-rope::v_cache"), nb, cj.hnd ? h : bs,
        cj.hnd ? bs : h, static_cast<std::size_t>(cj.v_head_dim));
  Kokkos::deep_copy(space, kc, cache_zero<C>());
  Kokkos::deep_copy(space, vc, cache_zero<C>());
  const float k_scale = Impl::is_float8_v<C> ? cj.k_scale : 1.0f, v_scale = Impl::is_float8_v<C> ? cj.v_scale : 1.0f;

  const auto call = [&](const auto& layout, const auto& qv, const auto& kv, const auto& vv, const auto& pos) {
    if (cj.hnd)
      rotate_and_cache(space, layout, qv, kv, vv, paged_kv_cache(cache_hnd, kc, vc, k_scale, v_scale),
                       slot_mapping(slots), source, pos, options);
    else
      rotate_and_cache(space, layout, qv, kv, vv, paged_kv_cache(cache_nhd, kc, vc, k_scale, v_scale),
                       slot_mapping(slots), source, pos, options);
  };
  // thd runs as bshd with one batch row: the positions are explicit per token (cu_seqlens only
  // shaped them), and the slots are in the same token order. (rotate_and_cache with packed() does
  // not compile in this version of the library.)
  const auto as4 = [&](std::vector<std::int64_t> s) {
    if (job.layout == Layout::thd) s.insert(s.begin(), 1);
    return s;
  };
  const auto qs = as4(job.q_shape), ks = as4(job.k_shape), vs = as4(cj.v_shape);
  const Layout layout = job.layout == Layout::thd ? Layout::bshd : job.layout;
  using V = Kokkos::View<T****, Kokkos::LayoutRight, Mem>;
  auto make = [&](const std::string& label, const std::vector<std::int64_t>& s) {
    return V(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, label), ext(s, 0), ext(s, 1), ext(s, 2), ext(s, 3));
  };
  V qv = make("kokkos-rope::q", qs), kv = make("kokkos-rope::k", ks), vv = make("kokkos-rope::v", vs);
  const std::size_t batch = ext(qs, 0), seq = layout == Layout::bshd ? ext(qs, 1) : ext(qs, 2);
  upload_values<T>(space, qv, q);
  upload_values<T>(space, kv, k);
  upload_values<T>(space, vv, v);
  const auto grid = [&](const auto& pos) {
    if (layout == Layout::bshd) call(bshd, qv, kv, vv, pos);
    else call(bhsd, qv, kv, vv, pos);
  };
  if (job.mrope)
    grid(multimodal_positions(
        Kokkos::View<std::int64_t***, Kokkos::LayoutRight, Mem, Unmanaged>(positions.data(), 3, batch, seq), *job.mrope));
  else
    grid(token_positions(Kokkos::View<std::int64_t**, Kokkos::LayoutRight, Mem, Unmanaged>(positions.data(), batch, seq)));
  space.fence("kokkos-rope: rotate_and_cache");
  download_values<T>(space, qv, q_out);
  download_cache<C>(space, kc, result.k, result.k_bits);
  download_cache<C>(space, vc, result.v, result.v_bits);
}

template <class T>
void run_cache_typed(int space, const RotationJob& job, const CacheJob& cache, const std::vector<double>& q,
                     const std::vector<double>& k, const std::vector<double>& v, std::vector<double>& q_out,
                     CacheResult& result) {
  with_space(space, [&](const auto& instance) {
    using S = std::decay_t<decltype(instance)>;
    switch (cache.dtype) {
      case CacheDType::same: {
        // The library's caches hold KokkosRope::bfloat16, not Kokkos' bhalf_t (the same bits). Where
        // Kokkos has no 16-bit types (host builds), half_t and bhalf_t are float: the dtype of the
        // job, not T, says which cache a bfloat16 job gets.
        using bhalf = Kokkos::Experimental::bhalf_t;
        if constexpr (std::is_same_v<T, bhalf>) {
          if (job.dtype == DType::bf16)
            return run_cache_in_space<S, T, KokkosRope::bfloat16>(instance, job, cache, q, k, v, q_out, result);
        }
        if constexpr (!std::is_same_v<T, bhalf> || std::is_same_v<T, float>)
          return run_cache_in_space<S, T, T>(instance, job, cache, q, k, v, q_out, result);
        else
          throw Error("internal: no cache type for " + dtype_name(job.dtype));
      }
      case CacheDType::f8e4m3:
        return run_cache_in_space<S, T, KokkosRope::float8_e4m3>(instance, job, cache, q, k, v, q_out, result);
      case CacheDType::f8e5m2:
        return run_cache_in_space<S, T, KokkosRope::float8_e5m2>(instance, job, cache, q, k, v, q_out, result);
    }
  });
}

// The engine of one dtype: explicitly instantiated in its own Engine_<dtype>.cpp (so a build
// compiles the four in parallel), declared extern here so no other unit instantiates it again.
#define KOKKOSROPE_TOOL_ENGINE_INSTANCES(EXTERN, T)                                                        \
  EXTERN template void run_typed<T>(int, const RotationJob&, const std::vector<double>&,                \
                                    const std::vector<double>&, std::vector<double>&, std::vector<double>&); \
  EXTERN template void run_cache_typed<T>(int, const RotationJob&, const CacheJob&, const std::vector<double>&, \
                                          const std::vector<double>&, const std::vector<double>&,          \
                                          std::vector<double>&, CacheResult&);

KOKKOSROPE_TOOL_ENGINE_INSTANCES(extern, float)
KOKKOSROPE_TOOL_ENGINE_INSTANCES(extern, double)
KOKKOSROPE_TOOL_ENGINE_INSTANCES(extern, Kokkos::Experimental::half_t)
KOKKOSROPE_TOOL_ENGINE_INSTANCES(extern, Kokkos::Experimental::bhalf_t)

}  // namespace KokkosRopeTool

#endif
