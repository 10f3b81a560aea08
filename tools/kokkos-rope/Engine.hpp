// SPDX-License-Identifier: Apache-2.0
// The rotation engine: host arrays -> Views in an execution space's memory -> rotate_copy ->
// host arrays. Included by one translation unit per element type (Engine_<type>.cpp).
#ifndef KOKKOSROPE_TOOLS_ENGINE_HPP
#define KOKKOSROPE_TOOLS_ENGINE_HPP

#include "Common.hpp"

#include <KokkosRope/Rotate.hpp>

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
  Kokkos::View<std::int64_t*, Mem> positions(
      Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "kokkos-rope::positions"), job.positions.size());
  Kokkos::deep_copy(space, positions,
                    Kokkos::View<const std::int64_t*, Kokkos::HostSpace>(job.positions.data(), job.positions.size()));
  using Unmanaged = Kokkos::MemoryTraits<Kokkos::Unmanaged>;

  if (job.layout == Layout::thd) {
    using V = Kokkos::View<T***, Kokkos::LayoutRight, Mem>;
    const auto& qs = job.q_shape;
    std::vector<std::int64_t> ks = has_k ? job.k_shape : std::vector<std::int64_t>{qs[0], 0, qs[2]};
    V qv(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "kokkos-rope::q"), ext(qs, 0), ext(qs, 1), ext(qs, 2));
    V kv(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "kokkos-rope::k"), ext(ks, 0), ext(ks, 1), ext(ks, 2));
    V qo(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "kokkos-rope::q_out"), ext(qs, 0), ext(qs, 1), ext(qs, 2));
    V ko(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "kokkos-rope::k_out"), ext(ks, 0), ext(ks, 1), ext(ks, 2));
    Kokkos::View<std::int64_t*, Mem> cu(Kokkos::view_alloc(space, Kokkos::WithoutInitializing, "kokkos-rope::cu_seqlens"),
                                        job.cu_seqlens.size());
    upload_values<T>(space, qv, q);
    if (has_k) upload_values<T>(space, kv, k);
    Kokkos::deep_copy(space, cu, Kokkos::View<const std::int64_t*, Kokkos::HostSpace>(job.cu_seqlens.data(), job.cu_seqlens.size()));
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

}  // namespace KokkosRopeTool

#endif
