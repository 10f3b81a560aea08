// SPDX-License-Identifier: Apache-2.0
// KokkosRope::bfloat16: the 2-byte bf16 storage type of every backend.
#include "TestRotate.hpp"

KOKKOSROPE_ROTATE_TESTS(Rotate_bfloat16, KokkosRope::bfloat16)
