// SPDX-License-Identifier: Apache-2.0
// The serving kernels on every layout (bshd, bhsd, packed with and without cu_seqlens), positions
// kind (implicit, offsets, per token, multimodal), slot scheme and kernel path, from a table and
// on the fly, against the composition of the unfused operations (KvCacheHarness.hpp), bit for bit.
#include "TestCategory.hpp"

#include "KvCacheHarness.hpp"

using namespace KokkosRope;
using namespace KokkosRopeTest;

template <class Space>
class KvCacheLayouts : public ::testing::Test {};
KOKKOSROPE_TYPED_TEST_SUITE(KvCacheLayouts);

TYPED_TEST(KvCacheLayouts, EveryLayoutPositionsAndSource) {
  using Space = TypeParam;
  const auto paths = cache_kernel_paths<Space>();
  int n = 0, failures = 0;
  for (auto layout : {LayoutKind::bshd, LayoutKind::bhsd, LayoutKind::packed_cu, LayoutKind::packed_one})
    for (auto slots : {SlotKind::mapping, SlotKind::table})
      for (auto path : paths)
        for (int source = 0; source < 5; ++source) {  // four positions kinds from a table, then on the fly
          // A block table's slots depend on the layout, not the positions: implicit ones only.
          if (slots == SlotKind::table && source % 4 != static_cast<int>(PosKind::implicit)) continue;
          CacheHarness<Space, bfloat16, bfloat16, true> h;
          h.c.layout = layout;
          h.c.slots = slots;
          h.c.path = path;
          h.c.on_the_fly = source == 4;
          h.c.positions = static_cast<PosKind>(source % 4);
          h.c.pair = n % 2 ? PairStyle::interleaved : PairStyle::half_split;
          h.c.rotary_dim = n % 3 == 1 ? 32 : 64;
          h.c.copy_q = n % 5 >= 3;
          ++n;
          failures += h.run();
        }
  EXPECT_EQ(failures, 0);
  ::testing::Test::RecordProperty("cases", n);
}
