// SPDX-License-Identifier: Apache-2.0
#ifndef KOKKOSROPE_TEST_ERRORMATCHERS_HPP
#define KOKKOSROPE_TEST_ERRORMATCHERS_HPP

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

// Asserts that `statement` throws std::invalid_argument whose message contains `needle`.
#define KOKKOSROPE_EXPECT_INVALID(statement, needle)                                          \
  do {                                                                                        \
    bool kokkosrope_thrown = false;                                                           \
    try {                                                                                     \
      statement;                                                                              \
    } catch (const std::invalid_argument& e) {                                                \
      kokkosrope_thrown = true;                                                               \
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)                        \
          << "message: " << e.what() << "\nexpected to contain: " << (needle);                \
    }                                                                                         \
    EXPECT_TRUE(kokkosrope_thrown) << #statement " did not throw std::invalid_argument";      \
  } while (0)

#endif
