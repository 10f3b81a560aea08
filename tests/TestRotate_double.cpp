// SPDX-License-Identifier: Apache-2.0
#include "TestRotate.hpp"

KOKKOSROPE_ROTATE_TESTS(Rotate_double, double)
