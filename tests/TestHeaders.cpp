// SPDX-License-Identifier: Apache-2.0
// The generated version header agrees with the CMake project version; each public header is
// also compiled alone by the kokkosrope_header_check target (tests/CMakeLists.txt).
#include <KokkosRope/Version.hpp>

#include <gtest/gtest.h>

TEST(Headers, VersionMacros) {
  EXPECT_EQ(KOKKOSROPE_VERSION, KOKKOSROPE_VERSION_MAJOR * 10000 + KOKKOSROPE_VERSION_MINOR * 100 + KOKKOSROPE_VERSION_PATCH);
  EXPECT_EQ(std::string(KOKKOSROPE_VERSION_STRING), std::to_string(KOKKOSROPE_VERSION_MAJOR) + "." +
                                                        std::to_string(KOKKOSROPE_VERSION_MINOR) + "." +
                                                        std::to_string(KOKKOSROPE_VERSION_PATCH));
}
