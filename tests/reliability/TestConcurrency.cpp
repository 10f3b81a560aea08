// SPDX-License-Identifier: Apache-2.0
// Two independent rotations on two instances of one execution space (partition_space), launched
// from two host threads at once, give bitwise what the same calls give one after the other.
#include "TestCategory.hpp"

#include <KokkosRope.hpp>

#include <KokkosRopeTesting_Fill.hpp>
#include <KokkosRopeTesting_Models.hpp>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace {

using KokkosRopeTesting::fill;

template <class View>
std::vector<unsigned char> bytes(const View& v) {
  auto h = Kokkos::create_mirror_view_and_copy(Kokkos::HostSpace{}, v);
  std::vector<unsigned char> out(h.span() * sizeof(typename View::value_type));
  std::memcpy(out.data(), h.data(), out.size());
  return out;
}

// Job A: bf16, bshd, a table, per-sequence offsets. Job B: float, packed varlen, on the fly,
// interleaved, backward, out of place.
template <class Space>
struct Jobs {
  using Memory = typename Space::memory_space;
  Kokkos::View<KokkosRope::bfloat16****, Memory> qa, ka;
  Kokkos::View<std::int64_t*, Memory> offsets;
  Kokkos::View<float***, Memory> qb_in, qb_out, kb;
  Kokkos::View<int*, Memory> cu;
  KokkosRope::Params pa, pb;

  explicit Jobs(const Space& space)
      : qa("qa", 2, 700, 8, 128), ka("ka", 2, 700, 2, 128), offsets("offsets", 2), qb_in("qb_in", 1200, 6, 64),
        qb_out("qb_out", 1200, 6, 64), kb("kb", 1200, 3, 64), cu("cu", 4) {
    fill(space, qa, 1);
    fill(space, ka, 2);
    fill(space, qb_in, 3);
    fill(space, kb, 4);
    auto h_off = Kokkos::create_mirror_view(offsets);
    h_off(0) = 5000;
    h_off(1) = 123456;
    Kokkos::deep_copy(space, offsets, h_off);
    auto h_cu = Kokkos::create_mirror_view(cu);
    h_cu(0) = 0, h_cu(1) = 500, h_cu(2) = 501, h_cu(3) = 1200;
    Kokkos::deep_copy(space, cu, h_cu);
    space.fence();
    pa = KokkosRopeTesting::llama31();
    pb.head_dim = 64;
    pb.rotary_dim = 32;
    pb.pair_style = KokkosRope::PairStyle::interleaved;
    KokkosRope::YarnScaling yarn;
    yarn.factor = 4.0;
    yarn.original_max_position_embeddings = 4096;
    pb.scaling = yarn;
  }
  void run_a(const Space& space) const {
    KokkosRope::Table<Memory, float> table(space, pa, 124200);
    KokkosRope::rotate(space, KokkosRope::bshd, qa, ka, table, KokkosRope::sequence_offsets(offsets));
    space.fence();  // the table is freed at scope exit
  }
  void run_b(const Space& space) const {
    KokkosRope::OnTheFly<Memory> src(space, pb);
    KokkosRope::RotateOptions opts;
    opts.direction = KokkosRope::Direction::backward;
    Kokkos::View<const float***, Memory> in = qb_in;
    KokkosRope::rotate_copy(space, KokkosRope::packed(cu), in, kb, qb_out, kb, src, KokkosRope::ImplicitPositions{},
                            opts);
    space.fence();
  }
};

}  // namespace

template <class Space>
class Concurrency : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(Concurrency);

TYPED_TEST(Concurrency, TwoInstancesFromTwoThreadsMatchSequentialCalls) {
  using Space = TypeParam;
  const Space space;
  Jobs<Space> seq(space);
  seq.run_a(space);
  seq.run_b(space);
  const auto want_qa = bytes(seq.qa), want_ka = bytes(seq.ka), want_qb = bytes(seq.qb_out), want_kb = bytes(seq.kb);
  const auto untouched = [&] {
    Jobs<Space> fresh(space);
    return bytes(fresh.qa);
  }();
  ASSERT_NE(want_qa, untouched) << "job A did not rotate anything";

  const auto instances = Kokkos::Experimental::partition_space(space, 1, 1);
  for (int round = 0; round < 3; ++round) {
    Jobs<Space> par(space);
    std::thread a([&] { par.run_a(instances[0]); });
    std::thread b([&] { par.run_b(instances[1]); });
    a.join();
    b.join();
    EXPECT_EQ(bytes(par.qa), want_qa) << "round " << round;
    EXPECT_EQ(bytes(par.ka), want_ka) << "round " << round;
    EXPECT_EQ(bytes(par.qb_out), want_qb) << "round " << round;
    EXPECT_EQ(bytes(par.kb), want_kb) << "round " << round;
  }
}
