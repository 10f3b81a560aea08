// SPDX-License-Identifier: Apache-2.0
// Instance discipline, observed through Kokkos Tools callbacks (as ArborX's tests do): every
// kernel and fence of a library call runs on the instance that was passed, there is no global
// fence, and every kernel and allocation carries the "KokkosRope::" label prefix.
#include "TestCategory.hpp"

#include <KokkosRope.hpp>

#include <optional>
#include <string>
#include <vector>

namespace {

struct Recorded {
  std::vector<std::pair<std::string, std::uint32_t>> kernels, fences;
  std::vector<std::string> allocations;
};
Recorded* recorded = nullptr;

void on_kernel(const char* name, std::uint32_t device, std::uint64_t* id) {
  *id = 0;
  if (recorded) recorded->kernels.emplace_back(name, device);
}
void on_fence(const char* name, std::uint32_t device, std::uint64_t* id) {
  *id = 0;
  if (recorded) recorded->fences.emplace_back(name, device);
}
void on_allocate(Kokkos::Profiling::SpaceHandle, const char* label, const void*, std::uint64_t) {
  if (recorded) recorded->allocations.emplace_back(label);
}

}  // namespace

template <class Space>
class Instances : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(Instances);

TYPED_TEST(Instances, EverythingRunsOnThePassedInstance) {
  using Space = TypeParam;
  using Memory = typename Space::memory_space;
  // A non-default instance where the backend has them (on OpenMP and Serial every instance
  // reports the same id, so there the labels and the absence of global fences carry the test).
  const auto instances = Kokkos::Experimental::partition_space(Space(), 1);
  const Space& space = instances[0];
  const std::uint32_t id = Kokkos::Tools::Experimental::device_id(space);

  KokkosRope::Params p;
  p.head_dim = p.rotary_dim = 64;
  p.scaling = KokkosRope::Llama3Scaling{};
  Kokkos::View<float****, Memory> q("q", 1, 8, 2, 64), k("k", 1, 8, 1, 64);
  Kokkos::View<std::int64_t*, Memory> off("off", 1);
  Kokkos::fence();

  Recorded r;
  recorded = &r;
  Kokkos::Tools::Experimental::set_begin_parallel_for_callback(on_kernel);
  Kokkos::Tools::Experimental::set_begin_parallel_reduce_callback(on_kernel);
  Kokkos::Tools::Experimental::set_begin_fence_callback(on_fence);
  Kokkos::Tools::Experimental::set_allocate_data_callback(on_allocate);
  // The sources outlive the recording: freeing a host allocation fences globally (Kokkos), and
  // that is the caller's doing, not the library's.
  std::optional<KokkosRope::Table<Memory>> table;
  std::optional<KokkosRope::OnTheFly<Memory>> on_the_fly;
  table.emplace(space, p, 64);
  on_the_fly.emplace(space, p);
  KokkosRope::rotate(space, KokkosRope::bshd, q, k, *table, KokkosRope::sequence_offsets(off));
  KokkosRope::rotate(space, KokkosRope::bshd, q, k, *on_the_fly);
  space.fence("KokkosRopeTest::done");
  Kokkos::Tools::Experimental::set_begin_parallel_for_callback(nullptr);
  Kokkos::Tools::Experimental::set_begin_parallel_reduce_callback(nullptr);
  Kokkos::Tools::Experimental::set_begin_fence_callback(nullptr);
  Kokkos::Tools::Experimental::set_allocate_data_callback(nullptr);
  recorded = nullptr;

  ASSERT_GE(r.kernels.size(), 3u);  // table build, position check, two rotations
  for (const auto& [name, device] : r.kernels) {
    EXPECT_EQ(device, id) << "kernel " << name << " ran off the passed instance";
    EXPECT_EQ(name.rfind("KokkosRope::", 0), 0u) << "kernel label " << name;
  }
  for (const auto& [name, device] : r.fences) {
    if (name == "KokkosRopeTest::done") continue;
    // Kokkos Tools' own fence around callbacks, present only because this test attached a tool.
    if (name.find("Kokkos Profile Tool Fence") != std::string::npos) continue;
    EXPECT_EQ(device, id) << "fence '" << name << "' is not on the passed instance (a global fence?)";
  }
  ASSERT_FALSE(r.allocations.empty());
  for (const auto& label : r.allocations) {
    // The backend's own team-scratch pool grows on first use of a TeamPolicy with scratch.
    if (label.rfind("Kokkos::", 0) == 0 && label.find("scratch") != std::string::npos) continue;
    EXPECT_EQ(label.rfind("KokkosRope::", 0), 0u) << "allocation label " << label;
  }
}
