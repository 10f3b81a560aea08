// SPDX-License-Identifier: Apache-2.0
#ifndef KOKKOSROPE_TEST_ERRORMATCHERS_HPP
#define KOKKOSROPE_TEST_ERRORMATCHERS_HPP

#include <KokkosRope/Error.hpp>
#include <gtest/gtest.h>

#include <string>

// Asserts that `statement` throws KokkosRope::InvalidArgument (the library's one exception type,
// a std::invalid_argument) whose message contains `needle`.
#define KOKKOSROPE_EXPECT_INVALID(statement, needle)                                            \
  do {                                                                                          \
    bool kokkosrope_thrown = false;                                                             \
    try {                                                                                       \
      statement;                                                                                \
    } catch (const KokkosRope::InvalidArgument& e) {                                            \
      kokkosrope_thrown = true;                                                                 \
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)                          \
          << "message: " << e.what() << "\nexpected to contain: " << (needle);                  \
    }                                                                                           \
    EXPECT_TRUE(kokkosrope_thrown) << #statement " did not throw KokkosRope::InvalidArgument";  \
  } while (0)

#endif
