// SPDX-License-Identifier: Apache-2.0
// Kokkos Tools callbacks as a test probe: while a ToolsProbe lives, every kernel launch, fence and
// deep copy of the process is recorded (by label), so a test can count which kernel paths ran
// and assert that a call neither waited for its instance nor copied anything back to the host.
#ifndef KOKKOSROPE_TEST_TOOLSPROBE_HPP
#define KOKKOSROPE_TEST_TOOLSPROBE_HPP

#include <Kokkos_Core.hpp>

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace KokkosRopeTest {

class ToolsProbe {
 public:
  ToolsProbe() {
    std::lock_guard<std::mutex> lock(mutex());
    events() = {};
    namespace T = Kokkos::Tools::Experimental;
    T::set_begin_parallel_for_callback(&on_for);
    T::set_begin_parallel_reduce_callback(&on_reduce);
    T::set_begin_parallel_scan_callback(&on_scan);
    T::set_begin_fence_callback(&on_fence);
    T::set_begin_deep_copy_callback(&on_deep_copy);
  }
  ~ToolsProbe() {
    namespace T = Kokkos::Tools::Experimental;
    T::set_begin_parallel_for_callback(nullptr);
    T::set_begin_parallel_reduce_callback(nullptr);
    T::set_begin_parallel_scan_callback(nullptr);
    T::set_begin_fence_callback(nullptr);
    T::set_begin_deep_copy_callback(nullptr);
  }
  ToolsProbe(const ToolsProbe&) = delete;
  ToolsProbe& operator=(const ToolsProbe&) = delete;

  struct Events {
    std::map<std::string, int> kernels;     // parallel_for labels -> launches
    std::vector<std::string> reductions;    // parallel_reduce / parallel_scan labels
    std::vector<std::string> fences;        // fence labels
    std::vector<std::string> copies;        // deep copies: "src space:src label -> dst space:dst label"
    std::vector<std::string> copy_targets;  // their destination labels
  };
  /// What was recorded so far.
  Events events_so_far() const {
    std::lock_guard<std::mutex> lock(mutex());
    return events();
  }
  /// Launches whose label contains `part`.
  int launches_containing(const std::string& part) const {
    std::lock_guard<std::mutex> lock(mutex());  // no copy of the events: loops call this per case
    int n = 0;
    for (const auto& [label, count] : events().kernels)
      if (label.find(part) != std::string::npos) n += count;
    return n;
  }

 private:
  static std::mutex& mutex() {
    static std::mutex m;
    return m;
  }
  static Events& events() {
    static Events e;
    return e;
  }
  static void on_for(const char* name, std::uint32_t, std::uint64_t* id) {
    *id = 0;
    std::lock_guard<std::mutex> lock(mutex());
    ++events().kernels[name];
  }
  static void on_reduce(const char* name, std::uint32_t, std::uint64_t* id) {
    *id = 0;
    std::lock_guard<std::mutex> lock(mutex());
    events().reductions.emplace_back(name);
  }
  static void on_scan(const char* name, std::uint32_t, std::uint64_t* id) {
    *id = 0;
    std::lock_guard<std::mutex> lock(mutex());
    events().reductions.emplace_back(name);
  }
  static void on_fence(const char* name, std::uint32_t, std::uint64_t* id) {
    *id = 0;
    // Kokkos fences around each launch while a tool is attached ("Kokkos::Tools::..."): the
    // probe's own, not the code's under test.
    if (std::string(name).rfind("Kokkos::Tools::", 0) == 0) return;
    std::lock_guard<std::mutex> lock(mutex());
    events().fences.emplace_back(name);
  }
  static void on_deep_copy(Kokkos::Tools::SpaceHandle dst, const char* dst_name, const void*,
                           Kokkos::Tools::SpaceHandle src, const char* src_name, const void*, std::uint64_t) {
    std::lock_guard<std::mutex> lock(mutex());
    events().copies.push_back(std::string(src.name) + ":" + src_name + " -> " + dst.name + ":" + dst_name);
    events().copy_targets.emplace_back(dst_name);
  }
};

}  // namespace KokkosRopeTest

#endif
